"""Bench: the console's jobs page with 10k and 200k jobs in the table.

A signed-in console session asks a live ``wanxiang serve --workers 0`` for the jobs page (first
page, a state filter, a page deep in by nextToken, the rows fragment the live view refetches);
rounds interleave the two table sizes so a busy machine hurts both alike. A page should cost
O(page): the 200k/10k ratio should stay near 1.0 (the issue asks for at most 1.5). Beside each
figure: the API's own ``GET /pic_jobs`` for the same filter, the store call the page is built on.

Run: .venv/bin/python -m bench.console_jobs [--quick]   (about two minutes; --quick about 40 s)
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import httpx
from tests.support.server import SECRET_ID, SECRET_KEY, start_server

from bench import SignedClient, percentile, quick, sized
from bench.store_api import BUCKET, fill
from wanxiang.store.codec import encode_token
from wanxiang.store.stats import IN_FLIGHT_CAP


def queries(count: int) -> dict[str, dict[str, str]]:
    deep = encode_token(count // 2)
    return {
        "first page (20)": {"size": "20"},
        "states=Failed (1%)": {"size": "20", "states": "Failed"},
        "nextToken half way": {"size": "20", "nextToken": deep},
        "Failed + nextToken": {"size": "20", "states": "Failed", "nextToken": deep},
    }


def console_client(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    signed = client.post("/-/console/login", data={"secret_id": SECRET_ID, "secret_key": SECRET_KEY},
                         follow_redirects=True)
    assert signed.status_code == 200 and "Overview" in signed.text, signed.text[:300]
    return client


def main() -> None:
    small, large = sized(10_000, 5_000), sized(200_000, 50_000)
    rounds = sized(60, 15)
    print(f"{'(quick sizes) ' if quick() else ''}2-core machine; load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for count in (small, large):
            started = time.perf_counter()
            fill(root / f"c{count}", count)
            print(f"  filled {count:,} jobs in {time.perf_counter() - started:.1f} s")
        servers = {count: start_server(root / f"c{count}", "--workers", "0") for count in (small, large)}
        try:
            pages = {c: console_client(s.url) for c, s in servers.items()}
            apis = {c: SignedClient(s.url, BUCKET, SECRET_ID, SECRET_KEY) for c, s in servers.items()}
            samples: dict[tuple[str, int, str], list[float]] = {}
            for n in range(rounds + 3):
                for count in (small, large):
                    for label, params in queries(count).items():
                        for kind, call in (
                            ("page", lambda p=params, c=count: pages[c].get(f"/-/console/b/{BUCKET}/jobs", params=p)),
                            ("rows", lambda p=params, c=count: pages[c].get(f"/-/console/b/{BUCKET}/jobs/rows", params=p)),
                            ("api", lambda p=params, c=count: apis[c].request("GET", "/pic_jobs", params=p)),
                        ):
                            started = time.perf_counter()
                            response = call()
                            took = time.perf_counter() - started
                            assert response.status_code == 200, response.text[:300]
                            if n >= 3:  # the first rounds warm caches and connections
                                samples.setdefault((kind, count, label), []).append(took)
                    started = time.perf_counter()
                    overview = pages[count].get("/-/console/")
                    assert overview.status_code == 200
                    if n >= 3:
                        samples.setdefault(("overview", count, ""), []).append(time.perf_counter() - started)
            report(samples, small, large)
            print(f"load average {os.getloadavg()[0]:.2f} at the end")
            for client in pages.values():
                client.close()
            for api in apis.values():
                api.close()
        finally:
            for server in servers.values():
                server.stop()


def report(samples: dict[tuple[str, int, str], list[float]], small: int, large: int) -> None:
    def p50(kind: str, count: int, label: str) -> float:
        return percentile(samples[(kind, count, label)], 0.5) * 1000

    print(f"\n{'p50 ms':<22} {'page ' + f'{small // 1000}k':>9} {'page ' + f'{large // 1000}k':>10} {'large/small':>11}"
          f" {'rows l/s':>9} {'API ' + f'{large // 1000}k':>9} {'page/API':>9}")
    for label in queries(small):
        a, b = p50("page", small, label), p50("page", large, label)
        rows = p50("rows", large, label) / p50("rows", small, label)
        api = p50("api", large, label)
        print(f"{label:<22} {a:9.2f} {b:10.2f} {b / a:11.2f} {rows:9.2f} {api:9.2f} {b / api:9.2f}")
    a, b = p50("overview", small, ""), p50("overview", large, "")
    print(f"{'overview page':<22} {a:9.2f} {b:10.2f} {b / a:11.2f}   (9% of the jobs are Submitted: the counts walk "
          f"the backlog up to {IN_FLIGHT_CAP:,} a state)")


if __name__ == "__main__":
    main()
