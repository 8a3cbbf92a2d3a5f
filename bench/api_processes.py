"""Bench: ``POST /pic_jobs`` on PostgreSQL with ``--api-processes 1`` and ``--api-processes 2``.

Two live ``wanxiang serve --workers 0`` on fresh schemas of one PostgreSQL (no workers: the jobs
stay queued), one with one API process, one with two; the same signed requests from 16 keep-alive
clients (bench/store_api.py's ``submit_rate``), in interleaved rounds (the order flips every round)
so that a busy machine hurts both alike. Prints jobs/s, p50/p99 per request, the servers' CPU per
job (the serve process and every process under it, from /proc; PostgreSQL's own CPU is not in it)
beside the bench client's (its 16 threads sign and send), the load average per round, the share of the submits each API process answered (from the access
log, whose lines carry the pid), and the ratio 2 processes / 1.

Run: .venv/bin/python -m bench.api_processes [--quick]   (about a minute; --quick about 20 s)
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.support.processes import descendants
from tests.support.server import RunningServer, start_server

from bench import percentile, quick, sized
from bench.pg_claim import PG_URL, fresh_schema
from bench.store_api import CLIENTS, cpu_seconds, submit_rate

ANSWERED = re.compile(r"wanxiang\.access\[(\d+)\] request .*method=POST path=/pic_jobs ")


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and every live process under it."""
    total = 0.0
    for member in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):  # ended meanwhile
            total += cpu_seconds(member)
    return total


def split(server: RunningServer) -> str:
    """The share of POST /pic_jobs each process answered, largest first."""
    counts = Counter(m.group(1) for m in ANSWERED.finditer(server.log()))
    total = sum(counts.values()) or 1
    return " / ".join(f"{n * 100 / total:.0f}%" for _, n in counts.most_common())


def main() -> None:
    total, rounds = sized(4000, 800), sized(4, 2)
    per_round = total // rounds
    print(f"{'(quick sizes) ' if quick() else ''}{os.cpu_count()}-core machine; other work may share it")
    print(f"{total} POST /pic_jobs per server from {CLIENTS} keep-alive clients, PostgreSQL, no workers; "
          f"{rounds} interleaved rounds")
    with tempfile.TemporaryDirectory() as folder, fresh_schema("api1") as one, fresh_schema("api2") as two:
        root = Path(folder)
        servers: dict[int, RunningServer] = {}
        try:
            for processes, schema in ((1, one), (2, two)):
                servers[processes] = start_server(
                    root / f"api{processes}", "--workers", "0", "--api-processes", str(processes),
                    "--database-url", PG_URL, "--database-schema", schema,
                )
                up = time.monotonic() + 60  # until every API process serves
                while "wanxiang listening" not in servers[processes].log() and time.monotonic() < up:
                    time.sleep(0.1)
            spent = dict.fromkeys(servers, 0.0)
            cpu = dict.fromkeys(servers, 0.0)
            client_cpu = dict.fromkeys(servers, 0.0)
            samples: dict[int, list[float]] = {n: [] for n in servers}
            for round_no in range(rounds):
                order = sorted(servers) if round_no % 2 == 0 else sorted(servers, reverse=True)
                for processes in order:
                    server = servers[processes]
                    before, client_before = tree_cpu(server.process.pid), time.process_time()
                    rate = submit_rate(server.url, round_no * per_round, per_round, samples[processes])
                    spent[processes] += per_round / rate
                    cpu[processes] += tree_cpu(server.process.pid) - before
                    client_cpu[processes] += time.process_time() - client_before
                    print(f"  round {round_no + 1}, {processes} API process(es): {rate:6.0f} jobs/s  "
                          f"[load {os.getloadavg()[0]:.1f}]", flush=True)
            done = rounds * per_round
            for processes, server in servers.items():
                print(
                    f"--api-processes {processes}   {done / spent[processes]:6.0f} jobs/s  "
                    f"p50 {percentile(samples[processes], 0.5) * 1000:6.1f} ms  "
                    f"p99 {percentile(samples[processes], 0.99) * 1000:6.1f} ms  "
                    f"server CPU {cpu[processes] * 1000 / done:.2f} ms/job (client {client_cpu[processes] * 1000 / done:.2f})"
                    f"  answered by {split(server)}"
                )
            print(f"2 processes / 1: {spent[1] / spent[2]:.2f} jobs/s, "
                  f"{cpu[2] / cpu[1]:.2f} CPU per job  [load {os.getloadavg()[0]:.1f}]")
        finally:
            for server in servers.values():
                server.stop()


if __name__ == "__main__":
    main()
