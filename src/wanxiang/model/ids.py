"""Identifiers in CI's own shapes: a letter prefix and 32 lowercase hex digits."""

from __future__ import annotations

import os
import re
import threading
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


def _random_node() -> tuple[int, int]:
    # A random node with the multicast bit set, as RFC 4122 section 4.5 allows; per process.
    return int.from_bytes(os.urandom(6), "big") | (1 << 40), int.from_bytes(os.urandom(2), "big") & 0x3FFF


_node, _clock_seq = _random_node()
_lock = threading.Lock()


def _reseed() -> None:
    global _node, _clock_seq
    _node, _clock_seq = _random_node()


os.register_at_fork(after_in_child=_reseed)


def new_id(prefix: str) -> str:
    # uuid1 hex, as the real ids look: time-ordered, which also keeps index inserts local. Given
    # a node and clock sequence, uuid1 is computed here instead of asking the uuidd daemon over a
    # socket for every id; the lock keeps its last-timestamp bookkeeping whole across threads.
    with _lock:
        return prefix + uuid.uuid1(_node, _clock_seq).hex


def looks_like_id(value: str) -> bool:
    return bool(_ID.match(value))
