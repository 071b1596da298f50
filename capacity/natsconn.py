"""A synchronous, reconnecting wrapper around one nats-py connection on its own asyncio thread.

Used by the NATS source, publisher and reference consumer. The connection is opened lazily; when a
call fails because the connection is gone (or times out), the connection is dropped and the next
call opens a new one. JetStream API errors (e.g. stream not found) keep the connection.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext

from capacity.aiothread import AsyncLoopThread, resolve_host
from capacity.brokerurl import BrokerURL

T = TypeVar("T")

NatsCall = Callable[[JetStreamContext, Client], Awaitable[T]]


class NatsConnection:
    """``call(fn, timeout)`` runs ``await fn(js, nc)`` on the private loop and returns its result."""

    def __init__(self, url: BrokerURL, timeout: float, name: str = "capplan") -> None:
        self.url = url
        self.timeout = timeout
        self.name = name
        self._loop = AsyncLoopThread(name=f"{name}-nats")
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._connect_lock = threading.Lock()

    def call(self, fn: NatsCall[T], timeout: float | None = None) -> T:
        """Run ``fn(js, nc)``; on a transport failure drop the connection (reconnect next call)."""
        with self._connect_lock:
            if self._nc is None or self._nc.is_closed:
                self._connect()
            assert self._js is not None and self._nc is not None
            js, nc = self._js, self._nc
        try:
            return self._loop.run(lambda: fn(js, nc), timeout if timeout is not None else self.timeout)
        except (nats.js.errors.APIError, nats.js.errors.NoStreamResponseError):
            raise
        except (nats.errors.Error, OSError, TimeoutError):
            self._drop()
            raise

    def call_nowait(self, fn: NatsCall[Any]) -> None:
        """Schedule ``fn(js, nc)`` on the current connection without waiting (errors are dropped).

        For fire-and-forget operations such as JetStream acks; calls run in submission order.
        """
        js, nc = self._js, self._nc
        if js is None or nc is None or nc.is_closed:
            return

        async def quiet() -> None:
            try:
                await fn(js, nc)
            except Exception:  # noqa: BLE001 - fire and forget
                pass

        self._loop.submit_nowait(quiet)

    def _connect(self) -> None:
        self._drop()
        u = self.url
        host = resolve_host(u.host, u.port or 4222)  # in the caller: cooperative under gevent
        server = f"nats://[{host}]:{u.port or 4222}" if ":" in host else f"nats://{host}:{u.port or 4222}"
        errors: list[Exception] = []

        async def remember(exc: Exception) -> None:  # instead of nats-py's logging of every error
            errors.append(exc)

        opts: dict[str, Any] = {
            "servers": [server],
            "name": self.name,
            "allow_reconnect": False,
            # nats-py retries a refused first connect forever unless attempts are bounded (> 0)
            "max_reconnect_attempts": 1,
            "reconnect_time_wait": 0,
            "connect_timeout": max(1, round(self.timeout)),
            "error_cb": remember,
        }
        if u.username and u.password:
            opts["user"], opts["password"] = u.username, u.password
        elif u.username:
            opts["token"] = u.username
        try:
            nc: Client = self._loop.run(lambda: nats.connect(**opts), 2 * self.timeout + 1.0)
        except nats.errors.NoServersError:
            if errors:
                raise errors[-1] from None
            raise
        self._nc, self._js = nc, nc.jetstream(timeout=self.timeout)

    def _drop(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            try:
                self._loop.run(nc.close, 2.0)
            except Exception:  # noqa: BLE001 - the connection is already broken
                pass

    def close(self) -> None:
        self._drop()
        self._loop.close()
