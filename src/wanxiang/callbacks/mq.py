"""Publishing notifications to RabbitMQ (``--mq-url amqp://…``) with publisher confirms.

A message counts as delivered only once the broker confirmed it (persistent, into a durable
queue or exchange); anything else raises, and the outbox retries it later. One connection,
opened on first use and again after any failure (a broker restart, a lapsed heartbeat).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError, ChannelClosedByBroker

from wanxiang.model.notify import MqTarget

log = logging.getLogger("wanxiang.callbacks")

NOT_FOUND = 404


class MqPublisher:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.params = pika.URLParameters(url)
        self.params.socket_timeout = timeout
        self.params.blocked_connection_timeout = timeout * 3
        self.params.connection_attempts = 1
        self.params.retry_delay = 0
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._declared: set[MqTarget] = set()

    def publish(self, target: MqTarget, event: str, content_type: str, payload: str, message_id: str) -> None:
        """Publish one notification and wait for the broker's confirm; raise when it is not confirmed."""
        reused = self._connection is not None
        try:
            self._publish(target, event, content_type, payload, message_id)
        except (AMQPError, OSError):
            self.close()
            if not reused:
                raise
            # The connection we held may have died while idle (a broker restart): one fresh try.
            log.info("MQ connection was stale; publishing again on a new one")
            self._publish(target, event, content_type, payload, message_id)

    def _publish(self, target: MqTarget, event: str, content_type: str, payload: str, message_id: str) -> None:
        channel = self._open()
        if target not in self._declared:
            channel = self._declare(channel, target)
            self._declared.add(target)
        exchange, routing_key = ("", target.name) if target.mode == "Queue" else (target.name, event)
        properties = pika.BasicProperties(
            content_type=content_type,
            content_encoding="utf-8",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message_id,
            type=event,
            app_id="wanxiang",
        )
        # mandatory for a queue: a message the broker cannot route is an error, not a silent drop.
        # A topic with no binding drops it, as a topic does.
        channel.basic_publish(
            exchange, routing_key, payload.encode("utf-8"), properties=properties, mandatory=target.mode == "Queue"
        )

    def _open(self) -> BlockingChannel:
        if self._connection is None or self._connection.is_closed:
            self._connection = pika.BlockingConnection(self.params)
            self._channel = None
            self._declared.clear()
        if self._channel is None or self._channel.is_closed:
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
        return self._channel

    def _declare(self, channel: BlockingChannel, target: MqTarget) -> BlockingChannel:
        """Use the queue or exchange as it is when it exists (whatever its arguments), else
        create it durable."""
        try:
            if target.mode == "Queue":
                channel.queue_declare(target.name, passive=True)
            else:
                channel.exchange_declare(target.name, passive=True)
            return channel
        except ChannelClosedByBroker as exc:
            if exc.reply_code != NOT_FOUND:
                raise
        channel = self._open()  # the failed passive declare closed the channel
        if target.mode == "Queue":
            channel.queue_declare(target.name, durable=True)
        else:
            channel.exchange_declare(target.name, exchange_type="topic", durable=True)
        return channel

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        self._declared.clear()
        if connection is not None and connection.is_open:
            # Closing a broken connection may fail in any way; it is gone either way.
            with contextlib.suppress(Exception):
                connection.close()

    def __enter__(self) -> MqPublisher:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
