"""Short videos and speech the tests make themselves."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import av
import numpy as np


def moving_square_mp4(seconds: float = 2.0, width: int = 320, height: int = 240, fps: int = 25) -> bytes:
    """An H.264 clip of a white square sliding across a blue background."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(int(seconds * fps)):
            picture = np.zeros((height, width, 3), dtype=np.uint8)
            picture[:, :] = (20, 40, 200)
            x = int((width - 40) * index / max(seconds * fps - 1, 1))
            picture[height // 2 - 20 : height // 2 + 20, x : x + 40] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def transport_stream(seconds: float = 0.4, width: int = 64, height: int = 48) -> bytes:
    """A short MPEG-2 video in an MPEG transport stream: what image-hosting abuse hides in pictures."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mpegts") as container:
        stream = container.add_stream("mpeg2video", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(int(seconds * 25)):
            frame = np.full((height, width, 3), index * 9 % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def espeak_wav(text: str, path: Path) -> Path | None:
    """Speech from espeak-ng (None when it is not installed: `make system-deps`)."""
    if shutil.which("espeak-ng") is None:
        return None
    subprocess.run(["espeak-ng", "-v", "en-us+klatt", "-s", "130", "-w", str(path), text], check=True)
    return path
