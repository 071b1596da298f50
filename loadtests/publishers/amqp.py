"""AMQP 0-9-1 (RabbitMQ) publisher with pika.

Target: ``amqp://user:pass@host:5672/vhost?queue=orders[&exchange=x&routing_key=k&confirm=1]``.

- ``queue``: declared on connect (``durable=0|1``, default 0; ``declare=0`` skips it) and used as the
  routing key when neither ``exchange`` nor ``routing_key`` is given (default exchange).
- ``confirm=1``: publisher confirms; ``publish`` returns once the broker acked the message (so the
  measured request latency is the confirm latency) and raises on a nack or an unroutable message.
- ``persistent=1``: delivery mode 2. ``pool=N`` (default 4): connections shared by the caller's
  greenlets; ``timeout`` (s, default 5).

pika channels are not safe for concurrent use, and the driver calls ``publish`` from many greenlets
at once: each call borrows one connection from a small pool (a ``queue.Queue``, which gevent's
monkey-patching makes cooperative) and returns it afterwards. A connection that failed is dropped
and reopened by the next call that borrows its slot.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions

from capacity.brokerurl import describe_error, parse_broker_url
from capacity.errors import TargetError
from loadtests.publishers.base import register

_ALLOWED = (
    "queue",
    "exchange",
    "routing_key",
    "confirm",
    "durable",
    "declare",
    "persistent",
    "pool",
    "timeout",
)
_IDLE_CHECK_S = 20.0  # service heartbeats on a connection idle this long before publishing on it


@dataclass
class _Lane:
    conn: Any = None
    chan: Any = None
    last_used: float = field(default_factory=time.monotonic)


@register("amqp", "amqps")
class AmqpPublisher:
    request_type = "AMQP"

    def __init__(self, url: str) -> None:
        u = parse_broker_url(url, ("amqp", "amqps"), _ALLOWED, TargetError)
        self.name = u.redacted
        self.queue = u.get("queue")
        self.exchange = u.get("exchange") or ""
        self.routing_key = u.get("routing_key") or (self.queue or "")
        if not self.exchange and not self.routing_key:
            raise TargetError(f"{self.name!r} names no queue= (or exchange= and routing_key=); add ?queue=orders.")
        self.confirm = u.flag("confirm", False)
        self.durable = u.flag("durable", False)
        self.declare = u.flag("declare", True) and self.queue is not None
        self.timeout = u.number("timeout", 5.0, minimum=0.1)
        pool = u.integer("pool", 4, minimum=1)
        self._props = pika.BasicProperties(
            content_type="application/json", delivery_mode=2 if u.flag("persistent", False) else 1
        )
        self._params = pika.ConnectionParameters(
            host=u.host,
            port=u.port or (5671 if u.scheme == "amqps" else 5672),
            virtual_host=u.path or "/",
            credentials=pika.PlainCredentials(u.username or "guest", u.password or "guest"),
            connection_attempts=1,
            socket_timeout=self.timeout,
            stack_timeout=self.timeout,
            blocked_connection_timeout=self.timeout,
            ssl_options=pika.SSLOptions(_ssl_context()) if u.scheme == "amqps" else None,
        )
        self._lanes: queue.Queue[_Lane] = queue.Queue()
        first = _Lane()
        try:
            self._open(first)  # fail fast on a wrong host, credentials or a conflicting queue
        finally:
            self._lanes.put(first)
        for _ in range(pool - 1):
            self._lanes.put(_Lane())

    def publish(self, body: bytes) -> int:
        try:
            lane = self._lanes.get(timeout=self.timeout)
        except queue.Empty:
            raise TargetError(
                f"No AMQP connection to {self.name!r} came free within {self.timeout:g} s; raise pool=."
            ) from None
        try:
            if lane.chan is None or not lane.chan.is_open or not lane.conn.is_open:
                self._open(lane)
            elif time.monotonic() - lane.last_used > _IDLE_CHECK_S:
                lane.conn.process_data_events(0)  # heartbeats; raises if the broker dropped us
            lane.chan.basic_publish(
                exchange=self.exchange,
                routing_key=self.routing_key,
                body=body,
                properties=self._props,
                mandatory=self.confirm,
            )
            lane.last_used = time.monotonic()
            return 0
        except pika.exceptions.UnroutableError:
            raise TargetError(
                f"RabbitMQ returned the message as unroutable (exchange {self.exchange!r}, routing key "
                f"{self.routing_key!r}); bind a queue to it or fix the target."
            ) from None
        except pika.exceptions.NackError:
            raise TargetError(f"RabbitMQ nacked the message published to {self.name!r}.") from None
        except TargetError:
            self._reset(lane)
            raise
        except (pika.exceptions.AMQPError, OSError, ValueError) as exc:
            self._reset(lane)
            raise TargetError(f"Publishing to {self.name!r} failed: {describe_error(exc)}.") from None
        finally:
            self._lanes.put(lane)

    def close(self) -> None:
        while True:
            try:
                lane = self._lanes.get_nowait()
            except queue.Empty:
                break
            self._reset(lane)

    def _open(self, lane: _Lane) -> None:
        self._reset(lane)
        try:
            lane.conn = pika.BlockingConnection(self._params)
            lane.chan = lane.conn.channel()
            if self.declare:
                assert self.queue is not None
                lane.chan.queue_declare(queue=self.queue, durable=self.durable)
            if self.confirm:
                lane.chan.confirm_delivery()
            lane.last_used = time.monotonic()
        except pika.exceptions.ChannelClosedByBroker as exc:
            self._reset(lane)
            raise TargetError(
                f"RabbitMQ refused to declare queue {self.queue!r} at {self.name!r} ({exc.reply_text}); "
                "match its existing settings (durable=) or pass declare=0."
            ) from None
        except (pika.exceptions.AMQPError, OSError) as exc:
            self._reset(lane)
            raise TargetError(f"Cannot connect to RabbitMQ at {self.name!r}: {describe_error(exc)}.") from None

    @staticmethod
    def _reset(lane: _Lane) -> None:
        conn, lane.conn, lane.chan = lane.conn, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass


def _ssl_context() -> Any:
    import ssl

    return ssl.create_default_context()
