"""Jobs: submit (one or several Operations), get by ids, list with every filter, cancel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wanxiang.model import times
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.ids import new_id
from wanxiang.model.job import FAMILY_JOB_PREFIX, TAG_FAMILY, Job, JobState, QueueFamily, Tag
from wanxiang.model.tree import Tree, as_list, child, text
from wanxiang.services import validation
from wanxiang.services.context import BucketContext
from wanxiang.services.listing import parse_list_common
from wanxiang.services.styles import StyleService, expand_styles
from wanxiang.store.jobs import JobFilter, QueueFull
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store

MAX_OPERATIONS = 6
MAX_PAGE = 100
# Tags whose jobs need no Output (their result is in the job itself).
NO_OUTPUT_TAGS = {Tag.WORDS_GENERALIZE}
# Tags that can run from inline params alone; the others need TemplateId or their params node.
PARAMS_OPTIONAL = {Tag.WORDS_GENERALIZE}
# A list on a family path without a tag lists that family's tag.
FAMILY_DEFAULT_TAG = {"pic_jobs": Tag.PIC_PROCESS, "asr_jobs": Tag.SPEECH_RECOGNITION}


@dataclass
class JobService:
    store: Store
    allow_private_callbacks: bool = False
    clock: Callable[[], datetime] = times.now

    # -- submit -------------------------------------------------------------------------------

    def submit(self, ctx: BucketContext, request: Tree, *, path_family: str = "jobs") -> list[Job]:
        self.store.queues.ensure_bucket(ctx.bucket_id, ctx.region, self.clock())
        jobs = self.build(ctx, request, path_family=path_family)
        try:
            self.store.jobs.insert(jobs, bounded=True)
        except QueueFull as full:
            raise CIError(
                400,
                "InvalidRequest",
                f"The queue {full.queue_id} already holds {full.cap} Submitted jobs, its MaxSize; "
                "submit again when some have started, or raise MaxSize.",
            ) from None
        return jobs

    def build(self, ctx: BucketContext, request: Tree, *, path_family: str = "jobs") -> list[Job]:
        """The validated jobs a request describes, not stored (batch jobs and workflows store them)."""
        operations = as_list(request.get("Operation"))
        top_tag = text(request, "Tag").strip()
        if not operations or not all(isinstance(op, dict) for op in operations):
            raise invalid_argument("Operation is required.")
        if len(operations) > MAX_OPERATIONS:
            raise invalid_argument(f"At most {MAX_OPERATIONS} Operation elements are allowed.")
        if len(operations) > 1 or (not top_tag and text(operations[0], "Tag")):
            tags = [text(op, "Tag").strip() for op in operations]
        else:
            if not top_tag and path_family in FAMILY_DEFAULT_TAG:
                top_tag = FAMILY_DEFAULT_TAG[path_family]
            tags = [top_tag]
        input_tree = child(request, "Input")
        if input_tree is None:
            raise invalid_argument("Input is required.")
        callback = validation.callback_settings(request, allow_private=self.allow_private_callbacks)
        now = self.clock()
        jobs = [
            self._build(ctx, request, input_tree, op, tag, callback, now)
            for op, tag in zip(operations, tags, strict=True)
        ]
        return jobs

    def _build(
        self, ctx: BucketContext, request: Tree, input_tree: Tree, operation: Tree, tag: str, callback: Tree, now: datetime
    ) -> Job:
        if not tag:
            raise invalid_argument("Tag is required.")
        if tag not in TAG_FAMILY:
            raise invalid_argument(f"Tag {tag!r} is not supported; supported tags: {', '.join(sorted(TAG_FAMILY))}.")
        if not text(input_tree, "Object").strip() and not (tag == Tag.SPEECH_RECOGNITION and text(input_tree, "Url")):
            raise invalid_argument("Input.Object is required.")
        validation.check_user_data(operation)
        level = validation.job_level(operation)
        if tag not in NO_OUTPUT_TAGS and not _no_output_needed(tag, operation):
            validation.check_output(operation)
        family = TAG_FAMILY[tag]
        queue_id = self._queue_for(ctx, text(request, "QueueId").strip(), family)
        echo = dict(operation)
        echo.pop("Tag", None)
        params = self._params(ctx, tag, operation, echo)
        if tag == Tag.PIC_PROCESS:
            params = self._expand_styles(ctx, params)
        validation.check_job_params(tag, {**echo, **params}, input_tree)
        return Job(
            job_id=new_id(FAMILY_JOB_PREFIX[family]),
            bucket_id=ctx.bucket_id,
            region=ctx.region,
            tag=tag,
            queue_id=queue_id,
            state=JobState.SUBMITTED,
            job_level=level,
            input=dict(input_tree),
            operation=echo,
            creation_time=now,
            callback=callback,
            params=params,
        )

    def _queue_for(self, ctx: BucketContext, queue_id: str, family: QueueFamily) -> str:
        if not queue_id:
            return default_queue_id(ctx.bucket_id, family)
        queue = self.store.queues.get(queue_id)
        if queue is None or queue.bucket_id != ctx.bucket_id:
            raise invalid_argument(f"QueueId {queue_id!r} is not a queue of bucket {ctx.bucket_id}.")
        return queue_id

    def _params(self, ctx: BucketContext, tag: str, operation: Tree, echo: Tree) -> Tree:
        template_id = text(operation, "TemplateId").strip()
        if template_id:
            template = self.store.templates.get(ctx.bucket_id, template_id)
            if template is None:
                raise invalid_argument(f"Operation.TemplateId {template_id!r} is not a template of this bucket.")
            if template.tag != tag:
                raise invalid_argument(
                    f"Operation.TemplateId {template_id!r} is a {template.tag} template, not {tag}."
                )
            echo["TemplateName"] = template.name
            return {tag: template.params}
        inline = operation.get(tag)
        if isinstance(inline, dict):
            return {tag: inline}
        if tag in PARAMS_OPTIONAL:
            return {tag: {}}
        raise invalid_argument(f"Operation.TemplateId or Operation.{tag} is required for a {tag} job.")

    def _expand_styles(self, ctx: BucketContext, params: Tree) -> Tree:
        """The rule with its styles expanded now, so a later edit of a style leaves queued jobs as sent."""
        pic = params.get(Tag.PIC_PROCESS)
        rule = text(params, Tag.PIC_PROCESS, "ProcessRule")
        if not isinstance(pic, dict) or "style" not in rule:
            return params
        try:
            expanded = expand_styles(rule, StyleService(self.store).lookup(ctx))
        except CIError as exc:
            raise invalid_argument(f"Operation.PicProcess.ProcessRule: {exc.message}") from exc
        return {**params, Tag.PIC_PROCESS: {**pic, "ProcessRule": expanded}}

    # -- read ---------------------------------------------------------------------------------

    def get(self, ctx: BucketContext, job_ids: list[str]) -> tuple[list[Job], list[str]]:
        ids = [i for i in dict.fromkeys(x.strip() for x in job_ids) if i]
        if not ids:
            raise invalid_argument("At least one job id is required.")
        found = self.store.jobs.get_many(ctx.bucket_id, ids)
        known = {job.job_id for job in found}
        return found, [i for i in ids if i not in known]

    def list(self, ctx: BucketContext, params: Mapping[str, str], *, path_family: str = "jobs") -> tuple[list[Job], str]:
        return self.store.jobs.list(ctx.bucket_id, parse_job_filter(params, path_family))

    def cancel(self, ctx: BucketContext, job_id: str) -> None:
        outcome = self.store.jobs.cancel(ctx.bucket_id, job_id, self.clock())
        if not outcome.found:
            raise CIError(404, "NoSuchJob", f"The job {job_id} does not exist in bucket {ctx.bucket_id}.")
        if not outcome.canceled:
            raise CIError(
                400,
                "InvalidRequest",
                f"The job {job_id} is {outcome.state.value if outcome.state else 'unknown'}; "
                "only Submitted and Running jobs can be canceled.",
            )


def _no_output_needed(tag: str, operation: Tree) -> bool:
    return tag == Tag.TRANSLATION and text(operation, "NoNeedOutput").lower() == "true"


def parse_job_filter(params: Mapping[str, str], path_family: str = "jobs") -> JobFilter:
    """The list filters of the seed, from query parameters looked up case-insensitively."""
    p = {k.lower(): v for k, v in params.items() if v != ""}
    return JobFilter(
        tag=p.get("tag") or FAMILY_DEFAULT_TAG.get(path_family),
        queue_id=p.get("queueid"),
        workflow_id=p.get("workflowid"),
        inventory_trigger_job_id=p.get("inventorytriggerjobid"),
        input_object=p.get("inputobject"),
        window=parse_list_common(params),
    )
