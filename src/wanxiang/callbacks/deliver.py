"""Deliver due callbacks from the outbox: POST (or publish to the MQ broker), record the
attempt, retry with backoff."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import httpx

from wanxiang.callbacks.mq import MqPublisher
from wanxiang.callbacks.policy import pinned_request, vetted_address
from wanxiang.model import times
from wanxiang.model.notify import MQ_URL_FLAG, parse_mq_target
from wanxiang.store.callbacks import CallbackStore, DueCallback

log = logging.getLogger("wanxiang.callbacks")


class Transport(Protocol):
    def send(self, url: str, content_type: str, payload: str, address: str | None = None) -> int:
        """Deliver one notification (to ``address`` when given, the vetted IP of the URL's host);
        return the status code (raise on a network failure)."""
        ...


class HttpTransport:
    def __init__(self, timeout: float = 10.0) -> None:
        # Redirects are not followed: a 3xx could point anywhere, including inward.
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def send(self, url: str, content_type: str, payload: str, address: str | None = None) -> int:
        headers = {"Content-Type": content_type}
        extensions: dict[str, str] = {}
        if address is not None:
            url, host, extensions = pinned_request(url, address)
            headers.update(host)
        response = self.client.post(url, content=payload.encode("utf-8"), headers=headers, extensions=extensions)
        return response.status_code


class NotDeliverable(Exception):
    """A callback that no retry can deliver (a refused address)."""


@dataclass
class Deliverer:
    store: CallbackStore
    transport: Transport = field(default_factory=HttpTransport)
    # The broker of TDMQ targets; None in a process started without --mq-url (such targets then
    # wait, retried, for a process that has one).
    mq: MqPublisher | None = None
    allow_private: bool = False
    max_attempts: int = 6
    backoff_seconds: float = 5.0
    clock: Callable[[], datetime] = times.now

    def deliver_due(self) -> int:
        due = self.store.claim_due(self.clock())
        for callback in due:
            self._deliver(callback)
        return len(due)

    def _deliver(self, callback: DueCallback) -> None:
        status: int | None = None
        error = ""
        give_up = False
        try:
            mq_target = parse_mq_target(callback.url)
            if mq_target is not None:
                if self.mq is None:
                    raise RuntimeError(f"this process has no MQ broker; start it with {MQ_URL_FLAG}")
                message_id = f"{callback.job_id}/{callback.seq}"
                self.mq.publish(mq_target, callback.event, callback.content_type, callback.payload, message_id)
            else:
                status = self._post(callback)
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
        except NotDeliverable as exc:
            error, give_up = str(exc), True
        except Exception as exc:  # network errors of any kind are retried
            error = f"{type(exc).__name__}: {exc}"
        attempts = callback.attempts + 1
        give_up = give_up or attempts >= self.max_attempts
        retry_at = None
        if error and not give_up:
            retry_at = self.clock() + timedelta(seconds=self.backoff_seconds * (2 ** (attempts - 1)))
        if error:
            log.warning("callback %s for job %s: attempt %d failed: %s", callback.seq, callback.job_id, attempts, error)
        self.store.record(callback, self.clock(), status, error, retry_at, give_up)

    def _post(self, callback: DueCallback) -> int:
        address = None
        if not self.allow_private:
            try:
                address = vetted_address(callback.url)
            except ValueError as exc:
                raise NotDeliverable(f"{callback.url} refused: {exc}") from exc
        return self.transport.send(callback.url, callback.content_type, callback.payload, address)

    def run(self, stop: threading.Event, interval: float = 0.2) -> None:
        try:
            while not stop.is_set():
                try:
                    if not self.deliver_due():
                        stop.wait(interval)
                except Exception:
                    log.exception("callback delivery loop error")
                    stop.wait(1.0)
        finally:
            if self.mq is not None:
                self.mq.close()
