"""The ImageInspect engine: detect a file hidden behind an image and, if asked, deal with the object.

``AutoProcess`` acts only on a suspicious image. ``BackupObject`` (CI's default) moves the object
to ``abnormal_images_backup/<key>``; ``DeleteObject`` deletes it; ``SwitchObjectToPrivate`` has
nothing to change here, since every object of wanxiang is private (no anonymous reads), and the
result says so.
"""

from __future__ import annotations

from wanxiang.engines.base import EngineJob, JobIO
from wanxiang.engines.image_inspect.detect import Inspection, NotAnImage, inspect
from wanxiang.model.errors import JobFailure, invalid_argument
from wanxiang.model.tree import Tree, is_true, text

MAX_INPUT_BYTES = 32 << 20  # CI inspects originals up to 32 MB
BACKUP_PREFIX = "abnormal_images_backup/"
PROCESS_TYPES = ("BackupObject", "SwitchObjectToPrivate", "DeleteObject")


def validate_image_inspect(params: Tree) -> None:
    """Submit-time checks of ``Operation.ImageInspect``."""
    auto = text(params, "AutoProcess")
    if auto and auto.lower() not in ("true", "false"):
        raise invalid_argument(f"ImageInspect.AutoProcess must be true or false, not {auto!r}.")
    kind = text(params, "ProcessType")
    if kind and kind not in PROCESS_TYPES:
        raise invalid_argument(f"ImageInspect.ProcessType must be one of {', '.join(PROCESS_TYPES)}, not {kind!r}.")


def inspection_json(verdict: Inspection) -> dict[str, object]:
    """The synchronous ``?imageInspect`` answer, in CI's JSON field names."""
    found: dict[str, object] = {"picSize": verdict.pic_size, "picType": verdict.pic_type, "suspicious": verdict.suspicious}
    if verdict.suspicious:
        found.update(
            suspiciousBeginByte=verdict.suspicious_begin,
            suspiciousEndByte=verdict.suspicious_end,
            suspiciousSize=verdict.suspicious_size,
            suspiciousType=verdict.suspicious_type,
        )
    return found


def inspect_bytes(data: bytes) -> Inspection:
    """Inspect an object's bytes; a JobFailure names what cannot be inspected."""
    if len(data) > MAX_INPUT_BYTES:
        raise JobFailure("InvalidInput", "ImageInspect reads images of at most 32 MB.")
    try:
        return inspect(data)
    except NotAnImage as exc:
        raise JobFailure("InvalidInput", f"ImageInspect: {exc}.") from exc


class ImageInspectEngine:
    tag = "ImageInspect"

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        path = io.input_path()
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise JobFailure("InvalidInput", "ImageInspect reads images of at most 32 MB.")
        verdict = inspect_bytes(path.read_bytes())
        io.progress(60)
        params = job.operation.get("ImageInspect")
        params = params if isinstance(params, dict) else {}
        result: Tree = {
            "IsSuspicious": "true" if verdict.suspicious else "false",
            "PicSize": str(verdict.pic_size),
            "PicType": verdict.pic_type,
        }
        if verdict.suspicious:
            result.update(
                SuspiciousBeginByte=str(verdict.suspicious_begin),
                SuspiciousEndByte=str(verdict.suspicious_end),
                SuspiciousSize=str(verdict.suspicious_size),
                SuspiciousType=verdict.suspicious_type,
            )
            if is_true(text(params, "AutoProcess")):
                result["ProcessResult"] = _auto_process(job, io, text(params, "ProcessType") or "BackupObject")
        return {"ImageInspectResult": result}


def _auto_process(job: EngineJob, io: JobIO, process_type: str) -> Tree:
    key = text(job.input, "Object")
    if process_type == "DeleteObject":
        io.delete_object(key)
        return {"ProcessType": process_type, "State": "Success", "Message": f"Deleted {key}."}
    if process_type == "SwitchObjectToPrivate":
        return {
            "ProcessType": process_type,
            "State": "Success",
            "Message": "The object is private already: wanxiang serves no anonymous reads.",
        }
    backup = BACKUP_PREFIX + key.lstrip("/")
    io.move_object(key, backup)
    return {"ProcessType": process_type, "State": "Success", "Message": f"Moved to {backup}.", "Object": backup}
