"""What every recogniser returns, and the Protocol a recogniser implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the audio
    end: float


@dataclass(frozen=True)
class Sentence:
    words: tuple[Word, ...]
    text: str  # as the engine wrote it (may carry punctuation the words lack)

    @property
    def start(self) -> float:
        return self.words[0].start if self.words else 0.0

    @property
    def end(self) -> float:
        return self.words[-1].end if self.words else 0.0


@dataclass(frozen=True)
class Transcript:
    sentences: tuple[Sentence, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences if s.text)


class Recognizer(Protocol):
    """A speech engine. ``sample_rate`` is the rate it wants; samples arrive resampled to it."""

    sample_rate: int

    def recognize(self, samples: np.ndarray, rate: int) -> Transcript: ...
