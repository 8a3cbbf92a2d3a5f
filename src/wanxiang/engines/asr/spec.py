"""SpeechRecognition as a Tag: audio to text on the speech queues."""

from __future__ import annotations

from wanxiang.engines.asr.params import validate_speech_recognition
from wanxiang.engines.base import Engine
from wanxiang.engines.spec import TagSpec
from wanxiang.model.job import QueueFamily, Tag
from wanxiang.model.template import TemplateShape


def _engine() -> Engine:
    from wanxiang.engines.asr.engine import SpeechRecognitionEngine

    return SpeechRecognitionEngine()


SPEC = TagSpec(
    tag=Tag.SPEECH_RECOGNITION,
    family=QueueFamily.ASR,
    engine=_engine,
    check_operation=validate_speech_recognition,
    template=TemplateShape(nested="SpeechRecognition"),
    list_path="asr_jobs",
    input_url_allowed=True,
)
