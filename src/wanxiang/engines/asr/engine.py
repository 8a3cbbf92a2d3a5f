"""The SpeechRecognition engine: decode, pick the recogniser for EngineModelType, render."""

from __future__ import annotations

import threading

from wanxiang.engines.asr.audio import decode_audio
from wanxiang.engines.asr.config import asr_engine_specs
from wanxiang.engines.asr.params import UNSUPPORTED_TYPE
from wanxiang.engines.asr.recognizers import PocketsphinxRecognizer, VoskRecognizer, WhisperRecognizer
from wanxiang.engines.asr.render import output_document, speech_recognition_result
from wanxiang.engines.asr.transcript import Recognizer
from wanxiang.engines.base import EngineJob, JobIO
from wanxiang.model.errors import JobFailure
from wanxiang.model.tree import Tree, child, text


def build_recognizer(spec: str) -> Recognizer:
    """A recogniser from a spec such as ``pocketsphinx``, ``whisper:/models/small``, ``vosk:/models/ja``."""
    kind, _, argument = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "pocketsphinx":
        return PocketsphinxRecognizer(argument or None)
    if kind == "whisper" and argument:
        return WhisperRecognizer(argument)
    if kind == "vosk" and argument:
        return VoskRecognizer(argument)
    raise JobFailure(UNSUPPORTED_TYPE, f"The speech engine spec {spec!r} is not understood.")


class SpeechRecognitionEngine:
    tag = "SpeechRecognition"

    def __init__(self) -> None:
        self.specs = asr_engine_specs()
        self._recognizers: dict[str, Recognizer] = {}
        self._lock = threading.Lock()

    def recognizer_for(self, model_type: str) -> Recognizer:
        spec = self.specs.get(model_type)
        if spec is None:
            configured = ", ".join(sorted(self.specs)) or "none"
            raise JobFailure(
                UNSUPPORTED_TYPE,
                f"No speech engine is configured for EngineModelType {model_type!r} "
                f"(configured: {configured}; see WANXIANG_ASR_ENGINES).",
            )
        with self._lock:
            if model_type not in self._recognizers:
                self._recognizers[model_type] = build_recognizer(spec)
            return self._recognizers[model_type]

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        params = child(job.operation, "SpeechRecognition") or {}
        model_type = text(params, "EngineModelType")
        recognizer = self.recognizer_for(model_type)
        samples = decode_audio(io.input_path(), recognizer.sample_rate)
        io.progress(20)
        transcript = recognizer.recognize(samples, recognizer.sample_rate)
        io.progress(90)
        punc = text(params, "FilterPunc", default="0")
        key = text(job.operation, "Output", "Object")
        if key:
            body, content_type = output_document(transcript, text(params, "OutputFileType") or "txt", punc)
            io.write_object(key, body, content_type)
        seconds = len(samples) / recognizer.sample_rate
        return speech_recognition_result(transcript, seconds, text(params, "ResTextFormat") or "0", punc)
