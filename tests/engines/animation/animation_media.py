"""Test inputs for the Animation engine: short synthetic videos and a folder-backed JobIO."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from wanxiang.engines.base import EngineJob, StoredObject
from wanxiang.model.errors import JobFailure
from wanxiang.model.tree import Tree

FPS = 25
RED_STEP = 4  # the background's red channel is frame_number * RED_STEP, so a frame's colour says which it is
SQUARE = 40


def frame_picture(index: int, width: int, height: int) -> np.ndarray:
    """A blue-green background whose red tells the frame number, and a white square moving right."""
    picture = np.empty((height, width, 3), np.uint8)
    picture[:] = (min(255, index * RED_STEP), 90, 160)
    x = (index * 6) % max(1, width - SQUARE)
    y = height // 2 - SQUARE // 2
    picture[y : y + SQUARE, x : x + SQUARE] = 255
    return picture


def make_video(
    path: Path,
    width: int = 320,
    height: int = 240,
    seconds: float = 2.0,
    audio: bool = False,
    keyint: int = 10,
    rotation: int = 0,
) -> Path:
    """An H.264 MP4 at 25 fps with a key frame every ``keyint`` frames (and optional 440 Hz audio)."""
    frames = round(seconds * FPS)
    with av.open(str(path), "w") as out:
        video = out.add_stream(
            "libx264",
            rate=FPS,
            options={"preset": "ultrafast", "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0"},
        )
        # x264 refuses odd sizes in 4:2:0, so odd-sized test videos are 4:4:4.
        odd = width % 2 or height % 2
        video.width, video.height, video.pix_fmt = width, height, "yuv444p" if odd else "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=44100) if audio else None
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(frame_picture(index, width, height), format="rgb24")
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            _write_tone(out, sound, seconds)
    return path


def make_tone(path: Path, seconds: float = 1.0) -> Path:
    """A WAV file: a real media file with no video stream."""
    with av.open(str(path), "w") as out:
        _write_tone(out, out.add_stream("pcm_s16le", rate=44100), seconds)
    return path


def _write_tone(
    out: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float
) -> None:
    rate, block = 44100, 1024
    t0 = 0
    while t0 < seconds * rate:
        t = (np.arange(t0, t0 + block) / rate).astype(np.float32)
        samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        fmt = "s16" if stream.codec_context.name == "pcm_s16le" else "fltp"
        data = (samples * 32767).astype(np.int16) if fmt == "s16" else samples
        frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=fmt, layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, t0, Fraction(1, rate)
        out.mux(stream.encode(frame))
        t0 += block
    out.mux(stream.encode(None))


class FolderIO:
    """A JobIO over a temp folder: the input is a file, outputs land under ``out/<bucket>/<key>``."""

    def __init__(self, root: Path, input_file: Path, bucket: str = "out-1250000000") -> None:
        self.root = root
        self.input_file = input_file
        self.bucket = bucket
        self.percents: list[int] = []
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def input_path(self) -> Path:
        if not self.input_file.exists():
            raise JobFailure("InputNotExist", "the input object does not exist")
        return self.input_file

    def read_object(self, key: str, bucket: str | None = None) -> bytes:
        return (self.root / "out" / (bucket or self.bucket) / key).read_bytes()

    def write_object(
        self, key: str, data: bytes | Path, content_type: str, bucket: str | None = None
    ) -> StoredObject:
        target = self.root / "out" / (bucket or self.bucket) / key
        target.parent.mkdir(parents=True, exist_ok=True)
        body = data.read_bytes() if isinstance(data, Path) else data
        target.write_bytes(body)
        return StoredObject(
            bucket=bucket or self.bucket,
            key=key,
            etag=f'"{hashlib.md5(body).hexdigest()}"',
            size=len(body),
            location=f"{bucket or self.bucket}.cos.ap-guangzhou.myqcloud.com/{key}",
        )

    def temp_dir(self) -> Path:
        return self.root / "tmp"

    def progress(self, percent: int) -> None:
        self.percents.append(percent)

    def stored(self, key: str) -> Path:
        return self.root / "out" / self.bucket / key


def animation_job(animation: Tree, key: str = "anim/out.${ext}", job_id: str = "j" + "0" * 32) -> EngineJob:
    return EngineJob(
        job_id=job_id,
        tag="Animation",
        bucket_id="in-1250000000",
        region="ap-guangzhou",
        input={"Object": "in.mp4"},
        operation={
            "Animation": animation,
            "Output": {"Bucket": "out-1250000000", "Region": "ap-guangzhou", "Object": key},
        },
    )
