"""The publisher interface: one object per Locust user that sends one message and returns.

A publisher is synchronous from the driver's point of view (the driver calls ``publish`` in its own
greenlet per message, so a slow endpoint never delays the next scheduled send). It must be
gevent-friendly: either a client that gevent's monkey-patching makes cooperative (pika's
BlockingConnection, redis-py, geventhttpclient), or an asyncio client run in its own thread.

``publish`` returns the response size in bytes and raises on failure; the driver times the call
from the message's *scheduled* send time and fires Locust's request event.
"""

from __future__ import annotations

import json
from typing import Protocol
from urllib.parse import urlsplit

from capacity.errors import TargetError
from capacity.registry import SchemeRegistry


class Publisher(Protocol):
    request_type: str  # Locust's "method" column, e.g. "POST", "AMQP", "LPUSH", "XADD", "JS"
    name: str  # Locust's "name" column: the endpoint, credentials redacted

    def publish(self, body: bytes) -> int: ...

    def close(self) -> None: ...


def message_body(seq: int, scheduled_epoch_s: float, size: int = 0) -> bytes:
    """The message every publisher sends: JSON with its sequence number and *scheduled* send time.

    Consumers compute delivery latency as ``receive_time - sent_at`` (epoch seconds).
    """
    doc: dict[str, object] = {"seq": seq, "sent_at": scheduled_epoch_s}
    if size > 0:
        doc["pad"] = "x" * size
    return json.dumps(doc, separators=(",", ":")).encode()


_REGISTRY: SchemeRegistry[Publisher] = SchemeRegistry("target", TargetError)
register = _REGISTRY.register


def open_publisher(url: str) -> Publisher:
    """Build the publisher for a target URL (http(s)://, amqp://, redis://, nats://)."""
    from loadtests import publishers as _pkg  # noqa: F401  (registers the built-in publishers)

    return _REGISTRY.build(urlsplit(url).scheme.lower(), url)
