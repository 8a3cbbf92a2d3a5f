"""Image styles: named ProcessRules a bucket keeps, and their expansion wherever rules are used.

A rule part ``style/<name>`` stands for the style's body. Expansion happens where a rule enters
the system (download, Pic-Operations, job submit), so engines never see a style and a queued
job keeps the body it was submitted with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from wanxiang.model import times
from wanxiang.model.errors import invalid_argument
from wanxiang.services.context import BucketContext
from wanxiang.store.store import Store
from wanxiang.store.styles import StyleRule

STYLE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_BODY_CHARS = 4096
# The separator between an object key and a style name on download: ``GET /photo.jpg!thumb``.
SEPARATOR = "!"

StyleLookup = Callable[[str], str | None]


def is_style_name(name: str) -> bool:
    return bool(STYLE_NAME.match(name))


def _style_name_of(part: str) -> str | None:
    """The name a rule part ``style/<name>`` refers to, or None for any other part."""
    tokens = [t for t in part.strip().split("/") if t]
    if not tokens or tokens[0] != "style":
        return None
    if len(tokens) != 2:
        raise invalid_argument(f"A style rule is style/<name>, not {part.strip()!r}.")
    return tokens[1]


def expand_styles(rule: str, lookup: StyleLookup) -> str:
    """``rule`` with each ``style/<name>`` part replaced by that style's body (one level: bodies
    hold no styles). Raises InvalidArgument naming an unknown style."""
    parts = rule.split("|")
    expanded: list[str] = []
    for part in parts:
        name = _style_name_of(part)
        if name is None:
            expanded.append(part)
            continue
        body = lookup(name)
        if body is None:
            raise invalid_argument(f"The style {name!r} does not exist in this bucket.")
        expanded.append(body)
    return "|".join(expanded)


def check_style_name(name: str, field: str = "StyleName") -> str:
    if not is_style_name(name):
        raise invalid_argument(
            f"{field} {name!r} is not a valid style name: 1 to 64 letters, digits, '-', '_' or '.'."
        )
    return name


def check_style_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise invalid_argument("StyleBody is required.")
    if len(body) > MAX_BODY_CHARS:
        raise invalid_argument(f"StyleBody is {len(body)} characters; at most {MAX_BODY_CHARS} are allowed.")
    if any(_style_name_of(part) is not None for part in body.split("|")):
        raise invalid_argument("StyleBody may not name another style.")
    # Imported here: the rule parser's package loads libvips, which job submit paths do not need.
    from wanxiang.engines.pic.rule import RuleError, parse_rule

    try:
        parse_rule(body)
    except RuleError as exc:
        raise invalid_argument(f"StyleBody: {exc}") from exc
    return body


@dataclass
class StyleService:
    store: Store
    clock: Callable[[], datetime] = times.now

    def add(self, ctx: BucketContext, name: str, body: str) -> None:
        self.store.styles.put(ctx.bucket_id, check_style_name(name), check_style_body(body), self.clock())

    def list(self, ctx: BucketContext, names: Sequence[str] = ()) -> list[StyleRule]:
        return self.store.styles.list(ctx.bucket_id, [check_style_name(n) for n in names])

    def delete(self, ctx: BucketContext, names: Sequence[str]) -> int:
        if not names:
            raise invalid_argument("StyleName is required.")
        return self.store.styles.delete(ctx.bucket_id, [check_style_name(n) for n in names])

    def lookup(self, ctx: BucketContext) -> StyleLookup:
        def body_of(name: str) -> str | None:
            found = self.store.styles.get(ctx.bucket_id, name)
            return found.body if found else None

        return body_of

    def expand(self, ctx: BucketContext, rule: str) -> str:
        return expand_styles(rule, self.lookup(ctx))

    def expand_versioned(self, ctx: BucketContext, rule: str) -> tuple[str, str]:
        """``rule`` expanded, and the versions of the styles it named (``name@update-time`` each,
        "" for none): what a result kept for the rule is also keyed by, so that no result made with
        a style's earlier body is served after the style was replaced."""
        used: list[StyleRule] = []

        def body_of(name: str) -> str | None:
            found = self.store.styles.get(ctx.bucket_id, name)
            if found is not None:
                used.append(found)
            return found.body if found else None

        expanded = expand_styles(rule, body_of)
        return expanded, ";".join(f"{s.name}@{s.update_time.isoformat()}" for s in used)
