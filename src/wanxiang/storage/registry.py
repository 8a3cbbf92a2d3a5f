"""Storage backends by name, as thumbor picks its storages: ``open_storage("local:/srv/data")``.

Forms: ``"local:/path"`` (or ``"local"`` with ``root=...``), ``"memory:"`` / ``"memory"`` (a new, empty
store on every call), ``"s3://<backing-bucket>[/<prefix>]?endpoint=...&region=..."`` (S3-compatible, see
``storage.s3_config``). Other backends plug in with :func:`register_storage`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from wanxiang.storage.base import ObjectStorage

StorageFactory = Callable[..., ObjectStorage]
"""Called as ``factory(location, **options)``; ``location`` is the text after ``name:`` ("" if none)."""


def _local(location: str, **options: Any) -> ObjectStorage:
    from wanxiang.storage.local import LocalStorage

    root = location or options.pop("root", "")
    if not root:
        raise ValueError("the local storage needs a directory: 'local:/path/to/data' or root=...")
    if options:
        raise TypeError(f"unknown options for local storage: {sorted(options)}")
    return LocalStorage(Path(root))


def _memory(location: str, **options: Any) -> ObjectStorage:
    from wanxiang.storage.memory import MemoryStorage

    if options:
        raise TypeError(f"unknown options for memory storage: {sorted(options)}")
    return MemoryStorage()


def _s3(location: str, **options: Any) -> ObjectStorage:
    from wanxiang.storage.s3 import S3Storage

    if options:
        raise TypeError(f"unknown options for S3 storage (give them in the URL): {sorted(options)}")
    return S3Storage.from_url(location)


_factories: dict[str, StorageFactory] = {"local": _local, "memory": _memory, "s3": _s3}


def register_storage(name: str, factory: StorageFactory) -> None:
    _factories[name] = factory


def known_storages() -> set[str]:
    return set(_factories)


def open_storage(url_or_name: str, **options: Any) -> ObjectStorage:
    name, _, location = url_or_name.partition(":")
    factory = _factories.get(name.strip().lower())
    if factory is None:
        raise ValueError(f"unknown storage {name!r}; known: {', '.join(sorted(_factories))}")
    return factory(location, **options)
