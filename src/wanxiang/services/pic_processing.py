"""Image processing outside jobs: on download (``GET /key?imageMogr2/...``), on upload
(``Pic-Operations``) and on an object already stored (``POST /key?image_process``).

The same engine as PicProcess jobs does the pixels; this module does the COS-side bookkeeping.
A Pic-Operations rule is parsed once, here, into operations with its styles expanded; the engine
runs those operations on the bytes the caller already holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from wanxiang.engines.base import StoredObject
from wanxiang.engines.image_inspect.engine import inspect_bytes, inspection_json
from wanxiang.engines.pic.decode import ImageInput
from wanxiang.engines.pic.engine import original_info, process_result_object
from wanxiang.engines.pic.info import image_info
from wanxiang.engines.pic.operations import Operation, Style
from wanxiang.engines.pic.pipeline import ProcessedImage, process_image, process_operations
from wanxiang.engines.pic.rule import RuleError, parse_rule
from wanxiang.model.errors import CIError, JobFailure, invalid_argument
from wanxiang.model.tree import Tree
from wanxiang.services.context import BucketContext
from wanxiang.services.pic_cache import CachedImage, PicResultCache, cacheable, result_etag
from wanxiang.services.pic_pool import PicPool
from wanxiang.services.styles import StyleService
from wanxiang.storage.base import NoSuchKey, ObjectStorage
from wanxiang.storage.safe_fs import descriptor_path

MAX_RULES = 5
MAX_SOURCE_BYTES = 64 << 20
# A result up to this size comes back from the pool child in its answer; a larger one in a temp file
# the API streams, so that the API process never holds a large result whole. A thumbnail is far
# below it; (processes + backlog) results of this size are what the API may hold at once.
INLINE_RESULT_BYTES = 1 << 20
# Query keys that start a processing rule on download.
RULE_VERBS = ("imageMogr2", "watermark/", "imageView2", "imageInfo", "style/", "imageAve", "exif")


@dataclass(frozen=True)
class PicRule:
    bucket: str
    key: str
    operations: tuple[Operation, ...]  # parsed, styles expanded


@dataclass(frozen=True)
class PicOperations:
    is_pic_info: bool
    rules: tuple[PicRule, ...]


def download_rule(query: list[tuple[str, str]]) -> str | None:
    """The rule a download asks for: the first query key that starts with a processing verb.
    A value after '=' belongs to the rule (unescaped base64 padding), not to a parameter."""
    for key, value in query:
        if key.startswith(RULE_VERBS):
            return key + ("=" + value if value else "")
    return None


def asks_image_inspect(query: list[tuple[str, str]]) -> bool:
    """``?imageInspect`` (the SDK's ``ci_image_inspect``) or ``?ci-process=ImageInspect`` (the JS docs)."""
    return any(
        key == "imageInspect" or (key == "ci-process" and value.lower() == "imageinspect") for key, value in query
    )


def check_source_size(size: int) -> None:
    if size > MAX_SOURCE_BYTES:
        raise CIError(400, "ImageTooLarge", f"The image is {size} bytes; at most {MAX_SOURCE_BYTES} can be processed.")


def _failure_to_error(failure: JobFailure) -> CIError:
    return CIError(400, failure.code, failure.message)


def parse_pic_operations(
    header: str, ctx: BucketContext, source_key: str, style_body: Callable[[str], str | None]
) -> PicOperations:
    """Validate a ``Pic-Operations`` header fully (styles included) before anything is stored."""
    try:
        spec = json.loads(header)
    except ValueError as exc:
        raise invalid_argument(f"Pic-Operations is not valid JSON: {exc}") from exc
    if not isinstance(spec, dict):
        raise invalid_argument("Pic-Operations must be a JSON object.")
    raw_rules = spec.get("rules")
    if not isinstance(raw_rules, list) or not 1 <= len(raw_rules) <= MAX_RULES:
        raise invalid_argument(f"Pic-Operations.rules must list 1 to {MAX_RULES} rules.")
    flag = spec.get("is_pic_info", 0)
    if str(flag) not in ("0", "1"):
        raise invalid_argument("Pic-Operations.is_pic_info must be 0 or 1.")
    parsed: list[tuple[int, str, str, list[Operation]]] = []
    for index, item in enumerate(raw_rules):
        if not isinstance(item, dict):
            raise invalid_argument(f"Pic-Operations.rules[{index}] must be an object.")
        fileid, rule = str(item.get("fileid", "")), str(item.get("rule", ""))
        if not fileid or fileid.endswith("/"):
            raise invalid_argument(f"Pic-Operations.rules[{index}].fileid must name an object, not {fileid!r}.")
        if not rule:
            raise invalid_argument(f"Pic-Operations.rules[{index}].rule is required.")
        try:
            operations = parse_rule(rule)
        except RuleError as exc:
            raise invalid_argument(f"Pic-Operations.rules[{index}].rule: {exc}") from exc
        key = fileid.lstrip("/") if fileid.startswith("/") else posixpath.join(posixpath.dirname(source_key), fileid)
        parsed.append((index, str(item.get("bucket") or ctx.bucket_id), key, operations))
    # Styles are looked up once every rule is known to parse, as when they were expanded apart.
    rules = tuple(
        PicRule(bucket, key, _expand_styles(operations, style_body, index)) for index, bucket, key, operations in parsed
    )
    return PicOperations(str(flag) == "1", rules)


def _expand_styles(
    operations: list[Operation], style_body: Callable[[str], str | None], index: int
) -> tuple[Operation, ...]:
    """Each ``style/<name>`` operation replaced by the operations of the style's body."""
    expanded: list[Operation] = []
    for op in operations:
        if not isinstance(op, Style):
            expanded.append(op)
            continue
        body = style_body(op.name)
        if body is None:
            raise invalid_argument(f"Pic-Operations.rules[{index}].rule: The style {op.name!r} does not exist in this bucket.")
        try:  # bodies were checked when the style was stored
            expanded.extend(parse_rule(body))
        except RuleError as exc:
            raise invalid_argument(f"Pic-Operations.rules[{index}].rule: style {op.name}: {exc}") from exc
    return tuple(expanded)


@dataclass(frozen=True)
class ProcessedFile:
    """A processed image: its bytes when small, else in a temp file (the API streams it and removes it)."""

    path: str  # "" when ``data`` holds the result
    content_type: str
    size: int
    width: int = 0
    height: int = 0  # of one frame
    format: str = ""
    data: bytes | None = None

    def read(self) -> bytes:
        """The whole result (a temp file is removed once read)."""
        if self.data is not None:
            return self.data
        try:
            with open(self.path, "rb") as fh:
                return fh.read()
        finally:
            self.discard()

    def discard(self) -> None:
        if self.path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


@dataclass(frozen=True)
class DownloadRule:
    text: str  # styles expanded
    styles: str  # the versions of the styles it named ("" for none), see StyleService.expand_versioned

    def etag(self, source_etag: str) -> str:
        """The result's ETag: it changes with the object and with what the rule says."""
        return result_etag(source_etag, self.text)


@dataclass
class PicProcessing:
    """The use cases; the pixels are done in ``pool`` (child processes), never in the caller."""

    storage: ObjectStorage
    styles: StyleService
    pool: PicPool
    cache: PicResultCache | None = None  # results on download, by source ETag + rule

    def download_rule(self, ctx: BucketContext, rule: str) -> DownloadRule:
        """The rule of a download with its styles expanded (read once per request)."""
        return DownloadRule(*self.styles.expand_versioned(ctx, rule))

    def on_download_cached(
        self, ctx: BucketContext, key: str, source_etag: str, rule: DownloadRule
    ) -> tuple[CachedImage | ProcessedFile, bool]:
        """``key`` (whose ETag is ``source_etag``) processed by ``rule``: from the cache when this
        object was processed by this rule (and these versions of its styles) before; else
        processed, and kept when it is small enough (a large result stays in its temp file,
        streamed, never held whole). True with a result that came from the cache."""
        cache_key = (ctx.bucket_id, key, source_etag, rule.text, rule.styles)
        cache = self.cache if self.cache is not None and cacheable(rule.text) else None
        cached = cache.get(cache_key) if cache is not None else None
        if cached is not None:
            return cached, True
        image = self.pool.call(process_for_download, ctx, key, rule.text)
        if cache is None or image.size > cache.max_item:
            return image, False
        result = CachedImage(image.read(), image.content_type, rule.etag(source_etag))
        cache.put(cache_key, result)
        return result, False

    def read_source(self, bucket: str, key: str) -> bytes:
        return read_source(self.storage, bucket, key)

    def parse_operations(self, ctx: BucketContext, source_key: str, header: str) -> PicOperations:
        return parse_pic_operations(header, ctx, source_key, self.styles.lookup(ctx))

    def on_download(self, ctx: BucketContext, key: str, rule: str) -> ProcessedFile:
        """``key`` processed by ``rule`` (its styles expanded)."""
        return self.pool.call(process_for_download, ctx, key, self.styles.expand(ctx, rule))

    def info(self, ctx: BucketContext, key: str) -> dict[str, str]:
        return self.pool.call(info_of, ctx, key)

    def inspect(self, ctx: BucketContext, key: str) -> dict[str, object]:
        """The synchronous ImageInspect answer for an object, in CI's JSON field names."""
        return self.pool.call(inspect_of, ctx, key)

    def apply(self, ctx: BucketContext, key: str, data: bytes | None, operations: PicOperations) -> Tree:
        """Run each rule on ``data`` (the object stored at ``key``; None: read it there, in the
        pool child, not in the API process), store each result; return the UploadResult tree."""
        if data is None and self.storage.head(ctx.bucket_id, key) is None:
            raise CIError(404, "NoSuchKey", f"The specified key does not exist: {key}")  # before any work
        return self.pool.call(apply_operations, ctx, key, data, operations)


# -- the work itself: module functions of the storage, so that a pool child can run them ----------


def read_source(storage: ObjectStorage, bucket: str, key: str) -> bytes:
    meta = storage.head(bucket, key)
    if meta is None:
        raise CIError(404, "NoSuchKey", f"The specified key does not exist: {key}")
    check_source_size(meta.size)
    try:
        with storage.open(bucket, key) as fh:
            return fh.read()
    except NoSuchKey as exc:
        raise CIError(404, "NoSuchKey", f"The specified key does not exist: {key}") from exc


def process_on_download(storage: ObjectStorage, ctx: BucketContext, key: str, rule: str) -> ProcessedImage:
    with _opened_source(storage, ctx.bucket_id, key) as source:
        try:
            return process_image(source, rule, read_object=lambda k: read_source(storage, ctx.bucket_id, k))
        except JobFailure as failure:
            raise _failure_to_error(failure) from failure


@contextlib.contextmanager
def _opened_source(storage: ObjectStorage, bucket: str, key: str) -> Iterator[ImageInput]:
    """The object as libvips can read it best: the file the storage opened (by its descriptor, so
    libvips reads what was opened safely and only what it needs), else its bytes (S3)."""
    try:
        handle = storage.open(bucket, key)
    except NoSuchKey as exc:
        raise CIError(404, "NoSuchKey", f"The specified key does not exist: {key}") from exc
    with handle:
        path = descriptor_path(handle)
        if path is None:
            data = handle.read(MAX_SOURCE_BYTES + 1)
            check_source_size(len(data))
            yield data
            return
        check_source_size(os.fstat(handle.fileno()).st_size)
        yield path


def process_for_download(storage: ObjectStorage, ctx: BucketContext, key: str, rule: str) -> ProcessedFile:
    """:func:`process_on_download` as a pool child hands it back: a small result in the answer
    itself, a large one in a file, so that it never travels through the API process's memory whole."""
    image = process_on_download(storage, ctx, key, rule)
    size = len(image.data)
    if size <= INLINE_RESULT_BYTES:
        return ProcessedFile("", image.content_type, size, image.width, image.height, image.format, image.data)
    fd, path = tempfile.mkstemp(prefix="wanxiang-pic-")  # a throwaway: written, never fsynced
    with os.fdopen(fd, "wb") as out:
        out.write(image.data)
    return ProcessedFile(path, image.content_type, size, image.width, image.height, image.format)


def info_of(storage: ObjectStorage, ctx: BucketContext, key: str) -> dict[str, str]:
    try:
        return image_info(read_source(storage, ctx.bucket_id, key))
    except JobFailure as failure:
        raise _failure_to_error(failure) from failure


def inspect_of(storage: ObjectStorage, ctx: BucketContext, key: str) -> dict[str, object]:
    try:
        return inspection_json(inspect_bytes(read_source(storage, ctx.bucket_id, key)))
    except JobFailure as failure:
        raise _failure_to_error(failure) from failure


def apply_operations(
    storage: ObjectStorage, ctx: BucketContext, key: str, data: bytes | None, operations: PicOperations
) -> Tree:
    if data is None:
        data = read_source(storage, ctx.bucket_id, key)
    results: list[Tree] = []
    overwritten_etag: str | None = None
    try:
        for item in operations.rules:
            processed = process_operations(
                data, item.operations, read_object=lambda k: read_source(storage, ctx.bucket_id, k)
            )
            meta = storage.put(item.bucket, item.key, processed.data, content_type=processed.content_type)
            stored = StoredObject(item.bucket, item.key, meta.etag, meta.size,
                                  f"{item.bucket}.cos.{ctx.region}.myqcloud.com/{item.key}")
            if item.bucket == ctx.bucket_id and item.key == key:
                overwritten_etag = meta.etag
            results.append(process_result_object(stored, processed))
    except JobFailure as failure:
        raise CIError(400, failure.code, f"{failure.message} (the original object {key!r} is stored)") from failure
    upload: Tree = {}
    if operations.is_pic_info:
        original = original_info(data, ctx.bucket_id, ctx.region, key)
        if overwritten_etag:
            original["ETag"] = overwritten_etag
        upload["OriginalInfo"] = original
    upload["ProcessResults"] = {"Object": results if len(results) > 1 else results[0]}
    return upload
