"""NATS JetStream publisher: ``nats://127.0.0.1:4222?subject=orders.new[&stream=ORDERS]``.

Each ``publish`` is a JetStream publish that waits for the stream's ack, so the measured request
latency includes persistence. With ``stream=``, the stream is created on first connect when missing
(subjects = the subject, ``storage=file|memory``, default file). ``timeout`` (s, default 5).

nats-py is asyncio: the client runs on a private event loop in a real OS thread, and ``publish``
blocks only its calling greenlet (or thread), so many greenlets publish concurrently.
"""

from __future__ import annotations

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext, api

from capacity.brokerurl import describe_error, parse_broker_url
from capacity.errors import TargetError
from capacity.natsconn import NatsConnection
from loadtests.publishers.base import register

_ALLOWED = ("subject", "stream", "storage", "timeout")


@register("nats")
class NatsPublisher:
    request_type = "JS"

    def __init__(self, url: str) -> None:
        u = parse_broker_url(url, ("nats",), _ALLOWED, TargetError)
        self.name = u.redacted
        self.subject = u.require("subject", "?subject=orders.new&stream=ORDERS")
        self.stream = u.get("stream")
        storage = u.choice("storage", "file", ("file", "memory"))
        self._storage = api.StorageType.FILE if storage == "file" else api.StorageType.MEMORY
        self._conn = NatsConnection(u, u.number("timeout", 5.0, minimum=0.1), name="capplan-publisher")
        if self.stream is not None:
            try:
                self._conn.call(self._ensure_stream)
            except (nats.errors.Error, nats.js.errors.Error, OSError, TimeoutError) as exc:
                self._conn.close()
                raise TargetError(
                    f"Cannot prepare stream {self.stream!r} at {self.name!r}: {describe_error(exc)}."
                ) from None

    async def _ensure_stream(self, js: JetStreamContext, _nc: Client) -> None:
        assert self.stream is not None
        try:
            await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(name=self.stream, subjects=[self.subject], storage=self._storage)

    def publish(self, body: bytes) -> int:
        async def pub(js: JetStreamContext, _nc: Client) -> int:
            ack = await js.publish(self.subject, body, stream=self.stream)
            return int(ack.seq)

        try:
            self._conn.call(pub)
            return 0
        except (nats.errors.NoRespondersError, nats.js.errors.NoStreamResponseError):
            raise TargetError(
                f"No JetStream stream captures subject {self.subject!r} at {self.name!r}; add stream= to create one."
            ) from None
        except (nats.errors.Error, nats.js.errors.Error, OSError, TimeoutError) as exc:
            raise TargetError(f"Publishing to {self.name!r} failed: {describe_error(exc)}.") from None

    def close(self) -> None:
        self._conn.close()
