"""Recogniser adapters: pocketsphinx (bundled English model), faster-whisper and Vosk (lazy imports).

faster-whisper and Vosk are optional: their import happens when the first job needs them, so a
machine without them still serves every other model type, and a job asking for them fails with a
Message that says what is missing.
"""

from __future__ import annotations

import importlib
import io
import json
import threading
from types import ModuleType
from typing import Any

import numpy as np

from wanxiang.engines.asr.transcript import Sentence, Transcript, Word
from wanxiang.model.errors import JobFailure

ENGINE_UNAVAILABLE = "EngineUnavailable"


def _optional_module(name: str, package: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise JobFailure(
            ENGINE_UNAVAILABLE, f"The speech engine needs the Python package {package!r}, which is not installed."
        ) from exc


def _clean_word(word: str) -> str:
    """pocketsphinx marks alternative pronunciations as ``word(2)``."""
    return word.split("(", 1)[0]


class PocketsphinxRecognizer:
    """CMU pocketsphinx; ``model_dir`` None = the US English model shipped in the wheel."""

    sample_rate = 16000

    @staticmethod
    def _is_filler(word: str) -> bool:
        """Silence and noise units: ``<s>``, ``<sil>``, ``[NOISE]``, ``[SPEECH]``, ``++garbage++``."""
        return word[:1] in "<[+" or not word

    def __init__(self, model_dir: str | None = None) -> None:
        self.model_dir = model_dir
        self._lock = threading.Lock()  # a Decoder is not re-entrant
        self._decoder: Any = None

    def _get_decoder(self) -> Any:
        if self._decoder is None:
            import pocketsphinx

            pocketsphinx.set_loglevel("FATAL")
            options = {"hmm": self.model_dir} if self.model_dir else {}
            self._decoder = pocketsphinx.Decoder(**options)
        return self._decoder

    def _utterance(self, decoder: Any, pcm: bytes, offset: float) -> Sentence | None:
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        frate = float(decoder.config["frate"])
        words = tuple(
            Word(_clean_word(seg.word), offset + seg.start_frame / frate, offset + (seg.end_frame + 1) / frate)
            for seg in decoder.seg()
            if not self._is_filler(seg.word)
        )
        if not words:
            return None
        return Sentence(words, " ".join(w.text for w in words))

    def recognize(self, samples: np.ndarray, rate: int) -> Transcript:
        import pocketsphinx

        with self._lock:
            decoder = self._get_decoder()
            # Voice activity detection cuts the audio into utterances: one sentence each.
            segmenter = pocketsphinx.Segmenter(sample_rate=rate)
            sentences = []
            for speech in segmenter.segment(io.BytesIO(samples.astype(np.int16).tobytes())):
                sentence = self._utterance(decoder, speech.pcm, float(speech.start_time))
                if sentence is not None:
                    sentences.append(sentence)
        return Transcript(tuple(sentences))


class WhisperRecognizer:
    """faster-whisper with a local CTranslate2 model folder (or a model name it has cached)."""

    sample_rate = 16000

    def __init__(self, model: str, language: str | None = None) -> None:
        self.model = model
        self.language = language
        self._model: Any = None
        self._lock = threading.Lock()

    def recognize(self, samples: np.ndarray, rate: int) -> Transcript:
        faster_whisper = _optional_module("faster_whisper", "faster-whisper")
        with self._lock:
            if self._model is None:
                self._model = faster_whisper.WhisperModel(self.model, device="cpu", compute_type="int8")
            audio = samples.astype(np.float32) / 32768.0
            segments, _info = self._model.transcribe(audio, language=self.language, word_timestamps=True)
            sentences = [
                Sentence(
                    tuple(Word(w.word.strip(), float(w.start), float(w.end)) for w in (seg.words or [])),
                    seg.text.strip(),
                )
                for seg in segments
            ]
        return Transcript(tuple(s for s in sentences if s.text))


class VoskRecognizer:
    """Vosk (Kaldi) with a local model folder."""

    sample_rate = 16000
    _CHUNK = 8000  # samples per AcceptWaveform call: half a second

    def __init__(self, model_dir: str) -> None:
        self.model_dir = model_dir
        self._model: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def _sentence(result_json: str) -> Sentence | None:
        result = json.loads(result_json)
        words = tuple(Word(w["word"], float(w["start"]), float(w["end"])) for w in result.get("result", []))
        return Sentence(words, result.get("text", "")) if words else None

    def recognize(self, samples: np.ndarray, rate: int) -> Transcript:
        vosk = _optional_module("vosk", "vosk")
        with self._lock:
            if self._model is None:
                self._model = vosk.Model(self.model_dir)
            recognizer = vosk.KaldiRecognizer(self._model, rate)
            recognizer.SetWords(True)
            pcm = samples.astype(np.int16)
            results: list[str] = []
            for start in range(0, len(pcm), self._CHUNK):
                if recognizer.AcceptWaveform(pcm[start : start + self._CHUNK].tobytes()):
                    results.append(recognizer.Result())
            results.append(recognizer.FinalResult())
        sentences = [s for s in (self._sentence(r) for r in results) if s is not None]
        return Transcript(tuple(sentences))
