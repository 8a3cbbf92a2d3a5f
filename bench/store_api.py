"""Bench: the job API on SQLite.

(a) Jobs accepted per second through ``POST /pic_jobs`` against a live ``wanxiang serve --workers 0``
    (signed requests from 16 keep-alive clients), beside a bare Starlette app (bench/bare_accept.py)
    that parses the same XML with defusedxml and INSERTs the same row into the same table, one
    commit per job, at the server's settings (WAL, synchronous=FULL); p50/p99, server CPU per job.
(b) ``GET /pic_jobs`` latency p50/p99 (first page, filtered pages, a page deep in by nextToken)
    with a small and a large job table, side by side; a page should cost O(page), so the
    large/small ratio should stay near 1.0.

Run: .venv/bin/python -m bench.store_api [--quick]   (about two minutes; --quick about 30 s)
     .venv/bin/python -m bench.store_api --accept          (a) only
     .venv/bin/python -m bench.store_api --profile DIR     (a) ours only, recorded by py-spy (must be
                                                           installed): DIR/idle.txt (wall time, every
                                                           thread) and DIR/gil.txt (the GIL holder), as
                                                           collapsed stacks with sample counts
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from tests.support.server import SECRET_ID, SECRET_KEY, free_port, start_server

from bench import REGION, SignedClient, percentile, quick, sized
from wanxiang.api.signature import SignedRequest, sign
from wanxiang.model.job import Job, JobState, QueueFamily
from wanxiang.store.codec import encode_token
from wanxiang.store.db import sqlite_url
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store

BUCKET = "bench-1250000000"
RULE = "imageMogr2/thumbnail/400x"
CLIENTS = 16
JOB_ID = re.compile(r"<JobId>([^<]+)</JobId>")


def job_request(index: int) -> bytes:
    return (
        "<Request><Tag>PicProcess</Tag>"
        f"<Input><Object>in/{index}.jpg</Object></Input>"
        f"<Operation><PicProcess><ProcessRule>{RULE}</ProcessRule></PicProcess>"
        f"<Output><Region>{REGION}</Region><Bucket>{BUCKET}</Bucket><Object>out/{index}.jpg</Object></Output>"
        "</Operation></Request>"
    ).encode()


# -- (a) accepted jobs per second -------------------------------------------------------------------


class Submitter:
    """One keep-alive connection POSTing signed submits, on http.client: a quarter of httpx's CPU
    per request, so that the 16 client threads (one process, one GIL, on the same 2 cores as the
    server) take less of the machine from the server they measure."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.host = f"{BUCKET}.cos.{REGION}.myqcloud.com"

    def post(self, body: bytes) -> str:
        now = int(time.time())
        authorization = sign(SignedRequest("POST", "/pic_jobs", [], {"host": self.host}), SECRET_ID, SECRET_KEY,
                             start=now - 60, end=now + 3600)
        self.conn.request("POST", "/pic_jobs", body=body, headers={"Host": self.host, "Authorization": authorization})
        response = self.conn.getresponse()
        text = response.read().decode()
        if response.status >= 300:
            raise RuntimeError(f"POST /pic_jobs -> {response.status}: {text[:500]}")
        return text

    def close(self) -> None:
        self.conn.close()


def submit_rate(url: str, first: int, count: int, latencies: list[float]) -> float:
    """Jobs/s through POST /pic_jobs from CLIENTS threads, each with its own keep-alive connection."""
    clients = [Submitter(url) for _ in range(CLIENTS)]
    for client in clients:  # the bucket and the connections exist before the clock starts
        client.post(job_request(-1))
    errors: list[BaseException] = []

    def post_many(client: Submitter, offset: int) -> None:
        try:
            for index in range(first + offset, first + count, CLIENTS):
                sent = time.perf_counter()
                answer = client.post(job_request(index))
                latencies.append(time.perf_counter() - sent)
                assert JOB_ID.search(answer), answer
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=post_many, args=(client, n)) for n, client in enumerate(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - started
    for client in clients:
        client.close()
    if errors:
        raise errors[0]
    return count / took


def start_bare(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """bench.bare_accept on a database our Store migrated (the same jobs table and indexes)."""
    root.mkdir(parents=True, exist_ok=True)
    store = Store.open(sqlite_url(root))
    store.queues.ensure_bucket(BUCKET, REGION, datetime.now(UTC))
    store.close()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_accept", str(root / "wanxiang.db"), str(port),
         default_queue_id(BUCKET, QueueFamily.PIC)],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/-/healthy", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the bare accept app did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this (the client) process, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


SERVER_MS = re.compile(r"method=POST path=/pic_jobs .*?duration_ms=([0-9.]+)")


def server_side_seconds(log: Path, start: int) -> list[float]:
    """Seconds per POST /pic_jobs as our access log saw them (inside the app, from the byte ``start`` on):
    the client's figure less the time in the client, in the kernel and in h11 before the app."""
    with log.open("rb") as file:
        file.seek(start)
        text = file.read().decode(errors="replace")
    return [float(ms) / 1000 for ms in SERVER_MS.findall(text)]


def accept_rates(root: Path, total: int, rounds: int) -> None:
    """Ours and the bare app, in alternating rounds so that a busy disk or CPU hurts both alike."""
    server = start_server(root / "accept", "--workers", "0")
    bare, bare_url = start_bare(root / "bare")
    per_round = total // rounds
    spent = {"ours": 0.0, "bare": 0.0}
    cpu = {"ours": 0.0, "bare": 0.0}
    client_cpu = {"ours": 0.0, "bare": 0.0}
    samples: dict[str, list[float]] = {"ours": [], "bare": []}
    inside: list[float] = []
    try:
        for round_no in range(rounds):
            for name, url, pid in (("ours", server.url, server.process.pid), ("bare", bare_url, bare.pid)):
                before, own_before = cpu_seconds(pid), own_cpu_seconds()
                log_start = server.log_path.stat().st_size
                spent[name] += per_round / submit_rate(url, round_no * per_round, per_round, samples[name])
                cpu[name] += cpu_seconds(pid) - before
                client_cpu[name] += own_cpu_seconds() - own_before
                if name == "ours":
                    time.sleep(0.2)  # the log lines of the last requests reach the file
                    inside.extend(server_side_seconds(server.log_path, log_start)[CLIENTS:])  # not the warm-ups
            print(f"  round {round_no + 1} done  [load {os.getloadavg()[0]:.1f}]", flush=True)
    finally:
        server.stop()
        bare.terminate()
        bare.wait(20)
    done = rounds * per_round
    for name, label in (("ours", "wanxiang POST /pic_jobs"), ("bare", "bare Starlette+defusedxml+INSERT")):
        print(
            f"{label:<34} {done / spent[name]:8.0f} jobs/s  p50 {percentile(samples[name], 0.5) * 1000:6.1f} ms"
            f"  p99 {percentile(samples[name], 0.99) * 1000:6.1f} ms  server CPU {cpu[name] * 1000 / done:.2f} ms/job"
            f"  (client CPU {client_cpu[name] * 1000 / done:.2f} ms/job)"
        )
    if inside:
        print(f"  ours inside the app (access log): p50 {percentile(inside, 0.5) * 1000:.1f} ms"
              f"  p99 {percentile(inside, 0.99) * 1000:.1f} ms")
    print(f"ours / bare: {spent['bare'] / spent['ours']:.2f}  (aim >= 1.0, p99 < 50 ms)  [load {os.getloadavg()[0]:.1f}]")


# -- (b) list latency -----------------------------------------------------------------------------


def state_of(index: int) -> JobState:
    """1% Failed (a selective filter), 9% Submitted, the rest Success."""
    if index % 100 == 0:
        return JobState.FAILED
    if index % 100 < 10:
        return JobState.SUBMITTED
    return JobState.SUCCESS


def fill(data_dir: Path, count: int) -> None:
    """Put ``count`` pic jobs of BUCKET into the server's SQLite file, in batches, before it starts."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(sqlite_url(data_dir))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    store.queues.ensure_bucket(BUCKET, REGION, start)
    queue_id = default_queue_id(BUCKET, QueueFamily.PIC)
    batch = 5000
    for first in range(0, count, batch):
        store.jobs.insert(
            Job(
                job_id=f"c{index:031x}",
                bucket_id=BUCKET,
                region=REGION,
                tag="PicProcess",
                queue_id=queue_id,
                state=state_of(index),
                job_level=0,
                input={"Object": f"in/{index}.jpg"},
                operation={
                    "PicProcess": {"ProcessRule": RULE},
                    "Output": {"Region": REGION, "Bucket": BUCKET, "Object": f"out/{index}.jpg"},
                },
                creation_time=start + timedelta(seconds=index),
            )
            for index in range(first, min(count, first + batch))
        )
    store.close()


def list_queries(count: int) -> dict[str, dict[str, str]]:
    # seq runs 1..count in this fresh table, so the middle seq is a cursor half way down.
    deep = encode_token(count // 2)
    return {
        "first page, size 10": {"size": "10"},
        "states=Success": {"size": "10", "states": "Success"},
        "states=Failed (1%)": {"size": "10", "states": "Failed"},
        "nextToken half way": {"size": "10", "nextToken": deep},
        "Failed + nextToken": {"size": "10", "states": "Failed", "nextToken": deep},
    }


def latencies(clients: dict[int, SignedClient], rounds: int) -> dict[tuple[int, str], list[float]]:
    """Seconds per list call; rounds interleave the table sizes so a busy machine hurts both alike."""
    samples: dict[tuple[int, str], list[float]] = {}
    for _ in range(rounds):
        for count, client in clients.items():
            for label, params in list_queries(count).items():
                started = time.perf_counter()
                response = client.request("GET", "/pic_jobs", params=params)
                samples.setdefault((count, label), []).append(time.perf_counter() - started)
                assert "<JobsDetail>" in response.text, response.text[:300]
    return samples


def report_latencies(samples: dict[tuple[int, str], list[float]], small: int, large: int) -> None:
    ms: Callable[[float], str] = lambda s: f"{s * 1000:6.2f}"  # noqa: E731
    print(f"{'GET /pic_jobs':<22} {f'{small:,} jobs p50/p99 ms':>22} {f'{large:,} jobs p50/p99 ms':>24}  large/small p50")
    for label in list_queries(small):
        a, b = samples[(small, label)], samples[(large, label)]
        a50, b50 = percentile(a, 0.5), percentile(b, 0.5)
        print(
            f"{label:<22} {ms(a50)} / {ms(percentile(a, 0.99))}       {ms(b50)} / {ms(percentile(b, 0.99))}"
            f"         {b50 / a50:5.2f}"
        )


def profile_accept(root: Path, total: int, out: Path) -> None:
    """Ours only, two rounds, each recorded by py-spy: --idle (where the wall time of every thread
    goes, waits included) and --gil (who holds the GIL, i.e. the CPU that serialises requests)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out.mkdir(parents=True, exist_ok=True)
    server = start_server(root / "accept", "--workers", "0")
    try:
        submit_rate(server.url, 0, total // 4, [])  # warm up
        for round_no, mode in enumerate(("idle", "gil"), start=1):
            recorder = subprocess.Popen(
                [spy, "record", "--pid", str(server.process.pid), "--rate", "250", "--format", "raw",
                 "--nonblocking", f"--{mode}", "--output", str(out / f"{mode}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            time.sleep(1.0)  # py-spy attaches
            samples: list[float] = []
            log_start = server.log_path.stat().st_size
            rate = submit_rate(server.url, round_no * total, total, samples)
            recorder.send_signal(signal.SIGINT)
            recorder.wait(60)
            inside = server_side_seconds(server.log_path, log_start)[CLIENTS:]
            print(f"  --{mode}: {rate:.0f} jobs/s  p50 {percentile(samples, 0.5) * 1000:.1f} ms"
                  f"  p99 {percentile(samples, 0.99) * 1000:.1f} ms  (inside the app p50"
                  f" {percentile(inside, 0.5) * 1000:.1f} p99 {percentile(inside, 0.99) * 1000:.1f}) -> {out / f'{mode}.txt'}"
                  f"  [load {os.getloadavg()[0]:.1f}]", flush=True)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_api")
    parser.add_argument("--accept", action="store_true", help="only (a), the accept rate")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="only (a) ours, recorded by py-spy into DIR")
    args = parser.parse_args()
    total = sized(3000, 600)
    small, large = sized(10_000, 5_000), sized(200_000, 50_000)
    rounds = sized(200, 40)
    print(f"{'(quick sizes) ' if quick() else ''}2-core machine; other work may share it")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if args.profile:
            profile_accept(root, total, args.profile)
            return
        print(f"\n(a) {total} POST /pic_jobs from {CLIENTS} keep-alive clients (no workers: a paused queue) vs a bare "
              "Starlette app doing the same parse and INSERT, one commit a job; interleaved rounds")
        accept_rates(root, total, 4)
        if args.accept:
            return

        print(f"\n(b) GET /pic_jobs with {small:,} and {large:,} jobs in the table, {rounds} rounds each")
        for count in (small, large):
            started = time.perf_counter()
            fill(root / f"list{count}", count)
            print(f"  filled {count:,} jobs through JobStore.insert in {time.perf_counter() - started:.1f} s")
        servers = {count: start_server(root / f"list{count}", "--workers", "0") for count in (small, large)}
        try:
            clients = {c: SignedClient(s.url, BUCKET, SECRET_ID, SECRET_KEY) for c, s in servers.items()}
            latencies(clients, 3)  # warm the page cache and the connection
            report_latencies(latencies(clients, rounds), small, large)
            for client in clients.values():
                client.close()
        finally:
            for server in servers.values():
                server.stop()


if __name__ == "__main__":
    main()
