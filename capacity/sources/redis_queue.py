"""Redis queue depth: a list (``redis://host:6379/0?list=q``) or a stream (``?stream=s&group=g``).

- list: depth = ``LLEN``; processed count and consumers are not measurable (``None``).
- stream with a consumer group: ``XINFO GROUPS`` gives ``pending`` (delivered, not yet acked) and
  ``lag`` (not yet delivered to the group); depth = pending + lag, ``in_flight`` = pending,
  ``processed_total`` = entries-read − pending (entries the group acknowledged), consumers = the
  group's registered consumers.
- stream without a group: depth = ``XLEN``.

Parameters: ``list`` or ``stream`` (one of them), ``group``, ``timeout`` (s, 3). ``rediss://`` uses TLS.
redis-py reconnects by itself on the next command after a failure.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry

from capacity.brokerurl import BrokerURL, describe_error, parse_broker_url
from capacity.errors import CapacityError, SourceError
from capacity.sources.base import QueueSample, register

_ALLOWED = ("list", "stream", "group", "timeout")


def redis_client(url: BrokerURL, timeout: float, max_connections: int | None = None) -> redis.Redis:
    """A redis-py client for a parsed ``redis://`` / ``rediss://`` URL (no automatic retries)."""
    try:
        db = int(url.path) if url.path else 0
    except ValueError:
        raise url.error(
            f"Database {url.path!r} in {url.redacted!r} is not a number; use e.g. redis://127.0.0.1:6379/0."
        ) from None
    common: dict[str, Any] = dict(
        host=url.host, port=url.port or 6379, db=db, username=url.username, password=url.password,
        socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0),
    )
    if max_connections is not None:
        pool = redis.BlockingConnectionPool(
            **common, max_connections=max_connections, timeout=timeout,
            connection_class=redis.SSLConnection if url.scheme == "rediss" else redis.Connection,
        )
        return redis.Redis(connection_pool=pool)
    return redis.Redis(**common, ssl=url.scheme == "rediss")


def list_or_stream(url: BrokerURL) -> tuple[str, str]:
    """``("list", key)`` or ``("stream", key)``; exactly one of ``list=`` / ``stream=`` must be given."""
    lst, stream = url.get("list"), url.get("stream")
    if (lst is None) == (stream is None):
        raise url.error(f"{url.redacted!r} needs exactly one of list= or stream=; e.g. ?list=orders.")
    return ("list", lst) if lst is not None else ("stream", stream)  # type: ignore[return-value]


@register("redis", "rediss")
class RedisSource:
    """Depth of a Redis list or stream consumer group."""

    def __init__(self, spec: str) -> None:
        url = parse_broker_url(spec, ("redis", "rediss"), _ALLOWED, SourceError)
        self.spec = url.redacted
        self.kind, self.key = list_or_stream(url)
        self.group = url.get("group")
        if self.group is not None and self.kind == "list":
            raise SourceError(f"group= in {self.spec!r} only applies to streams; drop it or use stream=.")
        self._client = redis_client(url, url.number("timeout", 3.0, minimum=0.1))

    def sample(self) -> QueueSample:
        try:
            if self.kind == "list":
                return QueueSample(depth=float(self._client.llen(self.key)))
            if self.group is None:
                return QueueSample(depth=float(self._client.xlen(self.key)))
            return self._group_sample()
        except CapacityError:
            raise
        except redis.exceptions.ResponseError as exc:
            if "no such key" in str(exc).lower():
                raise SourceError(
                    f"Stream {self.key!r} does not exist at {self.spec!r}; publish to it or fix stream=."
                ) from None
            raise SourceError(f"Redis refused to sample {self.spec!r}: {describe_error(exc)}.") from None
        except (redis.exceptions.RedisError, OSError) as exc:
            raise SourceError(f"Cannot sample Redis at {self.spec!r}: {describe_error(exc)}.") from None

    def _group_sample(self) -> QueueSample:
        groups = self._client.xinfo_groups(self.key)
        for g in groups:
            name = g.get("name")
            if isinstance(name, bytes):
                name = name.decode()
            if name == self.group:
                break
        else:
            raise SourceError(
                f"Stream {self.key!r} has no consumer group {self.group!r} at {self.spec!r}; "
                "start the consumers or fix group=."
            )
        pending = float(g.get("pending") or 0)
        lag = g.get("lag")
        read = g.get("entries-read")
        return QueueSample(
            depth=pending + float(lag) if lag is not None else None,
            in_flight=pending,
            consumers=int(g.get("consumers") or 0),
            processed_total=float(read or 0) - pending if lag is not None or read is not None else None,
        )

    def close(self) -> None:
        self._client.close()
