"""Bench: PicProcess thumbnails through process_image vs a bare pyvips loop vs Pillow, and the peak
memory of one 100 MP input: a thumbnail, a rotation after shrinking, and a rotation first, which the
decoding budget refuses (ImageTooLarge) before decoding anything.

Run: .venv/bin/python bench/pic_engine.py   (about a minute on 2 cores)
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyvips

from wanxiang.engines.pic import process_image

SIZE = 400
PHOTOS = 4
ROUNDS = 5


def photo_like(width: int, height: int, seed: int) -> bytes:
    """Gradients plus grain saved as JPEG q85: compresses like a photo, unlike a flat colour."""
    xyz = pyvips.Image.xyz(width, height)
    x, y = xyz[0], xyz[1]
    red = x * (255 / width)
    green = y * (255 / height)
    blue = ((x * 0.7 + y * 0.3 + seed * 40) * (510 / (width + height))) % 255
    grain = pyvips.Image.gaussnoise(width, height, sigma=14 + seed)
    image = (red.bandjoin([green, blue]) + grain).cast("uchar").copy(interpretation="srgb")
    return bytes(image.jpegsave_buffer(Q=85))


def rates(photos: list[bytes], methods: dict[str, Callable[[bytes], bytes]]) -> dict[str, float]:
    """Images/s of each method; rounds interleave the methods so a busy machine hurts them alike."""
    spent = dict.fromkeys(methods, 0.0)
    for thumbnail in methods.values():
        thumbnail(photos[0])  # warm caches and lazy imports
    for _ in range(ROUNDS):
        for name, thumbnail in methods.items():
            started = time.perf_counter()
            for data in photos:
                assert thumbnail(data)
            spent[name] += time.perf_counter() - started
    result = {name: ROUNDS * len(photos) / seconds for name, seconds in spent.items()}
    for name, per_second in result.items():
        print(f"{name:<40} {per_second:7.2f} images/s")
    return result


def with_engine(data: bytes) -> bytes:
    return process_image(data, f"imageMogr2/thumbnail/{SIZE}x{SIZE}/quality/85").data


def with_pyvips(data: bytes) -> bytes:
    return bytes(pyvips.Image.thumbnail_buffer(data, SIZE, height=SIZE).jpegsave_buffer(Q=85))


def with_pillow(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((SIZE, SIZE))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        return out.getvalue()


def child_peak_rss(path: Path, rule: str) -> float:
    """Peak RSS (MiB) of a child that runs process_image on the file at ``path``."""
    code = (
        "import sys; from pathlib import Path; from wanxiang.engines.pic import process_image; "
        "from wanxiang.model.errors import JobFailure\n"
        "try:\n"
        "    out = process_image(Path(sys.argv[1]).read_bytes(), sys.argv[2]); print(out.width, out.height)\n"
        "except JobFailure as failure:\n"
        "    print('refused:', failure.code, failure.message)"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), rule], capture_output=True, text=True, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:
        print(f"  (peak RSS not above an earlier child's {before / 1024:.0f} MiB)")
    print(f"  result {done.stdout.strip()}")
    return after / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    print(f"making {PHOTOS} photo-like 4000x3000 (12 MP) JPEGs at q85 ...")
    photos = [photo_like(4000, 3000, seed) for seed in range(PHOTOS)]
    print(f"mean input size {sum(map(len, photos)) / len(photos) / 1e6:.1f} MB; thumbnail to {SIZE} px")
    measured = rates(
        photos,
        {
            "process_image (imageMogr2/thumbnail)": with_engine,
            "bare pyvips thumbnail_buffer": with_pyvips,
            "Pillow Image.thumbnail": with_pillow,
        },
    )
    engine, bare, pillow = measured.values()
    print(f"process_image / bare pyvips: {engine / bare:.2f}")
    print(f"process_image / Pillow:      {engine / pillow:.2f}")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "100mp.jpg"
        print("making one 10000x10000 (100 MP) JPEG ...")
        path.write_bytes(photo_like(10_000, 10_000, 1))
        print(f"  input {path.stat().st_size / 1e6:.1f} MB")
        # A whole-image step (rotate) on 100 MP is over the decoding budget and is refused at once,
        # with a hint to shrink first; shrunk first, it runs.
        for rule in (f"imageMogr2/thumbnail/{SIZE}x", "imageMogr2/thumbnail/2000x/rotate/90",
                     "imageMogr2/rotate/90/thumbnail/2000x"):
            started = time.perf_counter()
            peak = child_peak_rss(path, rule)
            print(f"{rule:<40} peak RSS {peak:7.0f} MiB, {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
