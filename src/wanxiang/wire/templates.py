"""Template element trees. Animation params render as ``TransTpl`` (docs) and ``Animation`` (GoSDK)."""

from __future__ import annotations

from wanxiang.model.template import Template
from wanxiang.model.times import format_time
from wanxiang.model.tree import Tree


def template_tree(template: Template) -> Tree:
    tree: Tree = {
        "TemplateId": template.template_id,
        "Name": template.name,
        "Tag": template.tag,
        "Category": template.category,
        "BucketId": template.bucket_id,
        "CreateTime": format_time(template.create_time),
        "UpdateTime": format_time(template.update_time),
    }
    if template.tag == "Animation":
        tree["TransTpl"] = template.params
        tree["Animation"] = template.params
    else:
        tree[template.tag] = template.params
    return tree
