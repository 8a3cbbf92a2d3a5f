"""Bench: PicProcess thumbnails end to end through a live ``wanxiang serve --workers 2``.

Photo-like 12 MP JPEGs are uploaded, then ``imageMogr2/thumbnail/400x`` jobs are submitted for all
of them and timed until every job is Success (its output stored). Beside it, in the same run and
with the same parallelism (2 processes): a bare pyvips loop (``Image.thumbnail(path, 400)`` then a
q85 JPEG) and a bare Pillow loop (``draft`` + ``thumbnail``). Last, the peak memory of one
PicProcess engine job on a 100 MP input, in a child process, beside bare pyvips on the same file.

Run: .venv/bin/python -m bench.pic_e2e [--quick]   (about two minutes on 2 cores)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.pool import Pool
from pathlib import Path

import pyvips
from tests.support.server import SECRET_ID, SECRET_KEY, start_server

from bench import REGION, SignedClient, quick, sized
from bench.pic_download import tree_cpu
from bench.pic_engine import photo_like

BUCKET = "bench-1250000000"
WIDTH = 400
RULE = f"imageMogr2/thumbnail/{WIDTH}x"
PARALLEL = 2
# How often the client asks whether the round is done: often enough that the wait adds little to a
# round of several seconds, rarely enough that answering it takes no real CPU from the workers.
POLL_SECONDS = 0.1
JOB_ID = re.compile(r"<JobId>([^<]+)</JobId>")
STATE = re.compile(r"<State>([^<]+)</State>")


# -- end to end -----------------------------------------------------------------------------------


def job_request(key: str, out: str) -> bytes:
    return (
        f"<Request><Tag>PicProcess</Tag><Input><Object>{key}</Object></Input>"
        f"<Operation><PicProcess><ProcessRule>{RULE}</ProcessRule></PicProcess>"
        f"<Output><Region>{REGION}</Region><Bucket>{BUCKET}</Bucket><Object>{out}</Object></Output>"
        "</Operation></Request>"
    ).encode()


def e2e_round(client: SignedClient, keys: list[str], round_no: int) -> float:
    """Seconds from the first submit until every job of the round is Success."""
    started = time.perf_counter()
    ids: list[str] = []
    for key in keys:
        out = f"out/{round_no}/{len(ids)}/{key}"
        response = client.request("POST", "/pic_jobs", content=job_request(key, out))
        found = JOB_ID.search(response.text)
        assert found, response.text
        ids.append(found.group(1))
    path = "/pic_jobs/" + ",".join(ids)
    while True:
        states = STATE.findall(client.request("GET", path).text)
        if "Failed" in states:
            raise RuntimeError(f"a job failed: {client.request('GET', path).text[:1000]}")
        if states.count("Success") == len(ids):
            return time.perf_counter() - started
        time.sleep(POLL_SECONDS)


# -- the bare loops (module level: they run in pool processes) ------------------------------------


def bare_pyvips(paths: tuple[str, str]) -> int:
    source, out = paths
    # Huffman tables fitted, as every JPEG wanxiang writes: the same work on both sides.
    pyvips.Image.thumbnail(source, WIDTH).jpegsave(out, Q=85, optimize_coding=True)
    return Path(out).stat().st_size


def bare_pillow(paths: tuple[str, str]) -> int:
    from PIL import Image

    source, out = paths
    with Image.open(source) as image:
        height = round(image.height * WIDTH / image.width)
        # draft lets libjpeg decode at 1/2..1/8 scale, the way pyvips shrink-on-load does.
        image.draft("RGB", (WIDTH, height))
        image.thumbnail((WIDTH, height))
        image.save(out, "JPEG", quality=85)
    return Path(out).stat().st_size


def bare_round(pool: Pool, method: Callable[[tuple[str, str]], int], files: list[Path], out: Path) -> float:
    started = time.perf_counter()
    pairs = [(str(path), str(out / f"{n}-{path.name}")) for n, path in enumerate(files)]
    sizes = pool.map(method, pairs, chunksize=1)
    assert all(sizes)
    return time.perf_counter() - started


# -- peak memory ----------------------------------------------------------------------------------

ENGINE_CHILD = (
    "import resource, sys; from pathlib import Path; from wanxiang.engines.pic.pipeline import process_image; "
    "out = process_image(Path(sys.argv[1]).read_bytes(), sys.argv[2]); "
    "print(out.width, out.height, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)
PYVIPS_CHILD = (
    "import resource, sys, pyvips; "
    "out = pyvips.Image.thumbnail(sys.argv[1], 400).jpegsave_buffer(Q=85); "
    "image = pyvips.Image.new_from_buffer(out, ''); "
    "print(image.width, image.height, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def child_peak(code: str, path: Path) -> tuple[str, float]:
    """The output size and peak RSS (MiB) of a child running ``code`` on ``path``."""
    done = subprocess.run([sys.executable, "-c", code, str(path), RULE], capture_output=True, text=True, check=True)
    width, height, peak_kib = done.stdout.split()
    return f"{width}x{height}", int(peak_kib) / 1024  # ru_maxrss is in KiB on Linux


def memory_report(folder: Path) -> None:
    path = folder / "100mp.jpg"
    path.write_bytes(photo_like(10_000, 10_000, 1))
    print(f"\n(c) peak memory on one 10000x10000 (100 MP) JPEG, {path.stat().st_size / 1e6:.1f} MB, {RULE}")
    # Measured first, before any other child of this process ends, so that RUSAGE_CHILDREN's
    # maximum is the engine child's own.
    size, ours = child_peak(ENGINE_CHILD, path)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"process_image child       peak RSS {ours:6.0f} MiB (RUSAGE_CHILDREN {children:.0f} MiB) -> {size}   (aim < 250)")
    size, bare = child_peak(PYVIPS_CHILD, path)
    print(f"bare pyvips child         peak RSS {bare:6.0f} MiB -> {size}")
    print(f"ours / bare pyvips: {ours / bare:.2f}")
    path.unlink()


# -- the run --------------------------------------------------------------------------------------


def main() -> None:
    photos = sized(8, 4)
    # Each round runs every photo REPEAT times, so that a round is long beside the idle workers'
    # wake-up delay (they back off to 0.25 s between polls on SQLite) and the 20 ms status polls.
    repeat = sized(4, 2)
    rounds = sized(3, 2)
    print(f"{'(quick sizes) ' if quick() else ''}2-core machine: server, workers and client share it with other work")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        memory_report(folder)

        print(f"\nmaking {photos} photo-like 4000x3000 (12 MP) JPEGs at q85 ...")
        files = []
        for seed in range(photos):
            files.append(folder / f"photo{seed}.jpg")
            files[-1].write_bytes(photo_like(4000, 3000, seed))
        print(f"mean input size {sum(f.stat().st_size for f in files) / photos / 1e6:.1f} MB")
        out = folder / "out"
        out.mkdir()

        server = start_server(folder / "server", "--workers", str(PARALLEL))
        client = SignedClient(server.url, BUCKET, SECRET_ID, SECRET_KEY)
        ctx = mp.get_context("spawn")
        try:
            keys = [f"in/{path.name}" for path in files]
            for path, key in zip(files, keys, strict=True):
                client.request("PUT", f"/{key}", content=path.read_bytes())
            keys, files = keys * repeat, files * repeat
            with ctx.Pool(PARALLEL) as pool:
                # Warm every path once (imports, libvips start-up, the workers' first claim). Four
                # jobs a worker: a worker claims one job ahead, so two jobs may both go to one.
                e2e_round(client, keys[: 4 * PARALLEL], -1)
                bare_round(pool, bare_pyvips, files[:PARALLEL], out)
                bare_round(pool, bare_pillow, files[:PARALLEL], out)
                spent = {"e2e": 0.0, "pyvips": 0.0, "pillow": 0.0}
                server_cpu = 0.0
                # Rounds interleave the three so that a busy machine hurts them alike.
                for round_no in range(rounds):
                    cpu = tree_cpu(server.process.pid)
                    spent["e2e"] += e2e_round(client, keys, round_no)
                    server_cpu += tree_cpu(server.process.pid) - cpu
                    print(f"  round {round_no + 1}: e2e {len(keys) / spent['e2e'] * (round_no + 1):.2f} jobs/s so far  "
                          f"[load {os.getloadavg()[0]:.1f}]", flush=True)
                    spent["pyvips"] += bare_round(pool, bare_pyvips, files, out)
                    spent["pillow"] += bare_round(pool, bare_pillow, files, out)
        finally:
            client.close()
            server.stop()

        rate = {label: rounds * len(files) / seconds for label, seconds in spent.items()}
        print(f"\n{rounds} rounds x {photos} photos x {repeat}, {RULE}, {PARALLEL} processes each")
        print(f"(a) wanxiang serve, upload done, submit -> Success   {rate['e2e']:6.2f} jobs/s")
        print(f"    bare pyvips thumbnail + jpegsave Q85              {rate['pyvips']:6.2f} images/s")
        print(f"    ours / bare pyvips: {rate['e2e'] / rate['pyvips']:.2f}   (aim 0.9)  [load {os.getloadavg()[0]:.1f}]")
        print(f"    server CPU per thumbnail job (API + workers): {server_cpu * 1000 / (rounds * len(keys)):.1f} ms")
        print(f"(b) bare Pillow draft + thumbnail + save q85          {rate['pillow']:6.2f} images/s")
        print(f"    ours / Pillow: {rate['e2e'] / rate['pillow']:.2f}")


if __name__ == "__main__":
    main()
