"""Bench: the API process's memory under concurrent image processing on download.

Eight clients at once download a 24 MP JPEG with ``?imageMogr2/rotate/90`` from a live
``wanxiang serve``. Ours: processing runs in the pool of child processes (``--pic-processes 2``,
each capped by ``RLIMIT_AS``). Beside it, in the same run and interleaved round by round: the same
server with ``--pic-processes 0``, processing inside the API process as before the pool. Printed
per setup: the API process's peak RSS (sampled from /proc every 20 ms during the rounds, and its
VmHWM), the pool children's peak RSS, and the seconds per round of 8 downloads, with the load.

Run: .venv/bin/python -m bench.pic_download_memory [--quick]
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from tests.support.hostile import big_jpeg
from tests.support.server import SECRET_ID, SECRET_KEY, RunningServer, start_server

from bench import SignedClient, sized

BUCKET = "bench-1250000000"
CONCURRENT = 8
RULE = "imageMogr2/rotate/90"


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def one_round(server: RunningServer) -> tuple[float, int, int]:
    """Seconds for 8 concurrent downloads; peak API RSS and peak child RSS seen meanwhile (KiB)."""
    peak_api = peak_child = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_api, peak_child
        while not done.is_set():
            peak_api = max(peak_api, status_kb(server.process.pid, "VmRSS"))
            for child in children(server.process.pid):
                peak_child = max(peak_child, status_kb(child, "VmRSS"))
            time.sleep(0.02)

    sizes: list[int] = []

    def download() -> None:
        client = SignedClient(server.url, BUCKET, SECRET_ID, SECRET_KEY)
        try:
            sizes.append(len(client.request("GET", "/big.jpg", params={RULE: ""}).content))
        finally:
            client.close()

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    clients = [threading.Thread(target=download) for _ in range(CONCURRENT)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    took = time.perf_counter() - started
    done.set()
    sampler.join()
    assert len(sizes) == CONCURRENT and min(sizes) > 100_000, sizes
    return took, peak_api, peak_child


def main() -> None:
    rounds = sized(3, 1)
    data = big_jpeg()
    print(f"input: 24 MP JPEG, {len(data) / 1e6:.1f} MB; {CONCURRENT} concurrent ?{RULE} downloads, {rounds} round(s)")
    with tempfile.TemporaryDirectory() as tmp:
        servers = {
            "pool (ours)": start_server(Path(tmp) / "pool", "--workers", "0", "--pic-processes", "2"),
            "in-process": start_server(Path(tmp) / "inline", "--workers", "0", "--pic-processes", "0"),
        }
        try:
            for server in servers.values():
                SignedClient(server.url, BUCKET, SECRET_ID, SECRET_KEY).request("PUT", "/big.jpg", content=data)
            results: dict[str, list[tuple[float, int, int]]] = {name: [] for name in servers}
            idle = {name: status_kb(s.process.pid, "VmRSS") for name, s in servers.items()}
            for _ in range(rounds):
                for name, server in servers.items():
                    results[name].append(one_round(server))
            load = os.getloadavg()[0]
            print(f"{'setup':<14}{'API idle':>10}{'API peak':>10}{'API HWM':>10}{'child peak':>12}{'s/round':>9}")
            for name, server in servers.items():
                runs = results[name]
                print(
                    f"{name:<14}{idle[name] / 1024:>8.0f}MB{max(r[1] for r in runs) / 1024:>8.0f}MB"
                    f"{status_kb(server.process.pid, 'VmHWM') / 1024:>8.0f}MB"
                    f"{max(r[2] for r in runs) / 1024:>10.0f}MB{min(r[0] for r in runs):>9.2f}"
                )
            ours = max(r[1] for r in results["pool (ours)"])
            base = max(r[1] for r in results["in-process"])
            ratio_time = min(r[0] for r in results["pool (ours)"]) / min(r[0] for r in results["in-process"])
            print(f"API peak RSS ours / in-process: {ours / base:.2f}; time ours / in-process: {ratio_time:.2f} "
                  f"(load {load:.2f}, {os.cpu_count()} CPUs)")
        finally:
            for server in servers.values():
                server.stop()


if __name__ == "__main__":
    main()
