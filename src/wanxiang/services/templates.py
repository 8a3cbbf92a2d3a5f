"""Templates of every Tag: create, update, describe, delete. Each Tag says where its params live
in the request and how the response names them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wanxiang.model import times
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.ids import TEMPLATE_PREFIX, new_id
from wanxiang.model.template import Template
from wanxiang.model.tree import Tree, child, text
from wanxiang.services.context import BucketContext
from wanxiang.services.listing import page_params
from wanxiang.services.validation import check_template_params
from wanxiang.store.store import Store

# Tag -> the request's params: a named child, or (None) the top-level fields listed.
NESTED_PARAMS = {"PicProcess": "PicProcess", "SpeechRecognition": "SpeechRecognition"}
TOP_LEVEL_PARAMS = {"Animation": ("Container", "Video", "TimeInterval")}
TEMPLATE_TAGS = set(NESTED_PARAMS) | set(TOP_LEVEL_PARAMS)
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

    def describe(self, ctx: BucketContext, params: Mapping[str, str]) -> tuple[list[Template], int, int, int, list[str]]:
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
            return [], 0, number, size, []
        found, total = self.store.templates.list(
            ctx.bucket_id, tag=tag, ids=ids, name=p.get("name"), page_number=number, page_size=size
        )
        missing = [i for i in ids if i not in {t.template_id for t in found}] if ids else []
        return found, total, number, size, missing

    def _existing(self, ctx: BucketContext, template_id: str) -> Template:
        template = self.store.templates.get(ctx.bucket_id, template_id)
        if template is None:
            raise CIError(404, "NoSuchTemplate", f"The template {template_id!r} does not exist in bucket {ctx.bucket_id}.")
        return template

    def _parse(self, request: Tree, default_tag: str | None = None) -> tuple[str, str, Tree]:
        tag = text(request, "Tag").strip() or (default_tag or "")
        if not tag:
            raise invalid_argument("Tag is required.")
        if tag not in TEMPLATE_TAGS:
            raise invalid_argument(f"Tag {tag!r} templates are not supported; supported: {', '.join(sorted(TEMPLATE_TAGS))}.")
        name = text(request, "Name").strip()
        if not name:
            raise invalid_argument("Name is required.")
        if len(name) > MAX_NAME:
            raise invalid_argument(f"Name may be at most {MAX_NAME} characters.")
        if tag in NESTED_PARAMS:
            params = child(request, NESTED_PARAMS[tag])
            if params is None:
                raise invalid_argument(f"{NESTED_PARAMS[tag]} is required for a {tag} template.")
        else:
            params = {k: request[k] for k in TOP_LEVEL_PARAMS[tag] if k in request}
            if not params:
                raise invalid_argument(f"A {tag} template needs {', '.join(TOP_LEVEL_PARAMS[tag])}.")
        if tag == "PicProcess" and not text(params, "ProcessRule").strip():
            raise invalid_argument("PicProcess.ProcessRule is required.")
        check_template_params(tag, params)
        return tag, name, params
