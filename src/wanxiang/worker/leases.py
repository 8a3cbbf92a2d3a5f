"""The leases a worker holds, and the one thread that keeps them alive.

A worker holds at most two jobs: the one its engine runs and the next one, claimed ahead
(prefetched) while the running job stores its output. Both are Running in the store with a lease of
this worker's; one lease thread renews every held lease every ``interval`` (not a thread started
and joined per job), each only until its own ``renew_until``, so that an engine that blocks the
whole process past its job's deadline loses the job to another worker instead of holding it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from wanxiang.store.queue import Claim, Lease

log = logging.getLogger("wanxiang.worker")


class HeldLease:
    """One job this worker holds, as its lease thread sees it."""

    def __init__(self, claim: Claim, renew_until: float = math.inf) -> None:
        self.claim = claim
        # monotonic; past it the job is not vouched for any more (its deadline, once it runs)
        self.renew_until = renew_until
        self.progress: int | None = None
        self.lost = False
        self.cancelled = threading.Event()  # a user asked the job to stop; the engine stops at its next step

    def report_progress(self, percent: int) -> None:
        self.progress = percent


class LeaseKeeper:
    """One thread per worker that renews the lease of every job in hand every ``interval``."""

    def __init__(self, renew: Callable[[HeldLease], Lease], interval: float, name: str) -> None:
        self._renew = renew
        self._interval = interval
        self._held: list[HeldLease] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{name}", daemon=True)
        self._thread.start()

    def hold(self, held: HeldLease) -> None:
        with self._lock:
            if held not in self._held:
                self._held.append(held)

    def release(self, held: HeldLease) -> None:
        """After this returns no renewal of ``held`` is in flight (finish or hand-back may follow)."""
        with self._lock:
            if held in self._held:
                self._held.remove(held)

    def close(self) -> None:
        self._closed.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._closed.wait(self._interval):
            with self._lock:  # held while renewing, so release() waits for a renewal in flight
                for held in list(self._held):
                    self._renew_one(held)

    def _renew_one(self, held: HeldLease) -> None:
        if held.lost or time.monotonic() > held.renew_until:
            return
        try:
            lease = self._renew(held)
        except Exception:  # a database hiccup: try again next interval
            log.exception("lease renewal failed")
            return
        if lease is Lease.LOST:
            held.lost = True
        elif lease is Lease.CANCEL_REQUESTED:
            held.cancelled.set()  # keep the lease until the engine stops (or the job ends unstarted)
