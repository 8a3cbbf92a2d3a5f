"""A job submission (``POST /jobs`` and its family paths), parsed once into frozen values.

The parser checks what the request alone can tell and names the field in its message; what
depends on the Tag (is it known, does it need an Output, are its params right) is the job
service's, through the Tag's spec. The Operation tree is kept as sent, to echo back and to give
the engine its tag params.
"""

from __future__ import annotations

from dataclasses import dataclass

from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.job import JOB_LEVELS
from wanxiang.model.notify import MqTarget, parse_mq_config
from wanxiang.model.tree import Tree, as_list, child, text

MAX_OPERATIONS = 6
MAX_USER_DATA = 1024
CALLBACK_FORMATS = ("XML", "JSON")
CALLBACK_TYPES = ("Url", "TDMQ", "Kafka")


@dataclass(frozen=True)
class Output:
    region: str
    bucket: str
    object: str

    def check(self, field_prefix: str = "Operation.Output") -> None:
        """Region, Bucket and a valid Object key are all given."""
        for name, value in (("Region", self.region), ("Bucket", self.bucket), ("Object", self.object)):
            if not value.strip():
                raise invalid_argument(f"{field_prefix}.{name} is required.")
        if "\x00" in self.object or self.object.startswith("/") and self.object.strip("/") == "":
            raise invalid_argument(f"{field_prefix}.Object is not a valid object key: {self.object!r}.")


@dataclass(frozen=True)
class CallBack:
    """A request's own callback settings; ``url`` empty when it has none, ``no`` to turn one off;
    ``mq`` for CallBackType TDMQ."""

    url: str = ""
    format: str = "XML"
    format_given: bool = False
    mq: MqTarget | None = None

    def settings(self) -> Tree:
        """The form the job keeps: {} when none, ``Url`` (and ``Format``) otherwise, or the TDMQ
        target (``Type``, ``MqMode``, ``MqName``, ``MqRegion``)."""
        if self.mq is not None:
            return {
                "Type": "TDMQ",
                "Format": self.format,
                "MqMode": self.mq.mode,
                "MqName": self.mq.name,
                "MqRegion": self.mq.region,
            }
        if not self.url:
            return {"Format": self.format} if self.format_given else {}
        if self.url == "no":
            return {"Url": "no"}
        return {"Url": self.url, "Format": self.format}


@dataclass(frozen=True)
class JobOperation:
    tag: str  # this Operation's own Tag ("" when the request's Tag applies)
    template_id: str
    output: Output
    user_data: str
    job_level: int
    no_need_output: bool
    tree: Tree  # the Operation as sent, without its Tag: echoed in JobsDetail, read by engines

    def inline_params(self, tag: str) -> Tree | None:
        """The params node named by ``tag`` (``<PicProcess>``, ``<Animation>``...), if sent."""
        params = self.tree.get(tag)
        return params if isinstance(params, dict) else None


@dataclass(frozen=True)
class SubmitJob:
    tag: str  # the request's Tag ("" when absent)
    input: Tree
    operations: tuple[JobOperation, ...]
    queue_id: str
    callback: CallBack

    def tags(self, default: str) -> list[str]:
        """One Tag per Operation: their own when several (or when only the Operation names one),
        else the request's, else ``default`` (the family path's Tag)."""
        if len(self.operations) > 1 or (not self.tag and self.operations[0].tag):
            return [op.tag for op in self.operations]
        return [self.tag or default]


def parse_submit_job(request: Tree) -> SubmitJob:
    """The submission a ``<Request>`` tree describes; a CIError naming the field when it cannot be one."""
    # An absent Operation is an empty one: Tags whose params are optional and whose result stays in
    # the job (ImageInspect) need none; the others are refused below by the field they miss.
    operations = [{} if op == "" else op for op in as_list(request.get("Operation"))] or [{}]
    if not all(isinstance(op, dict) for op in operations):
        raise invalid_argument("Operation must be an element with the job's parameters.")
    if len(operations) > MAX_OPERATIONS:
        raise invalid_argument(f"At most {MAX_OPERATIONS} Operation elements are allowed.")
    input_tree = child(request, "Input")
    if input_tree is None:
        raise invalid_argument("Input is required.")
    callback = parse_callback(request)
    return SubmitJob(
        tag=text(request, "Tag").strip(),
        input=dict(input_tree),
        operations=tuple(_operation(op) for op in operations),
        queue_id=text(request, "QueueId").strip(),
        callback=callback,
    )


def parse_callback(request: Tree) -> CallBack:
    """CallBack, CallBackFormat, CallBackType and CallBackMqConfig (Url and TDMQ callbacks)."""
    url = text(request, "CallBack").strip()
    fmt = text(request, "CallBackFormat").strip() or "XML"
    kind = text(request, "CallBackType").strip() or "Url"
    if fmt.upper() not in CALLBACK_FORMATS:
        raise invalid_argument(f"CallBackFormat must be XML or JSON, not {fmt!r}.")
    if kind not in CALLBACK_TYPES:
        raise invalid_argument(f"CallBackType must be Url, TDMQ or Kafka, not {kind!r}.")
    if kind == "Kafka":
        raise CIError(400, "InvalidArgument", f"CallBackType {kind} is not available in wanxiang; use Url or TDMQ.")
    mq = parse_mq_config(child(request, "CallBackMqConfig"), "CallBackMqConfig") if kind == "TDMQ" else None
    return CallBack(url=url, format=fmt.upper(), format_given=bool(text(request, "CallBackFormat")), mq=mq)


def _operation(operation: Tree) -> JobOperation:
    tree = dict(operation)
    tree.pop("Tag", None)
    return JobOperation(
        tag=text(operation, "Tag").strip(),
        template_id=text(operation, "TemplateId").strip(),
        output=Output(
            region=text(operation, "Output", "Region"),
            bucket=text(operation, "Output", "Bucket"),
            object=text(operation, "Output", "Object"),
        ),
        user_data=_user_data(operation),
        job_level=_job_level(operation),
        no_need_output=text(operation, "NoNeedOutput").lower() == "true",
        tree=tree,
    )


def _user_data(operation: Tree) -> str:
    user_data = text(operation, "UserData")
    if len(user_data) > MAX_USER_DATA:
        raise invalid_argument(f"Operation.UserData is {len(user_data)} characters; at most {MAX_USER_DATA} are allowed.")
    if any(not (0x20 <= ord(ch) <= 0x7E) for ch in user_data):
        raise invalid_argument("Operation.UserData must be printable ASCII.")
    return user_data


def _job_level(operation: Tree) -> int:
    raw = text(operation, "JobLevel").strip()
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()) or int(raw) not in JOB_LEVELS:
        raise invalid_argument(f"Operation.JobLevel must be 0, 1 or 2, not {raw!r}.")
    return int(raw)
