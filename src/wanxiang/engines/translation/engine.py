"""The Translation engine: pick the translator for the pair, translate the document, store it."""

from __future__ import annotations

import threading
from collections.abc import Callable

from wanxiang.engines.base import EngineJob, JobIO
from wanxiang.engines.translation.config import build_translator, spec_for, translation_engine_specs
from wanxiang.engines.translation.languages import SUPPORTED_TYPES, validate_translation
from wanxiang.engines.translation.office import translate_docx, translate_pptx, translate_xlsx
from wanxiang.engines.translation.segments import Translate
from wanxiang.engines.translation.text_formats import translate_html, translate_markdown, translate_txt
from wanxiang.engines.translation.translators import Translator
from wanxiang.model.errors import JobFailure
from wanxiang.model.tree import Tree, text

__all__ = ["TranslationEngine", "validate_translation"]

UNSUPPORTED_TYPE = "UnsupportedDocumentType"
RESULT_LIMIT = 4096  # characters of translated text echoed in the job's result node
MAX_INPUT_BYTES = 60 * 1024 * 1024

_FORMATS: dict[str, tuple[Callable[[bytes, Translate], bytes], str]] = {
    "txt": (translate_txt, "text/plain; charset=utf-8"),
    "markdown": (translate_markdown, "text/markdown; charset=utf-8"),
    "html": (translate_html, "text/html; charset=utf-8"),
    "docx": (translate_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pptx": (translate_pptx, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "xlsx": (translate_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


class _Recorder:
    """The document's translate step, keeping what came back for the result node."""

    def __init__(self, translator: Translator, source: str, target: str) -> None:
        self.translator, self.source, self.target = translator, source, target
        self.translated: list[str] = []

    def __call__(self, texts: list[str]) -> list[str]:
        out = self.translator.translate(texts, self.source, self.target)
        if len(out) != len(texts):
            raise JobFailure("TranslationEngineError", "The engine returned a wrong number of strings.")
        self.translated.extend(out)
        return out

    def summary(self) -> str:
        return "\n".join(self.translated)[:RESULT_LIMIT]


class TranslationEngine:
    tag = "Translation"

    def __init__(self) -> None:
        self.specs = translation_engine_specs()
        self._translators: dict[str, Translator] = {}
        self._lock = threading.Lock()

    def translator_for(self, source: str, target: str) -> Translator:
        spec = spec_for(self.specs, source, target)
        with self._lock:
            if spec not in self._translators:
                self._translators[spec] = build_translator(spec)
            return self._translators[spec]

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        source, input_type = text(job.input, "Lang"), text(job.input, "Type")
        target = text(job.operation, "Translation", "Lang")
        if input_type not in SUPPORTED_TYPES:
            raise JobFailure(
                UNSUPPORTED_TYPE,
                f"Documents of Type {input_type!r} are not translated by this server "
                f"(supported: {', '.join(sorted(SUPPORTED_TYPES))}).",
            )
        recorder = _Recorder(self.translator_for(source, target), source, target)
        path = io.input_path()
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise JobFailure("InvalidInput", "The input document is larger than 60 MB.")
        convert, content_type = _FORMATS[input_type]
        io.progress(10)
        translated = convert(path.read_bytes(), recorder)
        io.progress(90)
        key = text(job.operation, "Output", "Object")
        if key:
            io.write_object(key, translated, content_type)
        return {"AITranslateResult": {"Result": recorder.summary()}}
