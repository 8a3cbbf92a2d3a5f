"""Results of processing on download, kept in memory: an LRU bounded in bytes.

Keyed by the source object's ETag and the rule (styles expanded, and the versions of the styles it
named), so an overwritten object or a replaced style is simply a different key; the stale entry
ages out. Rules that read another object
(image watermarks) are not cached: their result also depends on that object.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_CACHE_BYTES = 64 << 20


@dataclass(frozen=True)
class CachedImage:
    data: bytes
    content_type: str
    etag: str  # quoted, of the result: the source's ETag and the rule, hashed


def result_etag(source_etag: str, rule: str) -> str:
    return '"' + hashlib.md5(f"{source_etag}\n{rule}".encode(), usedforsecurity=False).hexdigest() + '"'


def cacheable(rule: str) -> bool:
    return "watermark/1" not in rule


CacheKey = tuple[str, ...]  # bucket, key, source ETag, expanded rule, style versions


class PicResultCache:
    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.max_item = max_bytes // 8  # one huge result must not empty the cache
        self._items: OrderedDict[CacheKey, CachedImage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> CachedImage | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: CacheKey, item: CachedImage) -> None:
        if len(item.data) > self.max_item:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.data)
            self._items[key] = item
            self._bytes += len(item.data)
            while self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= len(evicted.data)

    @property
    def size_bytes(self) -> int:
        return self._bytes
