"""Waiting for jobs the way a user polls them."""

from __future__ import annotations

import time
from typing import Any


def wait_for_state(get: Any, job_id: str, states: tuple[str, ...] = ("Success", "Failed"), timeout: float = 60) -> dict[str, Any]:
    """Poll ``get(job_id)`` (an SDK get call returning the parsed Response) until the job reaches a state."""
    deadline = time.monotonic() + timeout
    detail: dict[str, Any] = {}
    while time.monotonic() < deadline:
        detail = get(job_id)["JobsDetail"][0]
        if detail["State"] in states:
            return detail
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {states} in {timeout}s; last seen {detail}")
