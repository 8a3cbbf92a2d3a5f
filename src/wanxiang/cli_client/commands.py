"""Client commands of ``wanxiang``: the API over HTTP, signed like the SDK.

Exit codes scripts can use: 0 done; 1 a waited job ended Failed or Cancel; 2 bad usage;
3 the server answered an error; 4 the server could not be reached; 5 ``jobs wait`` timed out.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wanxiang.cli_client.http import ApiError, Client, Unreachable, quote_key, resolve_profile
from wanxiang.cli_client.output import as_list, emit
from wanxiang.model.tree import Tree

OK, JOB_FAILED, USAGE, API_ERROR, UNREACHABLE, TIMED_OUT = 0, 1, 2, 3, 4, 5
QUEUE_PATHS = {"pic": "picqueue", "media": "queue", "ai": "ai_queue", "asr": "asrqueue"}
JOB_COLUMNS = ("JobId", "Tag", "State", "Code", "CreationTime", "Input.Object")
TERMINAL = ("Success", "Failed", "Cancel")
Run = Callable[[Client, argparse.Namespace], int]


def register(sub: Any) -> None:
    """Add the client commands to the ``wanxiang`` parser's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint", help="server URL (WANXIANG_ENDPOINT; default http://127.0.0.1:8080)")
    common.add_argument("--secret-id", help="WANXIANG_SECRET_ID; default the dev-mode SecretId")
    common.add_argument("--secret-key", help="WANXIANG_SECRET_KEY; default the dev-mode SecretKey")
    common.add_argument("--bucket", help="<name>-<appid> (WANXIANG_BUCKET)")
    common.add_argument("--region", help="WANXIANG_REGION; default ap-guangzhou")
    common.add_argument("--json", action="store_true", help="print JSON for scripts instead of a table")

    def group(name: str, help_text: str) -> Any:
        return sub.add_parser(name, help=help_text).add_subparsers(dest="action", required=True)

    def command(parent: Any, name: str, run: Run, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, parents=[common], help=help_text)
        parser.set_defaults(run=lambda args: _guarded(run, args))
        return parser

    jobs = group("jobs", "list, get, cancel, wait for and resubmit jobs")
    listing = command(jobs, "list", _jobs_list, "list jobs (the API's filters)")
    for flag in ("tag", "queue-id", "states", "size", "next-token", "order-by-time", "workflow-id",
                 "input-object", "batch-id", "start-creation-time", "end-creation-time"):
        listing.add_argument(f"--{flag}")
    listing.add_argument("--family", default="jobs", choices=("jobs", "pic_jobs", "ai_jobs", "asr_jobs"))
    command(jobs, "get", _jobs_get, "show jobs").add_argument("job_ids", nargs="+")
    command(jobs, "cancel", _jobs_cancel, "cancel a Submitted or Running job").add_argument("job_id")
    wait = command(jobs, "wait", _jobs_wait, "wait until a job ends; exit 1 if it Failed or was cancelled")
    wait.add_argument("job_id")
    wait.add_argument("--timeout", type=float, default=600.0)
    wait.add_argument("--interval", type=float, default=0.5)
    command(jobs, "resubmit", _jobs_resubmit, "submit a job again with the same Input and Operation").add_argument("job_id")
    advance = command(jobs, "advance", _jobs_advance, "dev mode, manual test mode: move a job one step on")
    advance.add_argument("job_id")
    advance.add_argument("--finish", action="store_true", help="all the way: run it now")

    queues = group("queues", "list, pause and resume queues")
    qlist = command(queues, "list", _queues_list, "list queues")
    qlist.add_argument("--family", choices=sorted(QUEUE_PATHS), help="default all four")
    qlist.add_argument("--queue-ids")
    qlist.add_argument("--state")
    command(queues, "pause", _queue_state("Paused"), "pause a queue").add_argument("queue_id")
    command(queues, "resume", _queue_state("Active"), "resume a paused queue").add_argument("queue_id")

    templates = group("templates", "list and show templates")
    tlist = command(templates, "list", _templates_list, "list templates")
    for flag in ("tag", "name", "ids", "category", "page-number", "page-size"):
        tlist.add_argument(f"--{flag}")
    command(templates, "get", _templates_get, "show a template").add_argument("template_id")

    objects = group("objects", "list, upload, download and delete objects")
    ls = command(objects, "ls", _objects_ls, "list objects")
    ls.add_argument("prefix", nargs="?", default="")
    ls.add_argument("--delimiter", default="")
    ls.add_argument("--max-keys", default="1000")
    put = command(objects, "put", _objects_put, "upload a file")
    put.add_argument("file")
    put.add_argument("key")
    put.add_argument("--content-type")
    get = command(objects, "get", _objects_get, "download an object (to stdout with -)")
    get.add_argument("key")
    get.add_argument("file", nargs="?", default="-")
    command(objects, "rm", _objects_rm, "delete an object").add_argument("key")

    batch = group("batch", "list, show and cancel batch (inventory trigger) jobs")
    blist = command(batch, "list", _batch_list, "list batch jobs")
    for flag in ("states", "size", "next-token", "order-by-time", "type"):
        blist.add_argument(f"--{flag}")
    command(batch, "get", _batch_get, "show a batch job").add_argument("job_id")
    command(batch, "cancel", _batch_cancel, "cancel a batch job").add_argument("job_id")

    workflows = group("workflows", "list and trigger workflows")
    wlist = command(workflows, "list", _workflows_list, "list workflows")
    for flag in ("ids", "name", "page-number", "page-size"):
        wlist.add_argument(f"--{flag}")
    trigger = command(workflows, "trigger", _workflows_trigger, "run a workflow on an object")
    trigger.add_argument("workflow_id")
    trigger.add_argument("key")

    dev = sub.add_parser("reset", parents=[common], help="dev mode: empty every bucket, job, queue, template...")
    dev.set_defaults(run=lambda args: _guarded(_reset, args))
    seed = sub.add_parser("seed", parents=[common], help="upload DIR/<bucket>/<key> files as objects")
    seed.add_argument("dir")
    seed.set_defaults(run=lambda args: _guarded(_seed, args))
    modes = group("test-mode", "dev mode: how the worker treats jobs (normal, manual, fail-next, instant)")
    mset = command(modes, "set", _test_mode_set, "set the test mode, globally or for one queue")
    mset.add_argument("mode", choices=("normal", "manual", "fail-next", "instant"))
    mset.add_argument("args", nargs="*", help="fail-next: N Code [Message]")
    mset.add_argument("--queue-id", default="", help="default: every queue")
    mset.add_argument("--tag", default="", help="fail-next: only jobs of this Tag")
    command(modes, "show", _test_mode_show, "show the test modes in force")
    presign = sub.add_parser("presign", parents=[common], help="print a presigned URL (for curl)")
    presign.add_argument("method", choices=("GET", "PUT", "HEAD", "DELETE"))
    presign.add_argument("key")
    presign.add_argument("--expires", type=int, default=600)
    presign.set_defaults(run=lambda args: _guarded(_presign, args))


def _guarded(run: Run, args: argparse.Namespace) -> int:
    flags = {name: getattr(args, name, None) for name in ("endpoint", "secret_id", "secret_key", "bucket", "region")}
    client = Client(resolve_profile(flags))
    try:
        return run(client, args)
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return API_ERROR
    except Unreachable as error:
        print(f"error: cannot reach {error}", file=sys.stderr)
        return UNREACHABLE
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE


def _params(args: argparse.Namespace, names: dict[str, str]) -> dict[str, str]:
    return {wire: str(getattr(args, attr)) for attr, wire in names.items() if getattr(args, attr, None)}


# -- jobs ------------------------------------------------------------------------------------------

JOB_FILTERS = {
    "tag": "tag", "queue_id": "queueId", "states": "states", "size": "size", "next_token": "nextToken",
    "order_by_time": "orderByTime", "workflow_id": "workflowId", "input_object": "inputObject",
    "batch_id": "inventoryTriggerJobId", "start_creation_time": "startCreationTime",
    "end_creation_time": "endCreationTime",
}


def _jobs_list(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("GET", f"/{args.family}", params=_params(args, JOB_FILTERS))
    jobs = as_list(tree.get("JobsDetail"))
    emit({"JobsDetail": jobs, "NextToken": tree.get("NextToken", "")}, as_json=args.json, rows=jobs, columns=JOB_COLUMNS)
    return OK


def _get_jobs(client: Client, ids: list[str]) -> tuple[list[Tree], list[str]]:
    tree = client.xml("GET", "/jobs/" + ",".join(ids))
    return as_list(tree.get("JobsDetail")), [str(i) for i in as_list(tree.get("NonExistJobIds"))]


def _jobs_get(client: Client, args: argparse.Namespace) -> int:
    jobs, missing = _get_jobs(client, args.job_ids)
    emit({"JobsDetail": jobs, "NonExistJobIds": missing}, as_json=args.json, rows=jobs, columns=JOB_COLUMNS)
    if missing:
        print(f"no such job: {', '.join(missing)}", file=sys.stderr)
        return API_ERROR
    return OK


def _jobs_cancel(client: Client, args: argparse.Namespace) -> int:
    client.request("PUT", f"/jobs/{args.job_id}", params={"cancel": ""})
    jobs, _ = _get_jobs(client, [args.job_id])
    emit(jobs[0] if jobs else {"JobId": args.job_id}, as_json=args.json)
    return OK


def _jobs_wait(client: Client, args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    while True:
        jobs, missing = _get_jobs(client, [args.job_id])
        if missing:
            print(f"no such job: {args.job_id}", file=sys.stderr)
            return API_ERROR
        job = jobs[0]
        if job.get("State") in TERMINAL:
            emit(job, as_json=args.json)
            return OK if job.get("State") == "Success" else JOB_FAILED
        if time.monotonic() >= deadline:
            emit(job, as_json=args.json)
            print(f"job {args.job_id} still {job.get('State')} after {args.timeout:g} s", file=sys.stderr)
            return TIMED_OUT
        time.sleep(args.interval)


def _jobs_resubmit(client: Client, args: argparse.Namespace) -> int:
    jobs, missing = _get_jobs(client, [args.job_id])
    if missing:
        print(f"no such job: {args.job_id}", file=sys.stderr)
        return API_ERROR
    old = jobs[0]
    # The detail carries the job's results beside its Operation (``PicProcessResult``, ``MediaResult``...).
    operation = {k: v for k, v in dict(old.get("Operation") or {}).items() if not k.endswith("Result")}
    request: Tree = {"Tag": old["Tag"], "Input": {"Object": (old.get("Input") or {}).get("Object", "")},
                     "Operation": operation, "QueueId": old.get("QueueId", "")}
    tree = client.xml("POST", "/jobs", request=request)
    new = as_list(tree.get("JobsDetail"))
    emit(new[0] if len(new) == 1 else {"JobsDetail": new}, as_json=args.json)
    return OK


def _jobs_advance(client: Client, args: argparse.Namespace) -> int:
    params = {"finish": ""} if args.finish else {}
    tree = client.xml("POST", f"/-/jobs/{args.job_id}/advance", params=params, bucket="")
    emit(tree.get("JobsDetail", tree), as_json=args.json)
    return OK


# -- queues ----------------------------------------------------------------------------------------

def _queues(client: Client, family: str | None, params: dict[str, str]) -> list[Tree]:
    found: list[Tree] = []
    for name in [family] if family else sorted(QUEUE_PATHS):
        tree = client.xml("GET", f"/{QUEUE_PATHS[name]}", params={"pageSize": "100", **params})
        found.extend({**queue, "Family": name} for queue in as_list(tree.get("QueueList")))
    return found


def _queues_list(client: Client, args: argparse.Namespace) -> int:
    queues = _queues(client, args.family, _params(args, {"queue_ids": "queueIds", "state": "state"}))
    emit({"QueueList": queues}, as_json=args.json, rows=queues, columns=("QueueId", "Family", "Name", "State"))
    return OK


def _queue_state(state: str) -> Run:
    def run(client: Client, args: argparse.Namespace) -> int:
        matches = [q for q in _queues(client, None, {"queueIds": args.queue_id}) if q.get("QueueId") == args.queue_id]
        if not matches:
            print(f"no such queue: {args.queue_id}", file=sys.stderr)
            return API_ERROR
        path = f"/{QUEUE_PATHS[matches[0]['Family']]}/{args.queue_id}"
        tree = client.xml("PUT", path, request={"State": state})
        emit(tree.get("Queue", tree), as_json=args.json)
        return OK

    return run


# -- templates, batches, workflows -----------------------------------------------------------------

def _templates_list(client: Client, args: argparse.Namespace) -> int:
    names = {"tag": "tag", "name": "name", "ids": "ids", "category": "category",
             "page_number": "pageNumber", "page_size": "pageSize"}
    tree = client.xml("GET", "/template", params=_params(args, names))
    rows = as_list(tree.get("TemplateList"))
    emit({"TemplateList": rows, "TotalCount": tree.get("TotalCount", "0")}, as_json=args.json, rows=rows,
         columns=("TemplateId", "Tag", "Name", "UpdateTime"))
    return OK


def _templates_get(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("GET", "/template", params={"ids": args.template_id})
    rows = as_list(tree.get("TemplateList"))
    if not rows:
        print(f"no such template: {args.template_id}", file=sys.stderr)
        return API_ERROR
    emit(rows[0], as_json=args.json)
    return OK


def _batch_list(client: Client, args: argparse.Namespace) -> int:
    names = {"states": "states", "size": "size", "next_token": "nextToken", "order_by_time": "orderByTime",
             "type": "type"}
    tree = client.xml("GET", "/inventorytriggerjob", params=_params(args, names))
    rows = as_list(tree.get("JobsDetail"))
    emit({"JobsDetail": rows, "NextToken": tree.get("NextToken", "")}, as_json=args.json, rows=rows,
         columns=("JobId", "Name", "State", "CreationTime"))
    return OK


def _batch_get(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("GET", f"/inventorytriggerjob/{args.job_id}")
    emit(tree.get("JobsDetail", tree), as_json=args.json)
    return OK


def _batch_cancel(client: Client, args: argparse.Namespace) -> int:
    client.request("PUT", f"/inventorytriggerjob/{args.job_id}", params={"cancel": ""})
    return _batch_get(client, args)


def _workflows_list(client: Client, args: argparse.Namespace) -> int:
    names = {"ids": "ids", "name": "name", "page_number": "pageNumber", "page_size": "pageSize"}
    tree = client.xml("GET", "/workflow", params=_params(args, names))
    rows = as_list(tree.get("MediaWorkflowList"))
    emit({"MediaWorkflowList": rows, "TotalCount": tree.get("TotalCount", "0")}, as_json=args.json, rows=rows,
         columns=("WorkflowId", "Name", "State"))
    return OK


def _workflows_trigger(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("POST", "/triggerworkflow", params={"workflowId": args.workflow_id, "object": args.key})
    emit({"InstanceId": tree.get("InstanceId", "")}, as_json=args.json)
    return OK


# -- objects ---------------------------------------------------------------------------------------

def _objects_ls(client: Client, args: argparse.Namespace) -> int:
    params = {"prefix": args.prefix, "delimiter": args.delimiter, "max-keys": args.max_keys}
    tree = client.xml("GET", "/", params={k: v for k, v in params.items() if v})
    rows = as_list(tree.get("Contents"))
    prefixes = [p.get("Prefix", "") for p in as_list(tree.get("CommonPrefixes")) if isinstance(p, dict)]
    data = {"Contents": rows, "CommonPrefixes": prefixes, "IsTruncated": tree.get("IsTruncated", "false")}
    emit(data, as_json=args.json, rows=rows + [{"Key": p} for p in prefixes], columns=("Key", "Size", "LastModified"))
    return OK


def _objects_put(client: Client, args: argparse.Namespace) -> int:
    import mimetypes

    body = Path(args.file).read_bytes()
    content_type = args.content_type or mimetypes.guess_type(args.key)[0] or "application/octet-stream"
    response = client.request("PUT", "/" + quote_key(args.key), body=body, headers={"content-type": content_type})
    emit({"Key": args.key, "ETag": response.headers.get("etag", ""), "Size": len(body)}, as_json=args.json)
    return OK


def _objects_get(client: Client, args: argparse.Namespace) -> int:
    response = client.request("GET", "/" + quote_key(args.key))
    if args.file == "-":
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
    else:
        Path(args.file).write_bytes(response.content)
    return OK


def _objects_rm(client: Client, args: argparse.Namespace) -> int:
    client.request("DELETE", "/" + quote_key(args.key))
    emit({"Key": args.key, "Deleted": True}, as_json=args.json)
    return OK


# -- dev mode --------------------------------------------------------------------------------------

def _reset(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("POST", "/-/reset", bucket="")
    emit(tree.get("Reset", tree), as_json=args.json)
    return OK


def _seed(client: Client, args: argparse.Namespace) -> int:
    from wanxiang.services.dev import seed_files

    loaded: list[Tree] = []
    for item in seed_files(Path(args.dir)):
        client.request("PUT", "/" + quote_key(item.key), body=item.path.read_bytes(),
                       headers={"content-type": item.content_type}, bucket=item.bucket)
        loaded.append({"Bucket": item.bucket, "Key": item.key, "ContentType": item.content_type})
    emit({"Objects": loaded}, as_json=args.json, rows=loaded, columns=("Bucket", "Key", "ContentType"))
    return OK


def _test_mode_set(client: Client, args: argparse.Namespace) -> int:
    request: Tree = {"Mode": args.mode, "QueueId": args.queue_id, "Tag": args.tag}
    if args.mode == "fail-next":
        if len(args.args) < 2 or not args.args[0].isdigit():
            print("fail-next needs: N Code [Message]", file=sys.stderr)
            return USAGE
        request.update(Count=args.args[0], Code=args.args[1], Message=" ".join(args.args[2:]))
    tree = client.xml("PUT", "/-/test-mode", request=request, bucket="")
    emit(tree.get("TestMode", tree), as_json=args.json)
    return OK


def _test_mode_show(client: Client, args: argparse.Namespace) -> int:
    rows = as_list(client.xml("GET", "/-/test-mode", bucket="").get("TestMode"))
    emit({"TestMode": rows}, as_json=args.json, rows=rows, columns=("QueueId", "Mode", "Tag", "Count", "Code"))
    return OK


def _presign(client: Client, args: argparse.Namespace) -> int:
    print(client.presign(args.method, "/" + quote_key(args.key), seconds=args.expires))
    return OK
