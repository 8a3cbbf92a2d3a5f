"""Templates of every Tag: create, update, describe, delete. Each Tag says where its params live
in the request and how the response names them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wanxiang.engines import catalog
from wanxiang.model import times
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.ids import TEMPLATE_PREFIX, new_id
from wanxiang.model.page import NumberedPage
from wanxiang.model.template import Template
from wanxiang.model.tree import Tree, child, text
from wanxiang.services.context import BucketContext
from wanxiang.services.listing import page_params
from wanxiang.store.store import Store

MAX_NAME = 128


@dataclass
class TemplateService:
    store: Store
    clock: Callable[[], datetime] = times.now

    def create(self, ctx: BucketContext, request: Tree) -> Template:
        tag, name, params = self._parse(request)
        now = self.clock()
        template = Template(new_id(TEMPLATE_PREFIX), ctx.bucket_id, tag, name, "Custom", params, now, now)
        self.store.templates.insert(template)
        return template

    def update(self, ctx: BucketContext, template_id: str, request: Tree) -> Template:
        existing = self._existing(ctx, template_id)
        tag, name, params = self._parse(request, default_tag=existing.tag)
        if tag != existing.tag:
            raise invalid_argument(f"Tag cannot change from {existing.tag} to {tag}.")
        updated = self.store.templates.update(ctx.bucket_id, template_id, name, params, self.clock())
        assert updated is not None
        return updated

    def delete(self, ctx: BucketContext, template_id: str) -> None:
        self._existing(ctx, template_id)
        self.store.templates.delete(ctx.bucket_id, template_id)

    def describe(self, ctx: BucketContext, params: Mapping[str, str]) -> NumberedPage[Template]:
        p = {k.lower(): v for k, v in params.items() if v != ""}
        category = p.get("category", "Custom")
        if category not in ("Custom", "Official"):
            raise invalid_argument(f"category must be Custom or Official, not {category!r}.")
        ids = [i.strip() for i in p.get("ids", "").split(",") if i.strip()]
        tag = p.get("tag")
        if tag == "All":
            tag = None
        number, size = page_params(p)
        if category == "Official":
            return NumberedPage([], 0, number, size)
        found, total = self.store.templates.list(
            ctx.bucket_id, tag=tag, ids=ids, name=p.get("name"), page_number=number, page_size=size
        )
        missing = [i for i in ids if i not in {t.template_id for t in found}] if ids else []
        return NumberedPage(found, total, number, size, missing)

    def params_names(self, tag: str) -> tuple[str, ...]:
        """The elements a template of ``tag`` renders its params under (empty: the Tag's own name)."""
        spec = catalog.spec(tag)
        return spec.template.response_names if spec is not None and spec.template is not None else ()

    def _existing(self, ctx: BucketContext, template_id: str) -> Template:
        template = self.store.templates.get(ctx.bucket_id, template_id)
        if template is None:
            raise CIError(404, "NoSuchTemplate", f"The template {template_id!r} does not exist in bucket {ctx.bucket_id}.")
        return template

    def _parse(self, request: Tree, default_tag: str | None = None) -> tuple[str, str, Tree]:
        tag = text(request, "Tag").strip() or (default_tag or "")
        if not tag:
            raise invalid_argument("Tag is required.")
        spec = catalog.spec(tag)
        if spec is None or spec.template is None:
            raise invalid_argument(f"Tag {tag!r} templates are not supported; supported: {', '.join(catalog.template_tags())}.")
        shape = spec.template
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
        for name in shape.required_text:
            if not text(params, name).strip():
                raise invalid_argument(f"{tag}.{name} is required.")
        spec.check_template(params)
        return tag, name, params
