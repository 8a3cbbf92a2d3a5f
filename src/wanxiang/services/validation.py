"""Submit-time checks of a job request; each failure names the field."""

from __future__ import annotations

from wanxiang.callbacks.policy import check_url_shape, is_private_literal
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.job import JOB_LEVELS
from wanxiang.model.tree import Tree, text

MAX_USER_DATA = 1024

def check_user_data(operation: Tree) -> None:
    user_data = text(operation, "UserData")
    if len(user_data) > MAX_USER_DATA:
        raise invalid_argument(f"Operation.UserData is {len(user_data)} characters; at most {MAX_USER_DATA} are allowed.")
    if any(not (0x20 <= ord(ch) <= 0x7E) for ch in user_data):
        raise invalid_argument("Operation.UserData must be printable ASCII.")


def job_level(operation: Tree) -> int:
    raw = text(operation, "JobLevel").strip()
    if not raw:
        return 0
    if not raw.isdigit() or int(raw) not in JOB_LEVELS:
        raise invalid_argument(f"Operation.JobLevel must be 0, 1 or 2, not {raw!r}.")
    return int(raw)


def check_output(operation: Tree, field_prefix: str = "Operation.Output") -> None:
    for name in ("Region", "Bucket", "Object"):
        if not text(operation, "Output", name).strip():
            raise invalid_argument(f"{field_prefix}.{name} is required.")
    obj = text(operation, "Output", "Object")
    if "\x00" in obj or obj.startswith("/") and obj.strip("/") == "":
        raise invalid_argument(f"{field_prefix}.Object is not a valid object key: {obj!r}.")


def callback_settings(request: Tree, *, allow_private: bool) -> Tree:
    """The job's own callback settings, validated; {} when it has none."""
    url = text(request, "CallBack").strip()
    fmt = text(request, "CallBackFormat").strip() or "XML"
    kind = text(request, "CallBackType").strip() or "Url"
    if fmt.upper() not in ("XML", "JSON"):
        raise invalid_argument(f"CallBackFormat must be XML or JSON, not {fmt!r}.")
    if kind not in ("Url", "TDMQ", "Kafka"):
        raise invalid_argument(f"CallBackType must be Url, TDMQ or Kafka, not {kind!r}.")
    if kind != "Url":
        raise CIError(400, "InvalidArgument", f"CallBackType {kind} is not available in wanxiang; use Url.")
    if not url:
        return {"Format": fmt.upper()} if text(request, "CallBackFormat") else {}
    if url == "no":
        return {"Url": "no"}
    problem = check_url_shape(url)
    if problem:
        raise invalid_argument(problem)
    if not allow_private and is_private_literal(url):
        raise invalid_argument(
            f"CallBack {url!r} points to a private or loopback address; the server refuses those "
            "unless started with --allow-private-callbacks."
        )
    return {"Url": url, "Format": fmt.upper()}
