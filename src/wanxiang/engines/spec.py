"""What a job Tag is, in one place: the :class:`TagSpec` each engine package declares.

A spec holds every fact the rest of the server needs about a Tag — which queue family runs it,
how its template parameters sit in a request, what it checks at submit, whether it needs an
Output, and how to build its engine — so adding a Tag is its package plus one catalog line.
Specs import only light modules; the engine factory imports the heavy libraries when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from wanxiang.engines.base import EngineFactory
from wanxiang.model.job import QueueFamily
from wanxiang.model.template import TemplateShape
from wanxiang.model.tree import Tree

ParamsCheck = Callable[[Tree], None]
OperationCheck = Callable[[Tree, Tree], None]


class OutputRule(Enum):
    """Whether a job of the Tag needs an Output."""

    REQUIRED = "required"
    NONE = "none"  # the result is in the job itself
    UNLESS_NO_NEED_OUTPUT = "unless NoNeedOutput"  # required unless the request sends NoNeedOutput true


@dataclass(frozen=True)
class TagSpec:
    tag: str
    family: QueueFamily
    engine: EngineFactory
    # Submit-time checks: of the tag's params alone, or of the Operation (params merged) with Input.
    check_params: ParamsCheck | None = None
    check_operation: OperationCheck | None = None
    template: TemplateShape | None = None  # None: the Tag has no templates
    output: OutputRule = OutputRule.REQUIRED
    params_optional: bool = False  # may run without TemplateId or an inline params node
    engine_fills_ext: bool = False  # the engine names its output's extension (``${ext}`` left to it)
    list_path: str | None = None  # a family list path (``pic_jobs``) whose default Tag this is
    input_url_allowed: bool = False  # Input.Url may stand in for Input.Object
    expands_styles: bool = False  # ``style/<name>`` in its ProcessRule is expanded at submit
    # What the Tag works out once at submit from its effective params (after templates and styles)
    # and keeps with them for its engine, e.g. PicProcess's parsed rule.
    plan: Callable[[Tree], Tree] | None = None

    def needs_output(self, no_need_output: bool) -> bool:
        if self.output is OutputRule.UNLESS_NO_NEED_OUTPUT:
            return not no_need_output
        return self.output is OutputRule.REQUIRED

    def check_job(self, operation: Tree, input_tree: Tree) -> None:
        """Submit-time engine checks of a job; ``operation`` has the effective params under the Tag."""
        if self.check_params is not None:
            params = operation.get(self.tag)
            self.check_params(params if isinstance(params, dict) else {})
        if self.check_operation is not None:
            self.check_operation(operation, input_tree)

    def check_template(self, params: Tree) -> None:
        """The same checks for a template's params (no Input or Output yet)."""
        if self.check_params is not None:
            self.check_params(params)
        if self.check_operation is not None:
            self.check_operation({self.tag: params, "NoNeedOutput": "true"}, {"Object": "template"})
