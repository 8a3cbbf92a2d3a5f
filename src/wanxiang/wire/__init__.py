"""XML in and out: the hardened parser and the CI element-tree renderers."""
