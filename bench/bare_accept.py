"""The baseline for ``POST /pic_jobs``: a minimal Starlette app that does the same work with nothing
of ours around it: parse the XML with defusedxml, build the job's row, INSERT it into the same
``jobs`` table (migrated by our Store) and COMMIT, one transaction per request, at the server's
settings (WAL, synchronous=FULL, busy_timeout), one sqlite3 connection per thread; then answer the
JobId. No signature check, no validation, no queue lookup: what is left is the floor.

Run by bench.store_api: ``python -m bench.bare_accept <db path> <port>`` (uvicorn, h11, as ours).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import time
import uuid

import uvicorn
from defusedxml.ElementTree import fromstring
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COLUMNS = (
    "job_id", "bucket_id", "region", "tag", "queue_id", "state", "job_level", "input_object", "workflow_id",
    "inventory_trigger_job_id", "create_us", "code", "message", "body", "result", "attempts",
)
INSERT = f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
_local = threading.local()


def tree(element: object) -> object:
    children = list(element)  # type: ignore[call-overload]
    if not children:
        return (element.text or "").strip()  # type: ignore[attr-defined]
    return {child.tag: tree(child) for child in children}


def connection(path: str) -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        _local.conn = conn
    return conn


def app(path: str, queue_id: str) -> Starlette:
    def submit(request_body: bytes, bucket: str) -> str:
        request = tree(fromstring(request_body, forbid_dtd=True))
        assert isinstance(request, dict)
        job_id = "c" + uuid.uuid1().hex
        operation = request.get("Operation", {})
        body = json.dumps({"input": request.get("Input", {}), "operation": operation, "params": operation})
        row = (
            job_id, bucket, "ap-guangzhou", request.get("Tag", "PicProcess"), queue_id, "Submitted", 0,
            request.get("Input", {}).get("Object", ""), "", "", time.time_ns() // 1000, "Success", "", body, "{}", 0,
        )
        conn = connection(path)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(INSERT, row)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return job_id

    async def pic_jobs(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        body = await request.body()
        bucket = request.headers.get("host", "bench-1250000000").split(".", 1)[0]
        job_id = await run_in_threadpool(submit, body, bucket)
        return Response(
            f"<Response><JobsDetail><JobId>{job_id}</JobId><State>Submitted</State></JobsDetail></Response>",
            media_type="application/xml",
        )

    async def healthy(_: Request) -> Response:
        return Response("ok")

    return Starlette(routes=[Route("/pic_jobs", pic_jobs, methods=["POST"]), Route("/-/healthy", healthy)])


if __name__ == "__main__":
    db, port, queue = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    uvicorn.run(app(db, queue), host="127.0.0.1", port=port, http="h11", log_level="warning", access_log=False)
