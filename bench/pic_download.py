"""Bench: thumbnails on download (``GET /photo.jpg?imageMogr2/thumbnail/400x/quality/85``) from a
live wanxiang, against thumbor (the on-the-fly image server our users would pick instead; one
process, engine thread pool = cores, installed from PyPI into its own venv under
``~/.cache/wanxiang-bench``) and against a bare pyvips loop (one process per core, no HTTP).

12 MP photo-like JPEGs to 400 px wide at q85. Rounds interleave the three, so a busy machine hurts
them alike; the load average is printed beside each round. wanxiang runs with its result cache off
for the comparison (``--pic-cache-mb 0``); the cached rate is measured after, on its own server.
Server CPU per download (the API process and its image-processing children, from /proc) is the
figure to watch: absolute rates move with whatever else runs on the machine.

Run: .venv/bin/python -m bench.pic_download [--quick]   (a few minutes; the first run installs
thumbor, about a minute)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path

import httpx
import pyvips
from tests.support.server import SECRET_ID, SECRET_KEY, RunningServer, free_port, start_server

from bench import SignedClient, quick, sized
from bench.pic_engine import photo_like

BUCKET = "bench-1250000000"
WIDTH = 400
QUALITY = 85
RULE = f"imageMogr2/thumbnail/{WIDTH}x/quality/{QUALITY}"
CLIENTS = 4
CORES = os.cpu_count() or 2
THUMBOR_HOME = Path.home() / ".cache" / "wanxiang-bench" / "thumbor"


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and every descendant (the pool children), from /proc."""
    total = 0.0
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        stack.extend(children.get(current, []))
    return total


# -- the three ------------------------------------------------------------------------------------


def fetch_all(get: Callable[[str], bytes], names: list[str], count: int) -> float:
    """Seconds for ``count`` downloads from CLIENTS threads, cycling over ``names``."""
    jobs = [names[i % len(names)] for i in range(count)]
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        while True:
            with lock:
                if not jobs:
                    return
                name = jobs.pop()
            data = get(name)
            if data[:2] != b"\xff\xd8":
                failures.append(name)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} downloads were not JPEGs")
    return time.perf_counter() - started


def wanxiang_getter(server: RunningServer) -> Callable[[str], bytes]:
    local = threading.local()

    def get(name: str) -> bytes:
        if not hasattr(local, "client"):
            local.client = SignedClient(server.url, BUCKET, SECRET_ID, SECRET_KEY)
        answer = local.client.request("GET", f"/{name}", params={RULE: ""})
        answer.raise_for_status()
        return answer.content

    return get


def thumbor_getter(port: int) -> Callable[[str], bytes]:
    local = threading.local()

    def get(name: str) -> bytes:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        answer = local.client.get(f"/unsafe/{WIDTH}x0/{name}")
        answer.raise_for_status()
        return answer.content

    return get


def bare_thumbnail(path: str) -> int:
    image = pyvips.Image.thumbnail(path, WIDTH)
    return len(image.jpegsave_buffer(Q=QUALITY, optimize_coding=True))


def ensure_thumbor() -> Path | None:
    python = THUMBOR_HOME / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", "import thumbor"], capture_output=True).returncode == 0:
        return THUMBOR_HOME / "bin" / "thumbor"
    print(f"installing thumbor from PyPI into {THUMBOR_HOME} ...", flush=True)
    THUMBOR_HOME.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(THUMBOR_HOME)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "thumbor"], check=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as error:
        print(f"thumbor could not be installed ({error}); comparing against bare pyvips only")
        return None
    return THUMBOR_HOME / "bin" / "thumbor"


def start_thumbor(binary: Path, photos: Path, work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = work / "thumbor.conf"
    conf.write_text(
        f"LOADER = 'thumbor.loaders.file_loader'\nFILE_LOADER_ROOT_PATH = '{photos}'\n"
        "STORAGE = 'thumbor.storages.no_storage'\nRESULT_STORAGE = None\n"
        f"ENGINE_THREADPOOL_SIZE = {CORES}\nQUALITY = {QUALITY}\nALLOW_UNSAFE_URL = True\n"
        "MAX_AGE = 0\nAUTO_WEBP = False\n"
    )
    log = (work / "thumbor.log").open("wb")
    process = subprocess.Popen(
        [str(binary), "--port", str(port), "--conf", str(conf), "-l", "warning"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthcheck", timeout=1).status_code == 200:
                return process, port
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("thumbor did not start: " + (work / "thumbor.log").read_text()[-2000:])


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    side = sized(4000, 2000)
    count = sized(48, 16)
    rounds = sized(4, 2)
    work = Path(tempfile.mkdtemp(prefix="wanxiang-bench-dl-"))
    photos = work / "photos"
    photos.mkdir()
    names = []
    for seed in range(4):
        name = f"photo{seed}.jpg"
        (photos / name).write_bytes(photo_like(side, side * 3 // 4, seed))
        names.append(name)
    print(f"{'(quick sizes) ' if quick() else ''}{side}x{side * 3 // 4} JPEG -> {WIDTH} px q{QUALITY}, "
          f"{CLIENTS} clients, {count} downloads a round, {rounds} rounds, {CORES} cores; {load()}")
    thumbor_bin = ensure_thumbor()
    servers: list[RunningServer] = []
    thumbor: subprocess.Popen[bytes] | None = None
    pool = get_context("spawn").Pool(CORES)
    try:
        uncached = start_server(work / "ours", "--workers", "0", "--pic-cache-mb", "0", "--pic-processes", str(CORES))
        servers.append(uncached)
        cached = start_server(work / "cached", "--workers", "0", "--pic-processes", str(CORES))
        servers.append(cached)
        for server in servers:
            client = SignedClient(server.url, BUCKET, SECRET_ID, SECRET_KEY)
            for name in names:
                client.request("PUT", f"/{name}", content=(photos / name).read_bytes()).raise_for_status()
        methods: dict[str, Callable[[], float]] = {}
        ours = wanxiang_getter(uncached)
        methods["wanxiang (cache off)"] = lambda: fetch_all(ours, names, count)
        if thumbor_bin is not None:
            thumbor, port = start_thumbor(thumbor_bin, photos, work)
            theirs = thumbor_getter(port)
            methods["thumbor"] = lambda: fetch_all(theirs, names, count)
        paths = [str(photos / name) for name in names]
        methods["bare pyvips"] = lambda: _timed(lambda: pool.map(bare_thumbnail, [paths[i % 4] for i in range(count)]))
        sizes = {"wanxiang": len(ours(names[0]))}
        if thumbor_bin is not None:
            sizes["thumbor"] = len(theirs(names[0]))
        for method in methods.values():  # warm: pool children, imports, caches
            method()
        spent = dict.fromkeys(methods, 0.0)
        # CPU of the serving processes: steadier than rates on a shared machine
        workers: list[int] = [process.pid for process in pool._pool]  # type: ignore[attr-defined]
        cpu_now: dict[str, Callable[[], float]] = {
            "wanxiang (cache off)": lambda: tree_cpu(uncached.process.pid),
            "bare pyvips": lambda: sum(tree_cpu(pid) for pid in workers),
        }
        if thumbor is not None:
            thumbor_pid = thumbor.pid
            cpu_now["thumbor"] = lambda: tree_cpu(thumbor_pid)
        cpu_of = dict.fromkeys(cpu_now, 0.0)
        for round_no in range(rounds):
            line = []
            for name, method in methods.items():
                cpu = cpu_now[name]()
                seconds = method()
                cpu_of[name] += cpu_now[name]() - cpu
                spent[name] += seconds
                line.append(f"{name} {count / seconds:.1f}/s")
            print(f"  round {round_no + 1}: " + ", ".join(line) + f"  [{load()}]", flush=True)
        rate = {name: rounds * count / seconds for name, seconds in spent.items()}
        print()
        for name, value in rate.items():
            print(f"{name:<24} {value:7.1f} downloads/s")
        ours_rate = rate["wanxiang (cache off)"]
        if "thumbor" in rate:
            print(f"wanxiang / thumbor:      {ours_rate / rate['thumbor']:.2f}   (aim >= 1.1)")
        print(f"wanxiang / bare pyvips:  {ours_rate / rate['bare pyvips']:.2f}   (aim >= 0.95)")
        per = {name: cpu * 1000 / (rounds * count) for name, cpu in cpu_of.items()}
        print(f"server CPU per download (API process + image children): {per['wanxiang (cache off)']:.1f} ms  [{load()}]")
        if "thumbor" in per:
            print(f"thumbor CPU per download: {per['thumbor']:.1f} ms   "
                  f"(thumbor / wanxiang CPU: {per['thumbor'] / per['wanxiang (cache off)']:.2f}, aim >= 1.1)")
        print(f"bare pyvips CPU per thumbnail: {per['bare pyvips']:.1f} ms   "
              f"(bare / wanxiang CPU: {per['bare pyvips'] / per['wanxiang (cache off)']:.2f}, aim >= 0.95)")
        print("output bytes of one thumbnail: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        hot = wanxiang_getter(cached)
        fetch_all(hot, names, len(names))  # fill the cache
        cpu = tree_cpu(cached.process.pid)
        seconds = fetch_all(hot, names, count * 4)
        cpu = tree_cpu(cached.process.pid) - cpu
        print(f"wanxiang, cached results {count * 4 / seconds:7.1f} downloads/s, "
              f"server CPU {cpu * 1000 / (count * 4):.2f} ms per download  [{load()}]")
    finally:
        pool.terminate()
        pool.join()
        if thumbor is not None:
            stop(thumbor)
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
