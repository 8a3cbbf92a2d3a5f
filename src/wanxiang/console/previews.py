"""Previews of a job's input and outputs: images with their dimensions and sizes, animations,
and the text an AI job wrote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wanxiang.model.errors import CIError
from wanxiang.model.job import Job, JobState
from wanxiang.model.tree import text
from wanxiang.services.context import BucketContext
from wanxiang.storage.base import ObjectMeta

if TYPE_CHECKING:
    from wanxiang.app import App

# Served inline by the console (everything else downloads): raster images browsers decode safely.
INLINE_IMAGES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp"}
TEXT_TYPES = ("text/", "application/json", "application/xml")
TEXT_SUFFIXES = (".txt", ".srt", ".vtt", ".json", ".md", ".xml", ".csv", ".html")
MAX_TEXT = 8 << 10
MAX_PREVIEWS = 4


@dataclass(frozen=True)
class Preview:
    role: str  # Input or Output
    bucket: str
    key: str
    size: int
    content_type: str
    kind: str  # image, text or file
    width: str = ""
    height: str = ""
    text: str = ""


def is_inline_image(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() in INLINE_IMAGES


def sniff_image(head: bytes) -> str | None:
    """The image type the first bytes show (SDK uploads often say application/octet-stream)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"BM"):
        return "image/bmp"
    return None


def image_type(deps: App, meta: ObjectMeta) -> str | None:
    """The inline image type of an object: its Content-Type if that is one, else what its bytes are."""
    if is_inline_image(meta.content_type):
        return meta.content_type.split(";")[0].strip().lower()
    with deps.storage.open(meta.bucket, meta.key) as fh:
        return sniff_image(fh.read(16))


def previews_for(deps: App, ctx: BucketContext, job: Job) -> list[Preview]:
    wanted: list[tuple[str, str, str]] = []
    if job.input_object:
        wanted.append(("Input", job.bucket_id, job.input_object))
    out_bucket = text(job.operation, "Output", "Bucket").strip() or job.bucket_id
    out_key = text(job.operation, "Output", "Object").strip()
    # Only a job that succeeded wrote its output; otherwise the key may hold another job's object.
    if out_key and job.state == JobState.SUCCESS:
        wanted.append(("Output", out_bucket, out_key))
    for key in _objects_in(job.result) if job.state == JobState.SUCCESS else []:
        wanted.append(("Output", out_bucket, key))
    seen: set[tuple[str, str]] = set()
    found: list[Preview] = []
    for role, bucket, key in wanted:
        if (bucket, key) in seen or len(found) >= MAX_PREVIEWS:
            continue
        seen.add((bucket, key))
        preview = preview_object(deps, bucket, key, role)
        if preview is not None:
            found.append(preview)
    return found


def preview_object(deps: App, bucket: str, key: str, role: str = "") -> Preview | None:
    try:
        meta = deps.storage.head(bucket, key)
    except ValueError:  # a key or bucket the storage cannot hold: nothing to show
        return None
    if meta is None:
        return None
    shown_as = image_type(deps, meta)
    kind = "image" if shown_as else "file"
    if kind == "file" and (meta.content_type.startswith(TEXT_TYPES) or key.lower().endswith(TEXT_SUFFIXES)):
        kind = "text"
    width = height = snippet = ""
    if kind == "image":
        try:
            info = deps.pic.info(BucketContext(bucket, deps.settings.region), key)
            width, height = info.get("width", ""), info.get("height", "")
        except CIError:
            pass
    elif kind == "text":
        with deps.storage.open(bucket, key) as fh:
            snippet = fh.read(MAX_TEXT).decode("utf-8", errors="replace")
    return Preview(role, bucket, key, meta.size, shown_as or meta.content_type, kind, width, height, snippet)


def _objects_in(tree: Any, depth: int = 0) -> list[str]:
    """Object keys a result names (``...Result/.../Object``), in order."""
    if depth > 8:
        return []
    found: list[str] = []
    if isinstance(tree, dict):
        for name, value in tree.items():
            if name == "Object" and isinstance(value, str) and value:
                found.append(value)
            elif name == "Object" and isinstance(value, dict):
                key = value.get("Key")
                if isinstance(key, str) and key:
                    found.append(key)
                found.extend(_objects_in(value, depth + 1))
            else:
                found.extend(_objects_in(value, depth + 1))
    elif isinstance(tree, list):
        for item in tree:
            found.extend(_objects_in(item, depth + 1))
    return found
