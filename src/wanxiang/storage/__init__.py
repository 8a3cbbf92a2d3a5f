"""Object storage: one interface (``ObjectStorage``), backends opened by name with ``open_storage``."""

from wanxiang.storage.base import (
    InvalidBucketName,
    InvalidObjectKey,
    ListResult,
    NoSuchKey,
    ObjectMeta,
    ObjectStorage,
)
from wanxiang.storage.registry import open_storage, register_storage

__all__ = [
    "InvalidBucketName",
    "InvalidObjectKey",
    "ListResult",
    "NoSuchKey",
    "ObjectMeta",
    "ObjectStorage",
    "open_storage",
    "register_storage",
]
