"""Client commands of ``wanxiang``: the API over HTTP, signed like the SDK (exit codes in exits.py)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from wanxiang.cli_client import actions as api
from wanxiang.cli_client import dev_actions as dev
from wanxiang.cli_client.exits import API_ERROR, UNREACHABLE, USAGE, Run
from wanxiang.cli_client.http import ApiError, Client, Unreachable, resolve_profile


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
    listing = command(jobs, "list", api.jobs_list, "list jobs (the API's filters)")
    for flag in ("tag", "queue-id", "states", "size", "next-token", "order-by-time", "workflow-id",
                 "input-object", "batch-id", "start-creation-time", "end-creation-time"):
        listing.add_argument(f"--{flag}")
    listing.add_argument("--family", default="jobs", choices=("jobs", "pic_jobs", "ai_jobs", "asr_jobs"))
    command(jobs, "get", api.jobs_get, "show jobs").add_argument("job_ids", nargs="+")
    command(jobs, "cancel", api.jobs_cancel, "cancel a Submitted or Running job").add_argument("job_id")
    wait = command(jobs, "wait", api.jobs_wait, "wait until a job ends; exit 1 if it Failed or was cancelled")
    wait.add_argument("job_id")
    wait.add_argument("--timeout", type=float, default=600.0)
    wait.add_argument("--interval", type=float, default=0.5)
    command(jobs, "resubmit", api.jobs_resubmit, "submit a job again with the same Input and Operation").add_argument("job_id")
    advance = command(jobs, "advance", dev.jobs_advance, "dev mode, manual test mode: move a job one step on")
    advance.add_argument("job_id")
    advance.add_argument("--finish", action="store_true", help="all the way: run it now")

    queues = group("queues", "list, pause and resume queues")
    qlist = command(queues, "list", api.queues_list, "list queues")
    qlist.add_argument("--family", choices=sorted(api.QUEUE_PATHS), help="default all four")
    qlist.add_argument("--queue-ids")
    qlist.add_argument("--state")
    command(queues, "pause", api.queue_state("Paused"), "pause a queue").add_argument("queue_id")
    command(queues, "resume", api.queue_state("Active"), "resume a paused queue").add_argument("queue_id")

    templates = group("templates", "list and show templates")
    tlist = command(templates, "list", api.templates_list, "list templates")
    for flag in ("tag", "name", "ids", "category", "page-number", "page-size"):
        tlist.add_argument(f"--{flag}")
    command(templates, "get", api.templates_get, "show a template").add_argument("template_id")

    objects = group("objects", "list, upload, download and delete objects")
    ls = command(objects, "ls", api.objects_ls, "list objects")
    ls.add_argument("prefix", nargs="?", default="")
    ls.add_argument("--delimiter", default="")
    ls.add_argument("--max-keys", default="1000")
    put = command(objects, "put", api.objects_put, "upload a file")
    put.add_argument("file")
    put.add_argument("key")
    put.add_argument("--content-type")
    get = command(objects, "get", api.objects_get, "download an object (to stdout with -)")
    get.add_argument("key")
    get.add_argument("file", nargs="?", default="-")
    command(objects, "rm", api.objects_rm, "delete an object").add_argument("key")

    batch = group("batch", "list, show and cancel batch (inventory trigger) jobs")
    blist = command(batch, "list", api.batch_list, "list batch jobs")
    for flag in ("states", "size", "next-token", "order-by-time", "type"):
        blist.add_argument(f"--{flag}")
    command(batch, "get", api.batch_get, "show a batch job").add_argument("job_id")
    command(batch, "cancel", api.batch_cancel, "cancel a batch job").add_argument("job_id")

    workflows = group("workflows", "list and trigger workflows")
    wlist = command(workflows, "list", api.workflows_list, "list workflows")
    for flag in ("ids", "name", "page-number", "page-size"):
        wlist.add_argument(f"--{flag}")
    trigger = command(workflows, "trigger", api.workflows_trigger, "run a workflow on an object")
    trigger.add_argument("workflow_id")
    trigger.add_argument("key")

    reset = sub.add_parser("reset", parents=[common], help="dev mode: empty every bucket, job, queue, template...")
    reset.set_defaults(run=lambda args: _guarded(dev.reset, args))
    seed = sub.add_parser("seed", parents=[common], help="upload DIR/<bucket>/<key> files as objects")
    seed.add_argument("dir")
    seed.set_defaults(run=lambda args: _guarded(dev.seed, args))
    modes = group("test-mode", "dev mode: how the worker treats jobs (normal, manual, fail-next, instant)")
    mset = command(modes, "set", dev.test_mode_set, "set the test mode, globally or for one queue")
    mset.add_argument("mode", choices=("normal", "manual", "fail-next", "instant"))
    mset.add_argument("args", nargs="*", help="fail-next: N Code [Message]")
    mset.add_argument("--queue-id", default="", help="default: every queue")
    mset.add_argument("--tag", default="", help="fail-next: only jobs of this Tag")
    command(modes, "show", dev.test_mode_show, "show the test modes in force")
    presign = sub.add_parser("presign", parents=[common], help="print a presigned URL (for curl)")
    presign.add_argument("method", choices=("GET", "PUT", "HEAD", "DELETE"))
    presign.add_argument("key")
    presign.add_argument("--expires", type=int, default=600)
    presign.set_defaults(run=lambda args: _guarded(dev.presign, args))


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
