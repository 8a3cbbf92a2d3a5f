"""Template element trees; where a Tag's params render is in its TagSpec (Animation: ``TransTpl`` and ``Animation``)."""

from __future__ import annotations

from collections.abc import Sequence

from wanxiang.model.template import Template
from wanxiang.model.times import format_time
from wanxiang.model.tree import Tree


def template_tree(template: Template, params_names: Sequence[str] = ()) -> Tree:
    """The template's tree; its params render under ``params_names`` (the Tag's own by default)."""
    tree: Tree = {
        "TemplateId": template.template_id,
        "Name": template.name,
        "Tag": template.tag,
        "Category": template.category,
        "BucketId": template.bucket_id,
        "CreateTime": format_time(template.create_time),
        "UpdateTime": format_time(template.update_time),
    }
    for name in params_names or (template.tag,):
        tree[name] = template.params
    return tree
