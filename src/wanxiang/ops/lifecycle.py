"""How wanxiang's processes stop.

A top-level process (``serve``, ``worker``) takes SIGTERM and SIGINT itself: the first asks for a
graceful stop (no new requests or claims, running jobs may finish within the grace period), the
second for a stop at once (running jobs are handed back to their queue).

A worker process reads its signals on one thread (``WorkerSignals``), so that they are seen even
while the main thread is deep in libvips or FFmpeg: SIGTERM or SIGINT stop it after its job, or at
the end of the grace period; SIGUSR2 (sent by its parent at a second signal) hands the job back
at once. It also stops when its parent dies, even by SIGKILL: the kernel sends it SIGUSR1
(PR_SET_PDEATHSIG) and a watch on the parent's pid covers what that misses.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("wanxiang.lifecycle")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
HURRY = signal.SIGUSR2  # parent -> worker process: hand the job back and exit now
_PARENT_GONE = signal.SIGUSR1
_PR_SET_PDEATHSIG = 1
HAND_BACK_SECONDS = 10.0


class Stopper:
    """The signals of a top-level process: a first stop, then a hurry."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.hurry = threading.Event()
        self.on_stop: list[Callable[[], None]] = []
        self.on_hurry: list[Callable[[], None]] = []

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not self.stopping.is_set():
            log.info("%s received: stopping (a second signal stops at once)", name)
            self.stop()
        elif not self.hurry.is_set():
            log.warning("%s received again: stopping at once, handing running jobs back", name)
            self.hurry.set()
            for callback in self.on_hurry:
                callback()

    def stop(self) -> None:
        self.stopping.set()
        for callback in self.on_stop:
            callback()


def _set_parent_death_signal(sig: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(every: float = 1.0) -> None:
    """For a stateless helper process (an image processing child): it exits when its parent dies,
    and is deaf to the Ctrl-C its terminal sends the whole process group (the parent stops it).

    A watch on the parent's pid, not PR_SET_PDEATHSIG: that fires when the parent's *thread* that
    started the child ends, and a pool's children are started from short-lived request threads."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    spawner = multiprocessing.parent_process()
    parent = spawner.pid if spawner is not None and spawner.pid else os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class WorkerSignals:
    """Signals and parent death of one worker process, seen on a thread of their own.

    Python runs signal handlers on the main thread only, between bytecodes, which may be minutes
    away while libvips or FFmpeg work; but its C-level handler writes every signal's number to the
    wakeup fd at once, whichever thread the kernel picked. This thread reads that fd.

    ``stop`` is set at the first stop signal (or when the parent is gone); ``hand_back`` is called,
    then the process exits, at SIGUSR2 or when ``grace`` seconds have passed since the stop. An API
    process (``kind="API"``) is watched the same way; its ``hand_back`` ends its requests at once."""

    def __init__(
        self, stop: threading.Event, grace: float, hand_back: Callable[[], None], kind: str = "worker"
    ) -> None:
        self.stop = stop
        self.grace = grace
        self.hand_back = hand_back
        self.kind = kind
        self.work = "the running job" if kind == "worker" else "the requests in flight"
        # The pid of the process that spawned this one, as it told us, not os.getppid() now: the
        # parent may already have died, and then getppid() names the process that adopted us.
        spawner = multiprocessing.parent_process()
        self.parent = spawner.pid if spawner is not None and spawner.pid else os.getppid()
        self._deadline: float | None = None
        self._reader, self._writer = socket.socketpair()

    def start(self) -> None:
        """Call on the main thread, first thing in the process."""
        self._writer.setblocking(False)
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for sig in (*STOP_SIGNALS, HURRY, _PARENT_GONE):
            signal.signal(sig, _noted)
        _set_parent_death_signal(_PARENT_GONE)
        threading.Thread(target=self._run, name="signals", daemon=True).start()

    def _begin_stop(self, why: str) -> None:
        if not self.stop.is_set():
            log.info("%s process %d: %s; stopping after %s (grace %gs)", self.kind, os.getpid(), why, self.work,
                     self.grace)
            self.stop.set()
            self._deadline = time.monotonic() + self.grace

    def _run(self) -> None:
        while True:
            wait = 0.5 if self._deadline is None else max(0.0, min(0.5, self._deadline - time.monotonic()))
            ready, _, _ = select.select([self._reader], [], [], wait)
            received = set(self._reader.recv(64)) if ready else set()
            if os.getppid() != self.parent:
                self._begin_stop("its parent process is gone")
            for signum in received & set(STOP_SIGNALS):
                self._begin_stop(signal.Signals(signum).name)
            hurry = HURRY in received
            if hurry or (self._deadline is not None and time.monotonic() >= self._deadline):
                self._exit_now("told to stop at once" if hurry else "grace period over")

    def _exit_now(self, why: str) -> None:
        # Bounded: a database that does not answer must not keep the process; the job's lease then
        # lapses and it runs again all the same.
        handing = threading.Thread(target=self._hand_back, name="hand-back", daemon=True)
        handing.start()
        handing.join(HAND_BACK_SECONDS)
        if handing.is_alive():
            late = "the job was not handed back" if self.kind == "worker" else "the requests did not end"
            log.warning("%s process %d: %s within %g s%s", self.kind, os.getpid(), late, HAND_BACK_SECONDS,
                        "; its lease will lapse" if self.kind == "worker" else "")
        log.info("%s process %d: %s; exiting", self.kind, os.getpid(), why)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(0)


    def _hand_back(self) -> None:
        try:
            self.hand_back()
        except Exception:
            log.exception("%s process %d: ending %s at once failed", self.kind, os.getpid(), self.work)


def _noted(_signum: int, _frame: FrameType | None) -> None:
    """The Python-level handler: nothing to do, the signals thread has seen the wakeup byte."""
