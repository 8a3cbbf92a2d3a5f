"""Any audio container PyAV can open, as the mono signed-16-bit samples a recogniser wants."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from wanxiang.model.errors import JobFailure


def decode_audio(path: Path, rate: int) -> np.ndarray:
    """The first audio stream of ``path`` resampled to ``rate`` Hz mono int16 (all channels mixed)."""
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise JobFailure("InvalidInput", f"The input is not a readable media file: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise JobFailure("InvalidInput", "The input has no audio stream.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
        except av.error.FFmpegError as exc:
            raise JobFailure("InvalidInput", f"The audio could not be decoded: {exc}") from exc
        chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    if not chunks:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate(chunks).astype(np.int16, copy=False)
