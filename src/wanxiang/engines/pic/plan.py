"""A ProcessRule parsed once at submit, kept with the job for the worker to reuse.

The job keeps the typed operations as versioned JSON beside the rule they came from. The worker
uses them when the version is the one this code writes and the rule is the job's; otherwise (a job
queued by an older server, or an unparseable rule) it parses the rule itself, so a stored job
always runs — and a rule that does not parse still ends its job Failed with the parser's message.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any, get_args

from wanxiang.engines.pic import operations as ops
from wanxiang.engines.pic.rule import parse_rule
from wanxiang.engines.pic.rule_values import RuleError
from wanxiang.model.tree import Tree, text

PLAN_KEY = "PicProcessPlan"  # beside the Tag's params in the job's stored params; never rendered
PLAN_VERSION = "1"
_KINDS: dict[str, type] = {kind.__name__: kind for kind in get_args(ops.Operation)}


def plan_params(params: Tree) -> Tree:
    """``params`` with the plan of its ProcessRule added; unchanged when the rule does not parse."""
    rule = text(params, "PicProcess", "ProcessRule").strip()
    operations = _encoded_plan(rule)
    if operations is None:
        return params
    return {**params, PLAN_KEY: {"Version": PLAN_VERSION, "Rule": rule, "Operations": operations}}


@functools.lru_cache(maxsize=1024)
def _encoded_plan(rule: str) -> str | None:
    # Submits repeat their rules (a thumbnail size, a watermark): each is parsed once per process.
    # The plan is a string, so the cached value cannot be changed by whoever receives it.
    try:
        return encode(parse_rule(rule))
    except RuleError:
        return None


def planned_operations(operation: Tree) -> list[ops.Operation] | None:
    """The operations stored at submit, if they are of this version and of the job's rule."""
    plan = operation.get(PLAN_KEY)
    rule = text(operation, "PicProcess", "ProcessRule").strip()
    if not isinstance(plan, dict) or text(plan, "Version") != PLAN_VERSION or text(plan, "Rule") != rule:
        return None
    try:
        return decode(text(plan, "Operations"))
    except (ValueError, TypeError, KeyError):
        return None


def encode(operations: list[ops.Operation]) -> str:
    return json.dumps([{"Kind": type(op).__name__, **dataclasses.asdict(op)} for op in operations])


def decode(stored: str) -> list[ops.Operation]:
    items: list[dict[str, Any]] = json.loads(stored)
    decoded: list[ops.Operation] = []
    for item in items:
        fields = dict(item)
        kind = _KINDS[fields.pop("Kind")]
        decoded.append(kind(**fields))
    return decoded
