"""Templates of every Tag: create, update, describe, delete. Each Tag's spec says where its params
live in the request and how the response names them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wanxiang.engines import catalog
from wanxiang.model import times
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.ids import TEMPLATE_PREFIX, new_id
from wanxiang.model.page import NumberedPage
from wanxiang.model.template import Template, TemplateShape
from wanxiang.model.tree import Tree
from wanxiang.services.context import BucketContext
from wanxiang.services.listing import page_params
from wanxiang.store.store import Store
from wanxiang.wire.templates import TemplateRequest, parse_template_request


@dataclass
class TemplateService:
    store: Store
    clock: Callable[[], datetime] = times.now

    def create(self, ctx: BucketContext, request: Tree) -> Template:
        parsed = self._parse(request)
        now = self.clock()
        template = Template(
            new_id(TEMPLATE_PREFIX), ctx.bucket_id, parsed.tag, parsed.name, "Custom", parsed.params, now, now
        )
        self.store.templates.insert(template)
        return template

    def update(self, ctx: BucketContext, template_id: str, request: Tree) -> Template:
        existing = self._existing(ctx, template_id)
        parsed = self._parse(request, default_tag=existing.tag)
        if parsed.tag != existing.tag:
            raise invalid_argument(f"Tag cannot change from {existing.tag} to {parsed.tag}.")
        updated = self.store.templates.update(ctx.bucket_id, template_id, parsed.name, parsed.params, self.clock())
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

    def _parse(self, request: Tree, default_tag: str = "") -> TemplateRequest:
        parsed = parse_template_request(request, _shape_of, catalog.template_tags(), default_tag)
        spec = catalog.spec(parsed.tag)
        assert spec is not None
        spec.check_template(parsed.params)
        return parsed


def _shape_of(tag: str) -> TemplateShape | None:
    spec = catalog.spec(tag)
    return spec.template if spec is not None else None
