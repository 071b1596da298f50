"""Redis publisher: a list (``LPUSH``/``RPUSH``) or a stream (``XADD``, body in field ``m``).

Targets: ``redis://127.0.0.1:6379/0?list=q[&side=left|right]`` or ``?stream=s[&maxlen=N]``.
``side`` is the end messages are pushed on (default ``left``: consumers pop from the right, FIFO);
``maxlen`` trims the stream approximately (``MAXLEN ~ N``). ``pool`` (default 32) bounds the
connections shared by the caller's greenlets; ``timeout`` (s, default 5).
"""

from __future__ import annotations

import redis
import redis.exceptions

from capacity.brokerurl import describe_error, parse_broker_url
from capacity.errors import TargetError
from capacity.sources.redis_queue import list_or_stream, redis_client
from loadtests.publishers.base import register

_ALLOWED = ("list", "stream", "side", "maxlen", "pool", "timeout")


@register("redis", "rediss")
class RedisPublisher:
    def __init__(self, url: str) -> None:
        u = parse_broker_url(url, ("redis", "rediss"), _ALLOWED, TargetError)
        self.name = u.redacted
        self.kind, self.key = list_or_stream(u)
        self.side = u.choice("side", "left", ("left", "right"))
        maxlen = u.integer("maxlen", 0, minimum=0)
        self.maxlen = maxlen or None
        if self.kind == "list" and self.maxlen is not None:
            raise TargetError(f"maxlen= in {self.name!r} only applies to streams; drop it or use stream=.")
        if self.kind == "stream" and u.get("side") is not None:
            raise TargetError(f"side= in {self.name!r} only applies to lists; drop it or use list=.")
        self.request_type = "XADD" if self.kind == "stream" else ("LPUSH" if self.side == "left" else "RPUSH")
        timeout = u.number("timeout", 5.0, minimum=0.1)
        self._client = redis_client(u, timeout, max_connections=u.integer("pool", 32, minimum=1))
        try:
            self._client.ping()  # fail fast on a wrong host, password or database
        except (redis.exceptions.RedisError, OSError) as exc:
            self.close()
            raise TargetError(f"Cannot connect to Redis at {self.name!r}: {describe_error(exc)}.") from None

    def publish(self, body: bytes) -> int:
        try:
            if self.kind == "stream":
                msg_id = self._client.xadd(self.key, {"m": body}, maxlen=self.maxlen, approximate=True)
                return len(msg_id)
            if self.side == "left":
                self._client.lpush(self.key, body)
            else:
                self._client.rpush(self.key, body)
            return 0
        except (redis.exceptions.RedisError, OSError) as exc:
            raise TargetError(f"Publishing to {self.name!r} failed: {describe_error(exc)}.") from None

    def close(self) -> None:
        self._client.close()
        self._client.connection_pool.disconnect()
