"""Bench: the Animation engine against a bare PyAV palettegen/paletteuse GIF loop on the same clip.

Run: .venv/bin/python bench/animation_engine.py   (2-3 minutes on 2 cores; most of it is making the clips and the bare recipe)
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import av.filter
import numpy as np

from wanxiang.engines.animation import AnimationEngine
from wanxiang.engines.base import EngineJob, StoredObject

WIDTH, HEIGHT, FPS = 1280, 720, 25
GIF_WIDTH, GIF_FPS = 480, 10
JOB = {"Container": {"Format": "gif"}, "Video": {"Width": str(GIF_WIDTH), "Fps": str(GIF_FPS)}}


def make_clip(path: Path, seconds: float) -> Path:
    """A textured, panning picture with a moving square: enough detail for the palette to matter."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "20"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(round(seconds * FPS)):
            shift = index * 4.0
            picture = np.empty((HEIGHT, WIDTH, 3), np.uint8)
            picture[..., 0] = 127 + 100 * np.sin((xs + shift) / 37.0) * np.cos(ys / 53.0)
            picture[..., 1] = 255 * (xs / WIDTH) * 0.8 + 30 * np.sin((ys + shift) / 9.0) + 20
            picture[..., 2] = 255 * (ys / HEIGHT) * 0.7 + 40 * np.cos((xs - shift) / 13.0) + 40
            x = (index * 12) % (WIDTH - 160)
            picture[280:440, x : x + 160] = (250, 250, 240)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


class _FolderIO:
    def __init__(self, source: Path, root: Path) -> None:
        self.source, self.root = source, root

    def input_path(self) -> Path:
        return self.source

    def read_object(self, key: str, bucket: str | None = None) -> bytes:
        return (self.root / key).read_bytes()

    def write_object(
        self, key: str, data: bytes | Path, content_type: str, bucket: str | None = None
    ) -> StoredObject:
        # Copy, never read: holding the output in memory here would show up as the engine's peak RSS.
        target = self.root / key
        if isinstance(data, Path):
            shutil.copyfile(data, target)
        else:
            target.write_bytes(data)
        return StoredObject(bucket or "b", key, "", target.stat().st_size, key)

    def temp_dir(self) -> Path:
        return self.root

    def progress(self, percent: int) -> None:
        pass


def ours(source: Path, root: Path, container: str = "gif") -> Path:
    animation = {**JOB, "Container": {"Format": container}}
    job = EngineJob("j" + "0" * 32, "Animation", "b", "ap-guangzhou", {"Object": "in.mp4"},
                    {"Animation": animation, "Output": {"Bucket": "b", "Object": f"ours-{container}.${{ext}}"}})  # fmt: skip
    result = AnimationEngine().run(job, _FolderIO(source, root))
    return root / result["MediaResult"]["OutputFile"]["ObjectName"]


def bare(source: Path, target: Path) -> Path:
    """The textbook recipe: fps, scale, split -> palettegen -> paletteuse in one graph, one decode."""
    with av.open(str(source)) as container, av.open(str(target), "w", format="gif") as output:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        graph = av.filter.Graph()
        src = graph.add_buffer(template=stream)
        fps = graph.add("fps", str(GIF_FPS))
        scale = graph.add("scale", f"{GIF_WIDTH}:-1:flags=lanczos")
        split = graph.add("split")
        gen = graph.add("palettegen")
        use = graph.add("paletteuse")
        sink = graph.add("buffersink")
        src.link_to(fps)
        fps.link_to(scale)
        scale.link_to(split)
        split.link_to(use, 0, 0)
        split.link_to(gen, 1, 0)
        gen.link_to(use, 0, 1)
        use.link_to(sink)
        graph.configure()
        gif = output.add_stream("gif", rate=GIF_FPS)
        gif.width, gif.height, gif.pix_fmt = GIF_WIDTH, round(HEIGHT * GIF_WIDTH / WIDTH), "pal8"

        def drain() -> None:
            while True:
                try:
                    frame = sink.pull()
                except (av.BlockingIOError, av.EOFError):
                    return
                output.mux(gif.encode(frame))

        for frame in container.decode(stream):
            src.push(frame)
            drain()
        src.push(None)
        drain()
        output.mux(gif.encode(None))
    return target


def gray_frames(path: Path, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        out = []
        for frame in container.decode(video=0):
            if size:
                frame = frame.reformat(width=size[0], height=size[1], format="gray", interpolation="LANCZOS")
            out.append(frame.to_ndarray(format="gray").astype(np.float64))
        return out


def ssim(a: np.ndarray, b: np.ndarray, win: int = 7) -> float:
    """Mean SSIM over win x win box windows (grayscale, 0..255)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def box(x: np.ndarray) -> np.ndarray:
        s = np.pad(x, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        return (s[win:, win:] - s[:-win, win:] - s[win:, :-win] + s[:-win, :-win]) / (win * win)

    ma, mb = box(a), box(b)
    va, vb, cov = box(a * a) - ma * ma, box(b * b) - mb * mb, box(a * b) - ma * mb
    return float((((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))).mean())


def mean_ssim(gif: Path, reference: list[np.ndarray]) -> float:
    """Each GIF frame against the source frames nearest its slot (k / GIF_FPS), keeping the better match."""
    scores = []
    step = FPS / GIF_FPS
    for k, picture in enumerate(gray_frames(gif)):
        candidates = {min(len(reference) - 1, int(k * step)), min(len(reference) - 1, int(np.ceil(k * step)))}
        scores.append(max(ssim(picture, reference[i]) for i in candidates))
    return float(np.mean(scores))


def peak_rss_mb(source: Path) -> tuple[float, float]:
    """(before, after) peak RSS in MB of a child process that runs the engine once."""
    done = subprocess.run([sys.executable, __file__, "--child", str(source)], capture_output=True, text=True)
    before, after = done.stdout.split()
    return float(before), float(after)


def _high_water_mb() -> float:
    """Peak RSS of this process. ru_maxrss survives exec (a child would report its parent's peak),
    so read the kernel's per-address-space VmHWM, falling back to ru_maxrss elsewhere."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(source: Path) -> None:
    before = _high_water_mb()
    with tempfile.TemporaryDirectory() as folder:
        ours(source, Path(folder))
    print(f"{before:.1f} {_high_water_mb():.1f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        clip = make_clip(root / "clip10.mp4", 10)
        started = time.perf_counter()
        our_gif = ours(clip, root)
        our_seconds = time.perf_counter() - started
        started = time.perf_counter()
        bare_gif = bare(clip, root / "bare.gif")
        bare_seconds = time.perf_counter() - started
        size = (GIF_WIDTH, round(HEIGHT * GIF_WIDTH / WIDTH))
        reference = gray_frames(clip, size)
        print(f"clip: 10 s {WIDTH}x{HEIGHT} {FPS} fps -> GIF {size[0]}x{size[1]} at {GIF_FPS} fps")
        print(
            f"ours: {our_seconds:.2f} s, {our_gif.stat().st_size} bytes, {len(gray_frames(our_gif))} frames"
        )
        print(
            f"bare: {bare_seconds:.2f} s, {bare_gif.stat().st_size} bytes, {len(gray_frames(bare_gif))} frames"
        )
        print(f"ratio bare/ours: {bare_seconds / our_seconds:.2f}")
        print(f"mean SSIM ours: {mean_ssim(our_gif, reference):.4f}")
        print(f"mean SSIM bare: {mean_ssim(bare_gif, reference):.4f}")
        for container in ("hgif", "webp"):
            started = time.perf_counter()
            made = ours(clip, root, container)
            seconds = time.perf_counter() - started
            quality = f", mean SSIM {mean_ssim(made, reference):.4f}" if container == "hgif" else ""
            print(f"ours {container}: {seconds:.2f} s, {made.stat().st_size} bytes{quality}")
        del reference
        for seconds in (10, 30):
            source = clip if seconds == 10 else make_clip(root / "clip30.mp4", 30)
            before, after = peak_rss_mb(source)
            print(f"peak RSS ours, {seconds} s clip: {after:.1f} MB (after imports {before:.1f} MB)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]))
    else:
        main()
