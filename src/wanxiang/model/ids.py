"""Identifiers in CI's own shapes: a letter prefix and 32 lowercase hex digits."""

from __future__ import annotations

import re
import uuid

JOB_PREFIX_PIC = "c"
JOB_PREFIX_MEDIA = "j"
JOB_PREFIX_AI = "a"
JOB_PREFIX_ASR = "s"
BATCH_PREFIX = "b"
WORKFLOW_PREFIX = "w"
EXECUTION_PREFIX = "i"
QUEUE_PREFIX = "p"
TEMPLATE_PREFIX = "t1"

_ID = re.compile(r"^[a-z][a-z0-9]{0,3}[0-9a-f]{32}$")


def new_id(prefix: str) -> str:
    # uuid1 hex, as the real ids look: time-ordered, which also keeps index inserts local.
    return prefix + uuid.uuid1().hex


def looks_like_id(value: str) -> bool:
    return bool(_ID.match(value))
