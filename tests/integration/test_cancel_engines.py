"""A cancelled job stops inside its engine: the worker's JobIO on real storage, its cancel flag
raised while the engine runs (as the lease heartbeat does), and nothing stored."""

from __future__ import annotations

import threading

import pytest

from tests.support.images import marker_png
from tests.support.media import moving_square_mp4
from wanxiang.engines.animation.engine import AnimationEngine
from wanxiang.engines.base import EngineJob
from wanxiang.engines.pic.engine import PicProcessEngine
from wanxiang.model.errors import JobCancelled
from wanxiang.storage.memory import MemoryStorage
from wanxiang.worker.jobio import StorageJobIO

BUCKET = "cancel-1250000000"


def io_cancelled_after_first_report(storage: MemoryStorage, key: str) -> StorageJobIO:
    """A JobIO whose job is asked to stop as soon as it first reports progress."""
    flag = threading.Event()
    return StorageJobIO(storage, BUCKET, "ap-guangzhou", key, {"Bucket": BUCKET}, lambda _: flag.set(), flag)


def test_a_pic_job_stops_between_its_operations_and_stores_nothing() -> None:
    storage = MemoryStorage()
    storage.create_bucket(BUCKET)
    storage.put(BUCKET, "a.png", marker_png(), content_type="image/png")
    io = io_cancelled_after_first_report(storage, "a.png")
    job = EngineJob("c" + "1" * 32, "PicProcess", BUCKET, "ap-guangzhou", {"Object": "a.png"}, {
        "PicProcess": {"ProcessRule": "imageMogr2/rotate/90/thumbnail/50x/format/jpg"},
        "Output": {"Bucket": BUCKET, "Region": "ap-guangzhou", "Object": "b.jpg"}})
    with pytest.raises(JobCancelled):
        PicProcessEngine().run(job, io)
    assert storage.head(BUCKET, "b.jpg") is None
    io.close()


def test_an_animation_stops_between_frames_and_stores_nothing() -> None:
    storage = MemoryStorage()
    storage.create_bucket(BUCKET)
    storage.put(BUCKET, "in.mp4", moving_square_mp4(seconds=2), content_type="video/mp4")
    io = io_cancelled_after_first_report(storage, "in.mp4")
    frames_seen: list[int] = []
    real_progress = io.progress

    def counting(percent: int) -> None:
        frames_seen.append(percent)
        real_progress(percent)

    io.progress = counting  # type: ignore[method-assign]
    job = EngineJob("j" + "1" * 32, "Animation", BUCKET, "ap-guangzhou", {"Object": "in.mp4"}, {
        "Animation": {"Container": {"Format": "gif"}, "Video": {"Codec": "gif", "Fps": "25"}},
        "Output": {"Bucket": BUCKET, "Region": "ap-guangzhou", "Object": "out.gif"}})
    with pytest.raises(JobCancelled):
        AnimationEngine().run(job, io)
    assert len(frames_seen) == 2  # the report that asked it to stop, then the next frame's check
    assert storage.head(BUCKET, "out.gif") is None
    io.close()
