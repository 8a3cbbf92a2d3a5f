"""Bench: wanxiang on S3 (a real SeaweedFS) beside wanxiang on its local folder, and beside SeaweedFS direct.

(a) Thumbnail jobs end to end (submit -> every job Success, output stored) through two live
    ``wanxiang serve --workers 2``, one on ``--storage-url s3://...``, one on the local folder,
    rounds interleaved: the price of fetching inputs from and storing outputs to S3.
(b) 64 MB PUT and GET through wanxiang (on S3) beside the same transfers straight to SeaweedFS, with
    the same HTTP client (httpx, streaming the file up and the body down in 1 MB pieces; SeaweedFS
    requests are presigned by boto3, so the client does no hashing on either side). Aim: >= 0.8.
    Beside it, the peak RSS growth of the wanxiang API process over all the transfers: streaming
    both ways keeps it far below the object size.

Run: .venv/bin/python -m bench.s3_e2e [--quick]
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import httpx
from tests.support.seaweedfs import BACKING_BUCKET, start_seaweedfs
from tests.support.server import SECRET_ID, SECRET_KEY, RunningServer, start_server

from bench import REGION, SignedClient, quick, sized
from bench.pic_e2e import BUCKET, e2e_round
from bench.pic_engine import photo_like
from wanxiang.api.signature import SignedRequest, sign

MB = 1 << 20
CHUNK = MB


def vm_kib(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def file_chunks(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


def timed_put(http: httpx.Client, url: str, headers: dict[str, str], path: Path) -> float:
    started = time.perf_counter()
    response = http.put(url, content=file_chunks(path), headers={**headers, "Content-Length": str(path.stat().st_size)})
    response.raise_for_status()
    return time.perf_counter() - started


def timed_get(http: httpx.Client, url: str, headers: dict[str, str], expected: int) -> float:
    started = time.perf_counter()
    got = 0
    with http.stream("GET", url, headers=headers) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(CHUNK):
            got += len(chunk)
    assert got == expected, (got, expected)
    return time.perf_counter() - started


def wanxiang_headers(method: str, path: str) -> dict[str, str]:
    host = f"{BUCKET}.cos.{REGION}.myqcloud.com"
    now = int(time.time())
    auth = sign(SignedRequest(method, path, [], {"host": host}), SECRET_ID, SECRET_KEY, start=now - 60, end=now + 3600)
    return {"Host": host, "Authorization": auth}


def thumbnails(s3_server: RunningServer, local_server: RunningServer, folder: Path) -> None:
    photos, repeat, rounds = sized(4, 2), sized(3, 2), sized(3, 2)
    print(f"\n(a) making {photos} photo-like 2000x1500 JPEGs; {rounds} rounds of {photos * repeat} thumbnail jobs each")
    clients = {name: SignedClient(server.url, BUCKET, SECRET_ID, SECRET_KEY)
               for name, server in (("s3", s3_server), ("local", local_server))}
    try:
        keys = []
        for seed in range(photos):
            body = photo_like(2000, 1500, seed)
            keys.append(f"in/photo{seed}.jpg")
            for client in clients.values():
                client.request("PUT", f"/{keys[-1]}", content=body)
        keys = keys * repeat
        for client in clients.values():
            e2e_round(client, keys[:2], -1)  # warm: imports, libvips, the workers' first claim
        spent = {"s3": 0.0, "local": 0.0}
        for round_no in range(rounds):
            for name, client in clients.items():
                spent[name] += e2e_round(client, keys, round_no)
    finally:
        for client in clients.values():
            client.close()
    rate = {name: rounds * len(keys) / seconds for name, seconds in spent.items()}
    print(f"    wanxiang serve --workers 2 on S3 (SeaweedFS)   {rate['s3']:6.2f} jobs/s")
    print(f"    wanxiang serve --workers 2 on the local folder {rate['local']:6.2f} jobs/s")
    print(f"    S3 / local: {rate['s3'] / rate['local']:.2f}   load {os.getloadavg()[0]:.1f}")


def transfers(s3_server: RunningServer, weed_client, folder: Path) -> None:  # type: ignore[no-untyped-def]
    size_mb, rounds = sized(64, 16), sized(4, 2)
    source = folder / "object.bin"
    with source.open("wb") as out:
        for n in range(size_mb):
            out.write(os.urandom(MB) if n % 8 == 0 else bytes([n % 251]) * MB)
    size = source.stat().st_size
    print(f"\n(b) {rounds} rounds of one {size_mb} MB PUT and one streamed GET each way, interleaved")
    pid = s3_server.process.pid
    spent = {"wx put": 0.0, "direct put": 0.0, "wx get": 0.0, "direct get": 0.0}
    with httpx.Client(timeout=300) as http:
        direct_key = "direct/object.bin"

        def direct(method: str) -> str:
            operation = "put_object" if method == "PUT" else "get_object"
            return str(weed_client.generate_presigned_url(
                operation, Params={"Bucket": BACKING_BUCKET, "Key": direct_key}, ExpiresIn=3600))

        wx_url = f"{s3_server.url}/big/object.bin"
        timed_put(http, wx_url, wanxiang_headers("PUT", "/big/object.bin"), source)  # warm both paths
        timed_put(http, direct("PUT"), {}, source)
        before = vm_kib(pid, "VmRSS")
        for _ in range(rounds):
            spent["wx put"] += timed_put(http, wx_url, wanxiang_headers("PUT", "/big/object.bin"), source)
            spent["direct put"] += timed_put(http, direct("PUT"), {}, source)
            spent["wx get"] += timed_get(http, wx_url, wanxiang_headers("GET", "/big/object.bin"), size)
            spent["direct get"] += timed_get(http, direct("GET"), {}, size)
        peak = vm_kib(pid, "VmHWM")
    rate = {name: size_mb * rounds / seconds for name, seconds in spent.items()}
    print(f"    PUT through wanxiang {rate['wx put']:7.1f} MB/s   direct to SeaweedFS {rate['direct put']:7.1f} MB/s"
          f"   ratio {rate['wx put'] / rate['direct put']:.2f}   (aim >= 0.8)")
    print(f"    GET through wanxiang {rate['wx get']:7.1f} MB/s   direct to SeaweedFS {rate['direct get']:7.1f} MB/s"
          f"   ratio {rate['wx get'] / rate['direct get']:.2f}   (aim >= 0.8)")
    print(f"    wanxiang API process: RSS {before / 1024:.0f} MiB before the rounds, peak {peak / 1024:.0f} MiB"
          f" (growth {(peak - before) / 1024:.0f} MiB for {size_mb} MB objects)   load {os.getloadavg()[0]:.1f}")


def main() -> None:
    print(f"{'(quick sizes) ' if quick() else ''}2-core machine shared with other work; load {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        weed = start_seaweedfs(folder / "seaweedfs")
        servers: list[RunningServer] = []
        try:
            servers.append(start_server(folder / "s3", "--workers", "2", "--storage-url", weed.storage_url("bench")))
            servers.append(start_server(folder / "local", "--workers", "2"))
            thumbnails(servers[0], servers[1], folder)
            servers.pop().stop()  # the local server's idle workers would only add noise to (b)
            transfers(servers[0], weed.client(), folder)
        finally:
            for server in servers:
                server.stop()
            weed.stop()


if __name__ == "__main__":
    main()
