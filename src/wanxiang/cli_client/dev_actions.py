"""Dev-mode client commands (reset, seed, test modes, advance) and presigned URLs."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from wanxiang.cli_client.exits import OK, USAGE
from wanxiang.cli_client.http import ApiError, Client, quote_key
from wanxiang.cli_client.output import as_list, emit
from wanxiang.model.tree import Tree


def jobs_advance(client: Client, args: argparse.Namespace) -> int:
    params = {"finish": ""} if args.finish else {}
    tree = client.xml("POST", f"/-/jobs/{args.job_id}/advance", params=params, bucket="")
    emit(tree.get("JobsDetail", tree), as_json=args.json)
    return OK


def reset(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("POST", "/-/reset", bucket="")
    emit(tree.get("Reset", tree), as_json=args.json)
    return OK


def seed(client: Client, args: argparse.Namespace) -> int:
    from wanxiang.services.dev import seed_files

    loaded: list[Tree] = []
    for item in seed_files(Path(args.dir)):
        data = item.path.read_bytes()
        path = "/" + quote_key(item.key)
        if _same_object(client, item.bucket, path, data, item.content_type):
            state = "unchanged"
        else:
            client.request("PUT", path, body=data, headers={"content-type": item.content_type}, bucket=item.bucket)
            state = "uploaded"
        loaded.append({"Bucket": item.bucket, "Key": item.key, "ContentType": item.content_type, "State": state})
    emit({"Objects": loaded}, as_json=args.json, rows=loaded, columns=("Bucket", "Key", "ContentType", "State"))
    return OK


def _same_object(client: Client, bucket: str, path: str, data: bytes, content_type: str) -> bool:
    """Already there with these bytes (its ETag is their MD5) and this Content-Type."""
    try:
        head = client.request("HEAD", path, bucket=bucket)
    except ApiError:
        return False
    etag = f'"{hashlib.md5(data).hexdigest()}"'
    return head.headers.get("etag") == etag and head.headers.get("content-type", "").startswith(content_type)


def test_mode_set(client: Client, args: argparse.Namespace) -> int:
    request: Tree = {"Mode": args.mode, "QueueId": args.queue_id, "Tag": args.tag}
    if args.mode == "fail-next":
        if len(args.args) < 2 or not args.args[0].isdigit():
            print("fail-next needs: N Code [Message]", file=sys.stderr)
            return USAGE
        request.update(Count=args.args[0], Code=args.args[1], Message=" ".join(args.args[2:]))
    tree = client.xml("PUT", "/-/test-mode", request=request, bucket="")
    emit(tree.get("TestMode", tree), as_json=args.json)
    return OK


def test_mode_show(client: Client, args: argparse.Namespace) -> int:
    rows = as_list(client.xml("GET", "/-/test-mode", bucket="").get("TestMode"))
    emit({"TestMode": rows}, as_json=args.json, rows=rows, columns=("QueueId", "Mode", "Tag", "Count", "Code"))
    return OK


def presign(client: Client, args: argparse.Namespace) -> int:
    print(client.presign(args.method, "/" + quote_key(args.key), seconds=args.expires))
    return OK

