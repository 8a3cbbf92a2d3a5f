"""How long a job may run: a default per Tag, overridable per Tag and per queue (pure).

Written as ``"<Tag or QueueId>=<seconds>,..."`` (``--job-timeout`` / ``WANXIANG_JOB_TIMEOUTS``), e.g.
``"Animation=600,p8a1c2e...=60"``. A queue's entry wins over its Tag's; a Tag with no entry gets
its default below, any other Tag ``FALLBACK_SECONDS``. A job past its deadline ends ``Failed``
with Code ``JobTimeout``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Long enough for the largest input each engine accepts on a slow machine; short enough that a
# stuck engine frees its worker the same hour.
DEFAULT_SECONDS: Mapping[str, float] = MappingProxyType(
    {
        "PicProcess": 300.0,
        "WordsGeneralize": 600.0,
        "Translation": 1800.0,
        "Animation": 3600.0,
        "SpeechRecognition": 3600.0,
    }
)
FALLBACK_SECONDS = 3600.0


@dataclass(frozen=True)
class JobDeadlines:
    overrides: Mapping[str, float] = field(default_factory=dict)  # Tag or QueueId -> seconds

    def seconds_for(self, tag: str, queue_id: str) -> float:
        if queue_id in self.overrides:
            return self.overrides[queue_id]
        if tag in self.overrides:
            return self.overrides[tag]
        return DEFAULT_SECONDS.get(tag, FALLBACK_SECONDS)

    @classmethod
    def parse(cls, spec: str) -> JobDeadlines:
        """``"Tag=seconds,QueueId=seconds"``; ValueError naming the bad entry."""
        overrides: dict[str, float] = {}
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, value = entry.partition("=")
            try:
                seconds = float(value)
            except ValueError:
                seconds = -1.0
            if not sep or not name.strip() or not seconds > 0:
                raise ValueError(f"a job timeout is '<Tag or QueueId>=<seconds>', not {entry!r}")
            overrides[name.strip()] = seconds
        return cls(MappingProxyType(overrides))
