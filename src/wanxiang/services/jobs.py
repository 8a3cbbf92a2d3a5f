"""Jobs: submit (one or several Operations), get by ids, list with every filter, cancel."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from wanxiang.engines import catalog
from wanxiang.engines.spec import TagSpec
from wanxiang.model import times
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.ids import new_id
from wanxiang.model.job import FAMILY_JOB_PREFIX, Job, JobState, QueueFamily
from wanxiang.model.page import CursorPage
from wanxiang.model.tree import Tree, text
from wanxiang.model.unimplemented import unknown_tag_error
from wanxiang.ops import journal
from wanxiang.services import validation
from wanxiang.services.context import BucketContext
from wanxiang.services.listing import parse_list_common
from wanxiang.services.styles import StyleService, expand_styles
from wanxiang.store.jobs import JobFilter, QueueFull
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store
from wanxiang.wire.submit import JobOperation, SubmitJob

MAX_PAGE = 100


class NeedsStore(Exception):
    """Building these jobs needs a read of the store (raised only when asked to build offline)."""


@dataclass
class JobService:
    store: Store
    allow_private_callbacks: bool = False
    mq_callbacks: bool = False  # a broker is configured: CallBackType TDMQ is accepted
    clock: Callable[[], datetime] = times.now
    styles: StyleService | None = None  # the App's; a JobService built alone makes its own, once

    def __post_init__(self) -> None:
        self._styles = self.styles or StyleService(self.store)

    # -- submit -------------------------------------------------------------------------------

    def submit(self, ctx: BucketContext, request: SubmitJob, *, path_family: str = "jobs") -> list[Job]:
        jobs = self.prepare(ctx, request, path_family=path_family)
        with _refused_when_full():
            self.store.jobs.insert(jobs, bounded=True)
        journal.submitted(jobs, via="api")
        return jobs

    def prepare(
        self, ctx: BucketContext, request: SubmitJob, *, path_family: str = "jobs", offline: bool = False
    ) -> list[Job]:
        """``submit`` up to the insert: the bucket registered, the jobs built and checked. It reads
        the store for a bucket this process has not seen, a QueueId, a TemplateId or a style;
        ``offline``: raise NeedsStore instead (then it is pure CPU, fit for the event loop)."""
        if offline and not self.store.queues.knows(ctx.bucket_id):
            raise NeedsStore
        self.store.queues.ensure_bucket(ctx.bucket_id, ctx.region, self.clock())
        return self.build(ctx, request, path_family=path_family, offline=offline)

    async def commit(self, jobs: list[Job]) -> None:
        """``submit`` from the insert on, for the event loop: returns once the jobs are committed."""
        with _refused_when_full():
            await self.store.jobs.insert_async(jobs, bounded=True)
        journal.submitted(jobs, via="api")

    def build(
        self, ctx: BucketContext, request: SubmitJob, *, path_family: str = "jobs", offline: bool = False
    ) -> list[Job]:
        """The validated jobs a request describes, not stored (batch jobs and workflows store them)."""
        tags = request.tags(default=catalog.default_tag(path_family) or "")
        callback = validation.checked_callback(
            request.callback, allow_private=self.allow_private_callbacks, mq_enabled=self.mq_callbacks
        )
        now = self.clock()
        return [
            self._build(ctx, request, op, tag, callback, now, offline)
            for op, tag in zip(request.operations, tags, strict=True)
        ]

    def _build(
        self,
        ctx: BucketContext,
        request: SubmitJob,
        operation: JobOperation,
        tag: str,
        callback: Tree,
        now: datetime,
        offline: bool,
    ) -> Job:
        if not tag:
            raise invalid_argument("Tag is required.")
        spec = catalog.spec(tag)
        if spec is None:
            raise unknown_tag_error(tag, ", ".join(catalog.tags())) or invalid_argument(
                f"Tag {tag!r} is not supported; supported tags: {', '.join(catalog.tags())}."
            )
        input_tree = request.input
        if not text(input_tree, "Object").strip() and not (spec.input_url_allowed and text(input_tree, "Url")):
            raise invalid_argument("Input.Object is required.")
        if spec.needs_output(operation.no_need_output):
            operation.output.check()
        queue_id = self._queue_for(ctx, request.queue_id, spec.family, offline)
        echo = dict(operation.tree)
        params = self._params(ctx, spec, operation, echo, offline)
        if spec.expands_styles:
            params = self._expand_styles(ctx, tag, params, offline)
        spec.check_job({**echo, **params}, input_tree)
        if spec.plan is not None:
            params = spec.plan(params)
        return Job(
            job_id=new_id(FAMILY_JOB_PREFIX[spec.family]),
            bucket_id=ctx.bucket_id,
            region=ctx.region,
            tag=tag,
            queue_id=queue_id,
            state=JobState.SUBMITTED,
            job_level=operation.job_level,
            input=dict(input_tree),
            operation=echo,
            creation_time=now,
            callback=callback,
            params=params,
        )

    def _queue_for(self, ctx: BucketContext, queue_id: str, family: QueueFamily, offline: bool) -> str:
        if not queue_id:
            return default_queue_id(ctx.bucket_id, family)
        if offline:
            raise NeedsStore
        queue = self.store.queues.get(queue_id)
        if queue is None or queue.bucket_id != ctx.bucket_id:
            raise invalid_argument(f"QueueId {queue_id!r} is not a queue of bucket {ctx.bucket_id}.")
        return queue_id

    def _params(self, ctx: BucketContext, spec: TagSpec, operation: JobOperation, echo: Tree, offline: bool) -> Tree:
        tag = spec.tag
        template_id = operation.template_id
        if template_id:
            if offline:
                raise NeedsStore
            template = self.store.templates.get(ctx.bucket_id, template_id)
            if template is None:
                raise invalid_argument(f"Operation.TemplateId {template_id!r} is not a template of this bucket.")
            if template.tag != tag:
                raise invalid_argument(
                    f"Operation.TemplateId {template_id!r} is a {template.tag} template, not {tag}."
                )
            echo["TemplateName"] = template.name
            return {tag: template.params}
        inline = operation.inline_params(tag)
        if inline is not None:
            return {tag: inline}
        if spec.params_optional:
            return {tag: {}}
        raise invalid_argument(f"Operation.TemplateId or Operation.{tag} is required for a {tag} job.")

    def _expand_styles(self, ctx: BucketContext, tag: str, params: Tree, offline: bool) -> Tree:
        """The rule with its styles expanded now, so a later edit of a style leaves queued jobs as sent."""
        pic = params.get(tag)
        rule = text(params, tag, "ProcessRule")
        if not isinstance(pic, dict) or "style" not in rule:
            return params
        if offline:
            raise NeedsStore
        try:
            expanded = expand_styles(rule, self._styles.lookup(ctx))
        except CIError as exc:
            raise invalid_argument(f"Operation.{tag}.ProcessRule: {exc.message}") from exc
        return {**params, tag: {**pic, "ProcessRule": expanded}}

    # -- read ---------------------------------------------------------------------------------

    def get(self, ctx: BucketContext, job_ids: list[str]) -> tuple[list[Job], list[str]]:
        ids = [i for i in dict.fromkeys(x.strip() for x in job_ids) if i]
        if not ids:
            raise invalid_argument("At least one job id is required.")
        found = self.store.jobs.get_many(ctx.bucket_id, ids)
        known = {job.job_id for job in found}
        return found, [i for i in ids if i not in known]

    def list(self, ctx: BucketContext, params: Mapping[str, str], *, path_family: str = "jobs") -> CursorPage[Job]:
        return CursorPage(*self.store.jobs.list(ctx.bucket_id, parse_job_filter(params, path_family)))

    def cancel(self, ctx: BucketContext, job_id: str) -> None:
        outcome = self.store.jobs.cancel(ctx.bucket_id, job_id, self.clock())
        if not outcome.found:
            raise CIError(404, "NoSuchJob", f"The job {job_id} does not exist in bucket {ctx.bucket_id}.")
        if not (outcome.canceled or outcome.requested):
            raise CIError(
                400,
                "InvalidRequest",
                f"The job {job_id} is {outcome.state.value if outcome.state else 'unknown'}; "
                "only Submitted and Running jobs can be canceled.",
            )
        journal.canceled(ctx.bucket_id, job_id)

    def resubmit(self, ctx: BucketContext, job_id: str) -> Job:
        """A new Submitted job with the Failed job's request (input, operation, params, callback,
        queue), linked to it; the old job stays as it was."""
        found = self.store.jobs.get_many(ctx.bucket_id, [job_id])
        if not found:
            raise CIError(404, "NoSuchJob", f"The job {job_id} does not exist in bucket {ctx.bucket_id}.")
        old = found[0]
        family = catalog.family_of(old.tag)
        if family is None:
            raise CIError(400, "InvalidRequest", f"The job {job_id} has Tag {old.tag}, which this server no longer runs.")
        if old.state != JobState.FAILED:
            raise CIError(400, "InvalidRequest", f"The job {job_id} is {old.state.value}; only Failed jobs can be resubmitted.")
        new = Job(
            job_id=new_id(FAMILY_JOB_PREFIX[family]),
            bucket_id=old.bucket_id,
            region=old.region,
            tag=old.tag,
            queue_id=old.queue_id,
            state=JobState.SUBMITTED,
            job_level=old.job_level,
            input=old.input,
            operation=old.operation,
            creation_time=self.clock(),
            callback=old.callback,
            workflow_id=old.workflow_id,
            inventory_trigger_job_id=old.inventory_trigger_job_id,
            workflow=old.workflow,
            params=old.params,
            resubmitted_from=old.job_id,
        )
        self.store.jobs.insert([new])
        return new


@contextmanager
def _refused_when_full() -> Iterator[None]:
    try:
        yield
    except QueueFull as full:
        raise CIError(
            400,
            "InvalidRequest",
            f"The queue {full.queue_id} already holds {full.cap} Submitted jobs, its MaxSize; "
            "submit again when some have started, or raise MaxSize.",
        ) from None


def parse_job_filter(params: Mapping[str, str], path_family: str = "jobs") -> JobFilter:
    """The list filters of the seed, from query parameters looked up case-insensitively."""
    p = {k.lower(): v for k, v in params.items() if v != ""}
    return JobFilter(
        tag=p.get("tag") or catalog.default_tag(path_family),
        queue_id=p.get("queueid"),
        workflow_id=p.get("workflowid"),
        inventory_trigger_job_id=p.get("inventorytriggerjobid"),
        input_object=p.get("inputobject"),
        window=parse_list_common(params),
    )
