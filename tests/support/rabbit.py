"""The real RabbitMQ at 127.0.0.1:5672 (guest/guest) for MQ callback tests, read back with pika;
and a TCP relay in front of it that a test can cut and restore (the broker "down for a while")."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pika
import pytest

MQ_HOST, MQ_PORT = "127.0.0.1", 5672
MQ_URL = os.environ.get("WANXIANG_TEST_MQ_URL", f"amqp://guest:guest@{MQ_HOST}:{MQ_PORT}/%2F")


def require_rabbitmq() -> None:
    try:
        with socket.create_connection((MQ_HOST, MQ_PORT), timeout=2):
            return
    except OSError:
        pass
    if os.environ.get("CI"):
        pytest.fail(f"RabbitMQ at {MQ_HOST}:{MQ_PORT} is unreachable; CI must exercise it")
    pytest.skip(f"RabbitMQ at {MQ_HOST}:{MQ_PORT} is unreachable (`service rabbitmq-server start`)")


def unique_name(label: str) -> str:
    return f"wx-test-{label}-{uuid.uuid4().hex[:10]}"


@contextmanager
def channel() -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    connection = pika.BlockingConnection(pika.URLParameters(MQ_URL))
    try:
        yield connection.channel()
    finally:
        if connection.is_open:
            connection.close()


def delete_queue(name: str) -> None:
    with channel() as ch:
        ch.queue_delete(name)


def delete_exchange(name: str) -> None:
    with channel() as ch:
        ch.exchange_delete(name)


def get_messages(queue: str, expect: int, timeout: float = 20.0) -> list[tuple[pika.spec.BasicProperties, bytes]]:
    """Up to ``expect`` messages from ``queue`` (acknowledged), waiting at most ``timeout`` for them
    (and for the queue, which the first delivery creates)."""
    found: list[tuple[pika.spec.BasicProperties, bytes]] = []
    deadline = time.monotonic() + timeout
    connection = pika.BlockingConnection(pika.URLParameters(MQ_URL))
    try:
        ch = connection.channel()
        while len(found) < expect and time.monotonic() < deadline:
            try:
                method, properties, body = ch.basic_get(queue, auto_ack=True)
            except pika.exceptions.ChannelClosedByBroker as exc:
                if exc.reply_code != 404:
                    raise
                ch = connection.channel()  # not declared yet
                method = None
            if method is None:
                time.sleep(0.1)
                continue
            found.append((properties, body))
    finally:
        if connection.is_open:
            connection.close()
    return found


def can_restart_broker() -> bool:
    return shutil.which("rabbitmqctl") is not None


def stop_broker() -> None:
    """Stop the RabbitMQ application (the node stays up to start it again in a few seconds)."""
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=60)


def start_broker() -> None:
    subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
    subprocess.run(["rabbitmqctl", "await_startup"], check=True, capture_output=True, timeout=120)


def restart_broker() -> bool:
    """Stop and start the RabbitMQ application (a few seconds); False where rabbitmqctl is missing."""
    if not can_restart_broker():
        return False
    stop_broker()
    start_broker()
    return True


class Relay:
    """A TCP relay on a free loopback port to the broker; ``cut()`` closes every connection and
    refuses new ones until ``restore()``."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        self.up = threading.Event()
        self.up.set()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()  # the broker is "down": refused
                continue
            upstream = socket.create_connection((MQ_HOST, MQ_PORT))
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up.clear()
        with self.lock:
            for s in self.sockets:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()
