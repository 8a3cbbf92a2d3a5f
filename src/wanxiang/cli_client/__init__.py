"""The client side of the ``wanxiang`` command: a signing HTTP client and the commands built on it."""
