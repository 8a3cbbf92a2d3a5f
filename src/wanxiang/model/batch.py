"""Batch jobs ("inventory trigger jobs"): one child job or workflow run per object of a prefix.

Also the output-key variables shared by batch children and workflow nodes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from wanxiang.model.job import JobState
from wanxiang.model.tree import Tree


class BatchType(StrEnum):
    JOB = "Job"
    WORKFLOW = "Workflow"


@dataclass
class Batch:
    job_id: str
    bucket_id: str
    region: str
    name: str
    type: BatchType
    state: JobState
    input: Tree
    operation: Tree
    creation_time: datetime
    workflow_id: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    code: str = "Success"
    message: str = ""
    cursor: str = ""
    walk_done: bool = False
    submitted: int = 0


@dataclass(frozen=True)
class ChildCounts:
    """How a batch's children stand, by state."""

    by_state: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    def of(self, state: JobState) -> int:
        return int(self.by_state.get(state.value, 0))

    @property
    def unfinished(self) -> int:
        return self.of(JobState.SUBMITTED) + self.of(JobState.RUNNING) + self.of(JobState.PAUSE)


def settled_state(counts: ChildCounts) -> tuple[JobState, str, str] | None:
    """The batch's final (State, Code, Message) once every child finished; None while any runs."""
    if counts.unfinished:
        return None
    failed, canceled = counts.of(JobState.FAILED), counts.of(JobState.CANCEL)
    summary = (
        f"{counts.total} objects: {counts.of(JobState.SUCCESS)} succeeded, {failed} failed, {canceled} canceled."
    )
    if failed or canceled:
        return JobState.FAILED, "PartialFailure" if counts.of(JobState.SUCCESS) else "Failed", summary
    return JobState.SUCCESS, "Success", summary


def in_time_interval(moment: datetime, start: datetime | None, end: datetime | None) -> bool:
    """TimeInterval applies to LastModified; both ends are inclusive."""
    if start is not None and moment < start:
        return False
    return not (end is not None and moment > end)


# -- output key variables -------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{(\w+)\}")


def object_variables(key: str) -> dict[str, str]:
    """The variables an input key defines, keyed by lower-case name."""
    path, _, name_and_ext = key.rpartition("/")
    name, dot, ext = name_and_ext.rpartition(".")
    if not dot:
        name, ext = name_and_ext, ""
    return {
        "inputpath": path,
        "inputname": name,
        "inputnameandext": name_and_ext,
        "ext": ext,
    }


def output_values(key: str, extra: Mapping[str, str], *, engine_fills_ext: bool = False) -> dict[str, str]:
    """The variables for a child job reading ``key``, plus ``extra`` (lower-case names).

    When the child's engine names its own output extension, ``${ext}`` is left for it to fill.
    """
    values = object_variables(key) | dict(extra)
    if engine_fills_ext:
        values.pop("ext", None)
    return values


def fill_variables(template: str, values: Mapping[str, str]) -> str:
    """``${Name}`` replaced from ``values`` (names case-insensitive); unknown names are kept."""

    def one(match: re.Match[str]) -> str:
        return values.get(match.group(1).lower(), match.group(0))

    filled = _VARIABLE.sub(one, template)
    # ${InputPath} of a top-level object is empty: "${InputPath}/x" must not become absolute.
    return filled.lstrip("/")


def with_output_object(operation: Tree, values: Mapping[str, str]) -> Tree:
    """A copy of ``operation`` whose Output.Object has its variables filled in."""
    output = operation.get("Output")
    if not isinstance(output, dict) or not isinstance(output.get("Object"), str):
        return operation
    copy = dict(operation)
    copy["Output"] = dict(output, Object=fill_variables(output["Object"], values))
    return copy
