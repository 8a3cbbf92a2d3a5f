"""The API's own calls as client commands: jobs, queues, templates, batches, workflows, objects."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from wanxiang.cli_client.exits import API_ERROR, JOB_FAILED, OK, TIMED_OUT, Run
from wanxiang.cli_client.http import Client, quote_key
from wanxiang.cli_client.output import as_list, emit
from wanxiang.model.tree import Tree

QUEUE_PATHS = {"pic": "picqueue", "media": "queue", "ai": "ai_queue", "asr": "asrqueue"}
JOB_COLUMNS = ("JobId", "Tag", "State", "Code", "CreationTime", "Input.Object")
TERMINAL = ("Success", "Failed", "Cancel")


def _params(args: argparse.Namespace, names: dict[str, str]) -> dict[str, str]:
    return {wire: str(getattr(args, attr)) for attr, wire in names.items() if getattr(args, attr, None)}


# -- jobs ------------------------------------------------------------------------------------------

JOB_FILTERS = {
    "tag": "tag", "queue_id": "queueId", "states": "states", "size": "size", "next_token": "nextToken",
    "order_by_time": "orderByTime", "workflow_id": "workflowId", "input_object": "inputObject",
    "batch_id": "inventoryTriggerJobId", "start_creation_time": "startCreationTime",
    "end_creation_time": "endCreationTime",
}


def jobs_list(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("GET", f"/{args.family}", params=_params(args, JOB_FILTERS))
    jobs = as_list(tree.get("JobsDetail"))
    emit({"JobsDetail": jobs, "NextToken": tree.get("NextToken", "")}, as_json=args.json, rows=jobs, columns=JOB_COLUMNS)
    return OK


def _get_jobs(client: Client, ids: list[str]) -> tuple[list[Tree], list[str]]:
    tree = client.xml("GET", "/jobs/" + ",".join(ids))
    return as_list(tree.get("JobsDetail")), [str(i) for i in as_list(tree.get("NonExistJobIds"))]


def jobs_get(client: Client, args: argparse.Namespace) -> int:
    jobs, missing = _get_jobs(client, args.job_ids)
    emit({"JobsDetail": jobs, "NonExistJobIds": missing}, as_json=args.json, rows=jobs, columns=JOB_COLUMNS)
    if missing:
        print(f"no such job: {', '.join(missing)}", file=sys.stderr)
        return API_ERROR
    return OK


def jobs_cancel(client: Client, args: argparse.Namespace) -> int:
    client.request("PUT", f"/jobs/{args.job_id}", params={"cancel": ""}, ci=True)
    jobs, _ = _get_jobs(client, [args.job_id])
    emit(jobs[0] if jobs else {"JobId": args.job_id}, as_json=args.json)
    return OK


def jobs_wait(client: Client, args: argparse.Namespace) -> int:
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


def jobs_resubmit(client: Client, args: argparse.Namespace) -> int:
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


# -- queues ----------------------------------------------------------------------------------------

def _queues(client: Client, family: str | None, params: dict[str, str]) -> list[Tree]:
    found: list[Tree] = []
    for name in [family] if family else sorted(QUEUE_PATHS):
        tree = client.xml("GET", f"/{QUEUE_PATHS[name]}", params={"pageSize": "100", **params})
        found.extend({**queue, "Family": name} for queue in as_list(tree.get("QueueList")))
    return found


def queues_list(client: Client, args: argparse.Namespace) -> int:
    queues = _queues(client, args.family, _params(args, {"queue_ids": "queueIds", "state": "state"}))
    emit({"QueueList": queues}, as_json=args.json, rows=queues, columns=("QueueId", "Family", "Name", "State"))
    return OK


def queue_state(state: str) -> Run:
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

def templates_list(client: Client, args: argparse.Namespace) -> int:
    names = {"tag": "tag", "name": "name", "ids": "ids", "category": "category",
             "page_number": "pageNumber", "page_size": "pageSize"}
    tree = client.xml("GET", "/template", params=_params(args, names))
    rows = as_list(tree.get("TemplateList"))
    emit({"TemplateList": rows, "TotalCount": tree.get("TotalCount", "0")}, as_json=args.json, rows=rows,
         columns=("TemplateId", "Tag", "Name", "UpdateTime"))
    return OK


def templates_get(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("GET", "/template", params={"ids": args.template_id})
    rows = as_list(tree.get("TemplateList"))
    if not rows:
        print(f"no such template: {args.template_id}", file=sys.stderr)
        return API_ERROR
    emit(rows[0], as_json=args.json)
    return OK


def batch_list(client: Client, args: argparse.Namespace) -> int:
    names = {"states": "states", "size": "size", "next_token": "nextToken", "order_by_time": "orderByTime",
             "type": "type"}
    tree = client.xml("GET", "/inventorytriggerjob", params=_params(args, names))
    rows = as_list(tree.get("JobsDetail"))
    emit({"JobsDetail": rows, "NextToken": tree.get("NextToken", "")}, as_json=args.json, rows=rows,
         columns=("JobId", "Name", "State", "CreationTime"))
    return OK


def batch_get(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("GET", f"/inventorytriggerjob/{args.job_id}")
    emit(tree.get("JobsDetail", tree), as_json=args.json)
    return OK


def batch_cancel(client: Client, args: argparse.Namespace) -> int:
    client.request("PUT", f"/inventorytriggerjob/{args.job_id}", params={"cancel": ""}, ci=True)
    return batch_get(client, args)


def workflows_list(client: Client, args: argparse.Namespace) -> int:
    names = {"ids": "ids", "name": "name", "page_number": "pageNumber", "page_size": "pageSize"}
    tree = client.xml("GET", "/workflow", params=_params(args, names))
    rows = as_list(tree.get("MediaWorkflowList"))
    emit({"MediaWorkflowList": rows, "TotalCount": tree.get("TotalCount", "0")}, as_json=args.json, rows=rows,
         columns=("WorkflowId", "Name", "State"))
    return OK


def workflows_trigger(client: Client, args: argparse.Namespace) -> int:
    tree = client.xml("POST", "/triggerworkflow", params={"workflowId": args.workflow_id, "object": args.key})
    emit({"InstanceId": tree.get("InstanceId", "")}, as_json=args.json)
    return OK


# -- objects ---------------------------------------------------------------------------------------

def objects_ls(client: Client, args: argparse.Namespace) -> int:
    params = {"prefix": args.prefix, "delimiter": args.delimiter, "max-keys": args.max_keys}
    tree = client.xml("GET", "/", params={k: v for k, v in params.items() if v}, ci=False)
    rows = as_list(tree.get("Contents"))
    prefixes = [p.get("Prefix", "") for p in as_list(tree.get("CommonPrefixes")) if isinstance(p, dict)]
    data = {"Contents": rows, "CommonPrefixes": prefixes, "IsTruncated": tree.get("IsTruncated", "false")}
    emit(data, as_json=args.json, rows=rows + [{"Key": p} for p in prefixes], columns=("Key", "Size", "LastModified"))
    return OK


def objects_put(client: Client, args: argparse.Namespace) -> int:
    import mimetypes

    source = Path(args.file)
    content_type = args.content_type or mimetypes.guess_type(args.key)[0] or "application/octet-stream"
    response = client.request("PUT", "/" + quote_key(args.key), body=source, headers={"content-type": content_type})
    emit({"Key": args.key, "ETag": response.headers.get("etag", ""), "Size": source.stat().st_size}, as_json=args.json)
    return OK


def objects_get(client: Client, args: argparse.Namespace) -> int:
    if args.file == "-":
        client.download("/" + quote_key(args.key), sys.stdout.buffer)
        sys.stdout.flush()
        return OK
    target = Path(args.file)
    partial = target.with_name(target.name + ".part")  # a failed download leaves the old file be
    try:
        with partial.open("wb") as out:
            client.download("/" + quote_key(args.key), out)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return OK


def objects_rm(client: Client, args: argparse.Namespace) -> int:
    client.request("DELETE", "/" + quote_key(args.key))
    emit({"Key": args.key, "Deleted": True}, as_json=args.json)
    return OK
