"""Bench: a multipart upload of 256 MB in 8 MB parts through a live server, beside ``cp``.

Ours: ``POST ?uploads``, 32 × ``PUT ?partNumber&uploadId`` (8 MB each, read from a file, 2 client
threads with keep-alive connections, as ``upload_file`` does), ``POST ?uploadId`` (complete), all
signed as the SDK signs, against ``wanxiang serve --workers 0`` on the local folder backend.
Baseline: ``cp`` of the same file into the same file system, then ``sync <file>`` (the server
fsyncs what it acknowledges, so the baseline does too). 3 alternating rounds; MB/s of each and
the ratio ours/cp, the server's RSS before and at its peak during the upload (sampled every
10 ms from /proc), and the load average.

Run: .venv/bin/python -m bench.multipart_upload [--quick]   (about a minute; --quick: 64 MB)
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tests.support.server import SECRET_ID, SECRET_KEY, RunningServer, start_server

from bench import SignedClient, sized

BUCKET = "bench-1250000000"
PART = 8 << 20
THREADS = 2
ROUNDS = 3
UPLOAD_ID = re.compile(r"<UploadId>([^<]+)</UploadId>")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakRss:
    """The largest RSS of a process while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_kb(self.pid))

    def __enter__(self) -> PeakRss:
        self.peak = rss_kb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def upload(server: RunningServer, source: Path, key: str) -> float:
    """Seconds for initiate + every part + complete."""
    size = source.stat().st_size
    clients = [SignedClient(server.url, BUCKET, SECRET_ID, SECRET_KEY) for _ in range(THREADS)]
    started = time.perf_counter()
    created = clients[0].request("POST", f"/{key}", params={"uploads": ""})
    match = UPLOAD_ID.search(created.text)
    assert match, created.text
    upload_id = match.group(1)
    numbers = list(range(1, (size + PART - 1) // PART + 1))
    etags: dict[int, str] = {}
    errors: list[BaseException] = []

    def send(client: SignedClient, mine: list[int]) -> None:
        try:
            with source.open("rb") as file:
                for number in mine:
                    file.seek((number - 1) * PART)
                    body = file.read(PART)
                    params = {"partNumber": str(number), "uploadId": upload_id}
                    etags[number] = client.request("PUT", f"/{key}", params=params, content=body).headers["ETag"]
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=send, args=(c, numbers[i::THREADS])) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    parts = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{etags[n]}</ETag></Part>" for n in numbers)
    done = clients[0].request(
        "POST", f"/{key}", params={"uploadId": upload_id},
        content=f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode(),
    )
    took = time.perf_counter() - started
    assert "<ETag>" in done.text, done.text
    for client in clients:
        client.close()
    return took


def copy(source: Path, target: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    subprocess.run(["sync", str(target)], check=True)
    took = time.perf_counter() - started
    target.unlink()
    return took


def main() -> None:
    size = sized(256 << 20, 64 << 20)
    with tempfile.TemporaryDirectory(prefix="wanxiang-bench-", dir=os.environ.get("WANXIANG_BENCH_DIR")) as tmp:
        root = Path(tmp)
        source = root / "source.bin"
        with source.open("wb") as out:
            for _ in range(size // (1 << 20)):
                out.write(os.urandom(1 << 20))
        server = start_server(root / "server", "--workers", "0")
        try:
            warm = SignedClient(server.url, BUCKET, SECRET_ID, SECRET_KEY)
            warm.request("PUT", "/")
            warm.close()
            mb = size / (1 << 20)
            print(f"multipart upload of {mb:.0f} MB in {PART >> 20} MB parts ({THREADS} client threads) vs cp + sync, same disk")
            print(f"{'round':>5} {'ours MB/s':>10} {'cp MB/s':>9} {'ours/cp':>8} {'RSS before MB':>14} {'RSS peak MB':>12} {'load':>5}")
            ratios = []
            peaks = []
            for index in range(ROUNDS):
                cp_seconds = copy(source, root / "server" / "copy.bin")
                with PeakRss(server.process.pid) as rss:
                    before = rss.peak
                    ours_seconds = upload(server, source, f"round{index}.bin")
                stored = root / "server" / "objects" / BUCKET / f"round{index}.bin"
                assert stored.stat().st_size == size
                stored.unlink()  # keep the disk use to one copy at a time
                ratio = cp_seconds / ours_seconds
                ratios.append(ratio)
                peaks.append(rss.peak)
                print(
                    f"{index + 1:>5} {mb / ours_seconds:>10.0f} {mb / cp_seconds:>9.0f} {ratio:>8.2f}"
                    f" {before / 1024:>14.0f} {rss.peak / 1024:>12.0f} {os.getloadavg()[0]:>5.1f}"
                )
            print(f"median ours/cp: {sorted(ratios)[len(ratios) // 2]:.2f}; server peak RSS: {max(peaks) / 1024:.0f} MB")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
