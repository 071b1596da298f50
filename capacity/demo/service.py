"""The demo messaging service: an HTTP API in front of an in-memory queue with C consumers.

``POST /messages`` enqueues (202 with an id) or rejects with 503 when the queue holds
``queue_limit`` messages; C workers each take a message and spend a service time with mean S, so
the true capacity is C/S messages per second. Workers keep an exact service clock: a worker that
wakes late starts its next message at the moment it should have finished the last one, so event
loop jitter does not eat capacity. ``GET /metrics`` (Prometheus text) and ``GET /healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import web

from capacity.demo.metrics import ServiceMetrics, new_metrics
from capacity.demo.service_time import service_time_sampler
from capacity.errors import ConfigError


@dataclass(frozen=True)
class DemoConfig:
    workers: int = 4
    service_time_ms: float = 40.0
    service_dist: str = "exp"
    service_scv: float = 1.0
    queue_limit: int = 5000
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {self.workers}.")
        if not self.service_time_ms > 0:
            raise ConfigError(f"--service-time-ms must be greater than zero, got {self.service_time_ms}.")
        if self.queue_limit < 1:
            raise ConfigError(f"--queue-limit must be at least 1, got {self.queue_limit}.")
        service_time_sampler(self.service_dist, self.service_time_ms / 1000.0, self.service_scv)

    @property
    def capacity(self) -> float:
        """True capacity C/S in messages per second."""
        return self.workers / (self.service_time_ms / 1000.0)


class DemoService:
    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.metrics: ServiceMetrics = new_metrics()
        self.metrics.workers.set(config.workers)
        self._queue: deque[tuple[int, float]] = deque()
        self._ready = asyncio.Event()
        self._next_id = 0
        self._tasks: list[asyncio.Task[None]] = []
        rng = random.Random(config.seed)
        self._draw = service_time_sampler(config.service_dist, config.service_time_ms / 1000.0,
                                          config.service_scv, rng)

    async def post_message(self, request: web.Request) -> web.Response:
        await request.read()
        if len(self._queue) >= self.config.queue_limit:
            self.metrics.rejected.inc()
            return web.json_response({"error": "queue full"}, status=503)
        self._next_id += 1
        self._queue.append((self._next_id, time.monotonic()))
        self.metrics.received.inc()
        self.metrics.depth.set(len(self._queue))
        self._ready.set()
        return web.json_response({"id": self._next_id}, status=202)

    async def get_metrics(self, request: web.Request) -> web.Response:
        self.metrics.depth.set(len(self._queue))
        return web.Response(body=self.metrics.exposition(), content_type="text/plain", charset="utf-8")

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "queue_depth": len(self._queue)})

    async def _worker(self) -> None:
        finished_at = time.monotonic()  # the worker's exact service clock
        while True:
            while not self._queue:
                self._ready.clear()
                await self._ready.wait()
            _, enqueued = self._queue.popleft()
            self.metrics.depth.set(len(self._queue))
            start = max(enqueued, finished_at)  # busy: start when the last one finished
            finished_at = start + self._draw()
            delay = finished_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.metrics.processed.inc()
            self.metrics.latency.observe(max(0.0, finished_at - enqueued))

    async def start_workers(self, app: web.Application) -> None:
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.config.workers)]

    async def stop_workers(self, app: web.Application) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/messages", self.post_message)
        app.router.add_get("/metrics", self.get_metrics)
        app.router.add_get("/healthz", self.healthz)
        app.on_startup.append(self.start_workers)
        app.on_cleanup.append(self.stop_workers)
        return app


async def _serve(config: DemoConfig, host: str, port: int) -> None:
    service = DemoService(config)
    runner = web.AppRunner(service.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    actual = runner.addresses[0][1] if runner.addresses else port
    print(
        f"capplan demo listening on http://{host}:{actual} "
        f"(workers={config.workers}, service_time_ms={config.service_time_ms:g}, "
        f"dist={config.service_dist}, capacity={config.capacity:.1f} msg/s, queue_limit={config.queue_limit})",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def serve(config: DemoConfig, host: str = "127.0.0.1", port: int = 0) -> None:
    """Run the demo service until SIGINT/SIGTERM. Prints ``... listening on http://HOST:PORT`` first."""
    try:
        asyncio.run(_serve(config, host, port))
    except OSError as e:
        print(f"error: cannot listen on {host}:{port}: {e.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
