"""Jobs: their tags, states, priorities and the record the store keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from wanxiang.model.tree import Tree


class JobState(StrEnum):
    SUBMITTED = "Submitted"
    RUNNING = "Running"
    SUCCESS = "Success"
    FAILED = "Failed"
    PAUSE = "Pause"
    CANCEL = "Cancel"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCESS, JobState.FAILED, JobState.CANCEL)


ALL_STATES = tuple(JobState)


class Tag(StrEnum):
    PIC_PROCESS = "PicProcess"
    ANIMATION = "Animation"
    TRANSLATION = "Translation"
    SPEECH_RECOGNITION = "SpeechRecognition"
    WORDS_GENERALIZE = "WordsGeneralize"
    IMAGE_INSPECT = "ImageInspect"


class QueueFamily(StrEnum):
    """The queue families of CI, named by their URL path."""

    PIC = "picqueue"
    MEDIA = "queue"
    AI = "ai_queue"
    ASR = "asrqueue"


# The id prefix a family's jobs get (which family runs a Tag is in its TagSpec, engines/catalog.py).
FAMILY_JOB_PREFIX: dict[QueueFamily, str] = {
    QueueFamily.PIC: "c",
    QueueFamily.MEDIA: "j",
    QueueFamily.AI: "a",
    QueueFamily.ASR: "s",
}
FAMILY_CATEGORY: dict[QueueFamily, str] = {
    QueueFamily.PIC: "PicProcessing",
    QueueFamily.MEDIA: "Transcoding",
    QueueFamily.AI: "AIProcess",
    QueueFamily.ASR: "SpeechRecognition",
}

JOB_LEVELS = (0, 1, 2)


@dataclass(frozen=True)
class Job:
    """One job as the store keeps it. ``input`` and ``operation`` are element trees as submitted
    (the Operation keeps the request's params; result nodes are added on finish)."""

    job_id: str
    bucket_id: str
    region: str
    tag: str
    queue_id: str
    state: JobState
    job_level: int
    input: Tree
    operation: Tree
    creation_time: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    code: str = "Success"
    message: str = ""
    progress: int | None = None
    callback: Tree = field(default_factory=dict)
    workflow_id: str = ""
    inventory_trigger_job_id: str = ""
    workflow: Tree | None = None
    result: Tree = field(default_factory=dict)
    # The effective tag parameters (a template's, or the inline ones), fixed at submit time so a
    # later template edit does not change a queued job.
    params: Tree = field(default_factory=dict)
    # The Failed job this one was resubmitted from (the console's resubmit), or ''.
    resubmitted_from: str = ""

    @property
    def input_object(self) -> str:
        value = self.input.get("Object", "")
        return value if isinstance(value, str) else ""
