"""Template element trees; where a Tag's params render is in its TagSpec (Animation: ``TransTpl`` and ``Animation``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wanxiang.model.errors import invalid_argument
from wanxiang.model.template import Template, TemplateShape
from wanxiang.model.times import format_time
from wanxiang.model.tree import Tree, child, text

MAX_NAME = 128


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


@dataclass(frozen=True)
class TemplateRequest:
    """A template create or update, parsed: its Tag, Name and the Tag's params."""

    tag: str
    name: str
    params: Tree


def parse_template_request(
    request: Tree, shape_of: Callable[[str], TemplateShape | None], supported: Sequence[str], default_tag: str = ""
) -> TemplateRequest:
    """The template a request describes; ``shape_of`` says where a Tag's params sit (None: no templates)."""
    tag = text(request, "Tag").strip() or default_tag
    if not tag:
        raise invalid_argument("Tag is required.")
    shape = shape_of(tag)
    if shape is None:
        raise invalid_argument(f"Tag {tag!r} templates are not supported; supported: {', '.join(supported)}.")
    name = text(request, "Name").strip()
    if not name:
        raise invalid_argument("Name is required.")
    if len(name) > MAX_NAME:
        raise invalid_argument(f"Name may be at most {MAX_NAME} characters.")
    if shape.nested is not None:
        params = child(request, shape.nested)
        if params is None:
            raise invalid_argument(f"{shape.nested} is required for a {tag} template.")
    else:
        params = {k: request[k] for k in shape.fields if k in request}
        if not params:
            raise invalid_argument(f"A {tag} template needs {', '.join(shape.fields)}.")
    for field_name in shape.required_text:
        if not text(params, field_name).strip():
            raise invalid_argument(f"{tag}.{field_name} is required.")
    return TemplateRequest(tag, name, dict(params))
