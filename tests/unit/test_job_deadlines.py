"""Job timeouts: a default per Tag, overridden per Tag or per queue."""

from __future__ import annotations

import pytest

from wanxiang.worker.deadlines import FALLBACK_SECONDS, JobDeadlines


def test_each_tag_has_a_default_and_a_queue_entry_beats_its_tag() -> None:
    deadlines = JobDeadlines.parse("Animation=600, p0123456789abcdef=45")
    assert deadlines.seconds_for("PicProcess", "pother") == 300
    assert deadlines.seconds_for("Animation", "pother") == 600
    assert deadlines.seconds_for("Animation", "p0123456789abcdef") == 45
    assert deadlines.seconds_for("NewTag", "pother") == FALLBACK_SECONDS
    assert JobDeadlines.parse("").seconds_for("Translation", "q") == 1800


@pytest.mark.parametrize("spec", ["Animation", "Animation=", "=5", "Animation=-1", "Animation=soon", "Animation=0"])
def test_malformed_timeouts_are_refused_naming_the_entry(spec: str) -> None:
    with pytest.raises(ValueError, match="job timeout"):
        JobDeadlines.parse(spec)
