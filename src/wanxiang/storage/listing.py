"""ListObjects paging (prefix / delimiter / marker / max-keys) over any ordered walk of a bucket.

Order is by key code point, which for UTF-8 is the same as COS's byte order. A backend supplies a
:class:`KeyWalk` that yields objects in that order, starting after ``marker`` and inside ``prefix``, and
that can prune keys under a prefix once a common prefix has swallowed them (so a listing with
``delimiter="/"`` does not read every file under each folder).

When ``marker`` itself falls inside a common prefix, the keys under that common prefix are skipped:
the previous page already returned it (NextMarker is the last key *or* common prefix returned).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from wanxiang.storage.base import ListResult, ObjectMeta

MAX_KEYS_LIMIT = 1000


class KeyWalk(Protocol):
    def __iter__(self) -> Iterator[ObjectMeta]: ...

    def skip(self, prefix: str) -> None:
        """From now on, keys starting with ``prefix`` are not wanted."""


def common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    index = key.find(delimiter, len(prefix))
    return None if index < 0 else key[: index + len(delimiter)]


def clamp_max_keys(max_keys: int) -> int:
    return max(0, min(int(max_keys), MAX_KEYS_LIMIT))


def paginate(walk: KeyWalk, *, prefix: str, delimiter: str, marker: str, max_keys: int) -> ListResult:
    limit = clamp_max_keys(max_keys)
    if marker.startswith(prefix):
        swallowed = common_prefix(marker, prefix, delimiter)
        if swallowed is not None:
            walk.skip(swallowed)
    objects: list[ObjectMeta] = []
    prefixes: list[str] = []
    last = ""
    truncated = False
    for item in walk:
        group = common_prefix(item.key, prefix, delimiter)
        if group is not None and prefixes and prefixes[-1] == group:
            continue
        if len(objects) + len(prefixes) >= limit:
            truncated = True
            break
        if group is None:
            objects.append(item)
            last = item.key
        else:
            prefixes.append(group)
            last = group
            walk.skip(group)
    return ListResult(objects, prefixes, truncated, last if truncated else "")
