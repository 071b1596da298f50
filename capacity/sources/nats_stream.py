"""NATS JetStream depth: ``nats://host:4222?stream=S&consumer=C`` (or ``?stream=S`` alone).

With a consumer: depth = ``num_pending`` (not yet delivered) + ``num_ack_pending`` (delivered, not
acked); ``in_flight`` = ``num_ack_pending``; ``processed_total`` = deliveries − ``num_ack_pending``
(acknowledged deliveries, a monotone counter). Without a consumer: depth = messages in the stream.

Parameters: ``stream`` (required), ``consumer``, ``timeout`` (s, 3). Credentials: ``user:pass@`` or a
token as ``token@``. nats-py is asyncio; it runs on a private loop in a real thread, so ``sample()``
is safe to call from plain threads and from greenlets of a gevent-patched (Locust) process.
"""

from __future__ import annotations

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext

from capacity.brokerurl import describe_error, parse_broker_url
from capacity.errors import SourceError
from capacity.natsconn import NatsConnection
from capacity.sources.base import QueueSample, register

_ALLOWED = ("stream", "consumer", "timeout")


@register("nats")
class NatsSource:
    """Depth of a JetStream consumer (or stream); reconnects on the next sample after a failure."""

    def __init__(self, spec: str) -> None:
        url = parse_broker_url(spec, ("nats",), _ALLOWED, SourceError)
        self.spec = url.redacted
        self.stream = url.require("stream", "?stream=ORDERS&consumer=workers")
        self.consumer = url.get("consumer")
        self._conn = NatsConnection(url, url.number("timeout", 3.0, minimum=0.1), name="capplan-source")

    def sample(self) -> QueueSample:
        try:
            return self._conn.call(self._read)
        except nats.js.errors.NotFoundError:
            what = (
                f"consumer {self.consumer!r} on stream {self.stream!r}" if self.consumer else f"stream {self.stream!r}"
            )
            raise SourceError(
                f"JetStream has no {what} at {self.spec!r}; start the consumers or fix stream=/consumer=."
            ) from None
        except (nats.errors.Error, nats.js.errors.Error, OSError, TimeoutError) as exc:
            raise SourceError(f"Cannot sample NATS at {self.spec!r}: {describe_error(exc)}.") from None

    async def _read(self, js: JetStreamContext, _nc: Client) -> QueueSample:
        if self.consumer is None:
            info = await js.stream_info(self.stream)
            return QueueSample(depth=float(info.state.messages), extra={"consumers": info.state.consumer_count})
        ci = await js.consumer_info(self.stream, self.consumer)
        pending = float(ci.num_pending or 0)
        ack_pending = float(ci.num_ack_pending or 0)
        delivered = float(ci.delivered.consumer_seq or 0) if ci.delivered else None
        return QueueSample(
            depth=pending + ack_pending,
            in_flight=ack_pending,
            processed_total=delivered - ack_pending if delivered is not None else None,
            extra={
                "num_waiting": float(ci.num_waiting or 0),
                "num_redelivered": float(ci.num_redelivered or 0),
            },
        )

    def close(self) -> None:
        self._conn.close()
