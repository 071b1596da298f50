"""Reference consumers: C worker threads that drain a real broker at a known capacity of C/S msgs/s.

``run_consumer("amqp://guest:guest@127.0.0.1:5672/%2F?queue=orders", workers=4, service_time_ms=20)``
consumes from

- RabbitMQ (``amqp://...?queue=q``): one connection per worker, ``basic_qos(prefetch)``, ack after
  processing. The queue is declared (``durable=0|1`` as the publisher's URL says).
- a Redis list (``redis://...?list=q[&side=left|right]``): ``BRPOP`` (``BLPOP`` when the publisher
  pushes on the right), so the publisher's URL works unchanged and order stays FIFO.
- a Redis stream (``redis://...?stream=s[&group=g]``, group default ``capplan``): ``XREADGROUP`` with
  ``COUNT prefetch``, ``XACK`` after processing; the group is created at id 0 (reads any backlog).
- NATS JetStream (``nats://...?stream=S[&subject=x][&consumer=C]``, consumer default ``capplan``): a
  durable pull consumer (created when missing, explicit acks), one pull subscription per worker.

Each worker sleeps a service time drawn from ``service_dist`` with mean ``service_time_ms`` per
message, then acks it and records delivery latency = now − the body's ``sent_at`` (see
:func:`loadtests.publishers.base.message_body`) in the shared metrics of :mod:`capacity.demo.metrics`,
served at ``http://metrics_host:metrics_port/metrics``. The queue-depth gauge follows the broker's own
depth (sampled twice a second with the matching capplan source); the received counter counts
deliveries to the workers, the processed counter acknowledged messages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from capacity.brokerurl import BrokerURL, describe_error, parse_broker_url
from capacity.demo.metrics import ServiceMetrics, new_metrics
from capacity.demo.service_time import service_time_sampler
from capacity.errors import CapacityError, ConfigError, LaunchError

Handle = Callable[[bytes], Callable[[], None]]  # body -> "processed" callback to call after the ack

_AMQP_PARAMS = (
    "queue",
    "durable",
    "exchange",
    "routing_key",
    "confirm",
    "declare",
    "persistent",
    "pool",
    "timeout",
)
_REDIS_PARAMS = ("list", "stream", "group", "side", "maxlen", "pool", "timeout")
_NATS_PARAMS = ("stream", "subject", "consumer", "storage", "timeout")
_POLL_S = 0.5  # how long a worker blocks waiting for a message before checking for shutdown


class _Backend(Protocol):
    source_spec: str

    def setup(self) -> None: ...

    def work(self, index: int, handle: Handle, stop: threading.Event) -> None: ...

    def close(self) -> None: ...


def run_consumer(
    from_url: str,
    workers: int,
    service_time_ms: float,
    service_dist: str = "exp",
    service_scv: float = 1.0,
    metrics_host: str = "127.0.0.1",
    metrics_port: int = 0,
    seed: int | None = None,
    prefetch: int = 1,
    stop_after_s: float | None = None,
) -> None:
    """Consume ``from_url`` with ``workers`` threads until SIGINT/SIGTERM or ``stop_after_s``."""
    if not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers={workers!r} must be an integer >= 1; pass e.g. --workers 4.")
    if not isinstance(prefetch, int) or prefetch < 1:
        raise ConfigError(f"prefetch={prefetch!r} must be an integer >= 1; pass e.g. --prefetch 1.")
    if stop_after_s is not None and not stop_after_s > 0:
        raise ConfigError(f"stop_after_s={stop_after_s!r} must be > 0 seconds, or None to run until stopped.")
    if not isinstance(service_time_ms, int | float) or not service_time_ms > 0:
        raise ConfigError(f"service_time_ms={service_time_ms!r} must be a number > 0; pass e.g. 20.")
    draws = [
        service_time_sampler(
            service_dist,
            service_time_ms / 1000.0,
            service_scv,
            random.Random(None if seed is None else seed * 1_000_003 + i),
        )
        for i in range(workers)
    ]
    backend = open_backend(from_url, prefetch)
    metrics = new_metrics()
    metrics.workers.set(workers)
    stop = threading.Event()
    _install_signal_handlers(stop)
    try:
        backend.setup()
        server, port = _serve_metrics(metrics, metrics_host, metrics_port)
    except CapacityError:
        backend.close()
        raise
    threads = [
        threading.Thread(
            target=_worker_main,
            args=(backend, i, _make_handle(metrics, draws[i], service_time_ms / 1000.0), stop),
            name=f"capplan-consumer-{i}",
            daemon=True,
        )
        for i in range(workers)
    ]
    depth_thread = threading.Thread(
        target=_watch_depth, args=(backend.source_spec, metrics, stop), name="capplan-depth", daemon=True
    )
    for t in threads:
        t.start()
    depth_thread.start()
    print(f"capplan consumer listening on http://{_url_host(metrics_host)}:{port}/metrics", flush=True)
    try:
        deadline = None if stop_after_s is None else time.monotonic() + stop_after_s
        while not stop.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            stop.wait(0.5 if left is None else min(0.5, left))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5.0)
        depth_thread.join(timeout=2.0)
        server.shutdown()
        server.server_close()
        backend.close()


def open_backend(from_url: str, prefetch: int = 1) -> _Backend:
    """The consumer backend for a broker URL (amqp://, redis://, nats://)."""
    scheme = from_url.split("://", 1)[0].lower() if "://" in from_url else ""
    if scheme in ("amqp", "amqps"):
        return _RabbitBackend(parse_broker_url(from_url, ("amqp", "amqps"), _AMQP_PARAMS, ConfigError), prefetch)
    if scheme in ("redis", "rediss"):
        u = parse_broker_url(from_url, ("redis", "rediss"), _REDIS_PARAMS, ConfigError)
        return _RedisStreamBackend(u, prefetch) if u.get("stream") else _RedisListBackend(u)
    if scheme == "nats":
        return _NatsBackend(parse_broker_url(from_url, ("nats",), _NATS_PARAMS, ConfigError), prefetch)
    raise ConfigError(
        f"Cannot consume from {from_url.split('@')[-1]!r}; use amqp://...?queue=q, redis://...?list=q, "
        "redis://...?stream=s or nats://...?stream=S."
    )


# -- the work itself ------------------------------------------------------------------------------


def _make_handle(metrics: ServiceMetrics, draw: Callable[[], float], mean_s: float) -> Handle:
    """One worker's message handler: busy for a drawn service time, then hands back ``done``.

    Each worker behaves like a server of a G/G/c queue: it starts a message at max(its previous
    service's end, the message's arrival), where arrival is the body's ``sent_at``, and is busy for
    the drawn service time from there. So broker I/O between two messages (ack, next delivery; ~1 ms,
    more on a loaded machine) is absorbed into the service time instead of adding to it, and with a
    backlog completions are spaced by exactly the drawn times: capacity is C/S. The catch-up is
    bounded by one mean service time (a stalled process does not then burst far above C/S).
    """
    max_lag_s = mean_s
    end = 0.0  # when the previous service ended, or should have (epoch seconds)

    def handle(body: bytes) -> Callable[[], None]:
        nonlocal end
        metrics.received.inc()
        now = time.time()
        sent = _sent_at(body)
        arrival = min(sent, now) if sent is not None else now
        start = max(end, arrival, now - max_lag_s)
        end = start + draw()
        if end > now:
            time.sleep(end - now)

        def done() -> None:  # called after the ack
            if sent is not None:
                metrics.latency.observe(max(0.0, time.time() - sent))
            metrics.processed.inc()

        return done

    return handle


def _sent_at(body: bytes) -> float | None:
    try:
        value = json.loads(body)["sent_at"]
        return float(value)
    except (ValueError, KeyError, TypeError):
        return None


def _worker_main(backend: _Backend, index: int, handle: Handle, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            backend.work(index, handle, stop)
        except Exception as exc:  # noqa: BLE001 - a broker hiccup: report, back off, reconnect
            print(
                f"capplan consumer worker {index}: {describe_error(exc)}; retrying",
                file=sys.stderr,
                flush=True,
            )
            stop.wait(1.0)


def _watch_depth(source_spec: str, metrics: ServiceMetrics, stop: threading.Event) -> None:
    from capacity.sources import open_source

    source = None
    while not stop.wait(_POLL_S):
        try:
            source = source or open_source(source_spec)
            depth = source.sample().depth
            if depth is not None:
                metrics.depth.set(depth)
        except Exception:  # noqa: BLE001 - the gauge keeps its last value; the workers report errors
            pass
    if source is not None:
        source.close()


# -- RabbitMQ -------------------------------------------------------------------------------------


class _RabbitBackend:
    def __init__(self, url: BrokerURL, prefetch: int) -> None:
        import pika

        self.queue = url.require("queue", "?queue=orders")
        self.durable = url.flag("durable", False)
        self.prefetch = prefetch
        self._params = pika.ConnectionParameters(
            host=url.host,
            port=url.port or (5671 if url.scheme == "amqps" else 5672),
            virtual_host=url.path or "/",
            credentials=pika.PlainCredentials(url.username or "guest", url.password or "guest"),
            connection_attempts=1,
            socket_timeout=5.0,
            stack_timeout=5.0,
        )
        netloc = f"{quote(url.username or 'guest', safe='')}:{quote(url.password or 'guest', safe='')}"
        port = url.port or 5672
        vhost = quote(url.path or "/", safe="")
        query = urlencode({"queue": self.queue, "management": "off"})
        self.source_spec = f"rabbitmq://{netloc}@{_url_host(url.host)}:{port}/{vhost}?{query}"
        self.redacted = url.redacted

    def _connect(self) -> Any:
        import pika

        conn = pika.BlockingConnection(self._params)
        chan = conn.channel()
        chan.queue_declare(queue=self.queue, durable=self.durable)
        return conn, chan

    def setup(self) -> None:
        import pika.exceptions

        try:
            conn, _ = self._connect()
            conn.close()
        except (pika.exceptions.AMQPError, OSError) as exc:
            raise LaunchError(
                f"Cannot consume queue {self.queue!r} at {self.redacted!r}: {describe_error(exc)}."
            ) from None

    def work(self, index: int, handle: Handle, stop: threading.Event) -> None:
        conn, chan = self._connect()
        try:
            chan.basic_qos(prefetch_count=self.prefetch)
            for method, _props, body in chan.consume(self.queue, inactivity_timeout=_POLL_S):
                if method is not None:
                    done = handle(body)
                    chan.basic_ack(method.delivery_tag)
                    done()
                if stop.is_set():
                    break
            chan.cancel()  # returns unprocessed prefetched messages to the queue
        finally:
            if conn.is_open:
                conn.close()

    def close(self) -> None:
        pass


# -- Redis ----------------------------------------------------------------------------------------


def _redis_source_spec(url: BrokerURL, query: dict[str, str]) -> str:
    auth = ""
    if url.username or url.password:
        auth = f"{quote(url.username or '', safe='')}:{quote(url.password or '', safe='')}@"
    return f"{url.scheme}://{auth}{_url_host(url.host)}:{url.port or 6379}/{url.path or 0}?{urlencode(query)}"


class _RedisListBackend:
    def __init__(self, url: BrokerURL) -> None:
        from capacity.sources.redis_queue import redis_client

        self.key = url.require("list", "?list=orders")
        pushed_left = url.choice("side", "left", ("left", "right")) == "left"
        self._pop_right = pushed_left  # FIFO: pop the other end
        self._client = redis_client(url, timeout=_POLL_S + 5.0)
        self.source_spec = _redis_source_spec(url, {"list": self.key})
        self.redacted = url.redacted

    def setup(self) -> None:
        import redis.exceptions

        try:
            self._client.ping()
        except (redis.exceptions.RedisError, OSError) as exc:
            raise LaunchError(
                f"Cannot consume list {self.key!r} at {self.redacted!r}: {describe_error(exc)}."
            ) from None

    def work(self, index: int, handle: Handle, stop: threading.Event) -> None:
        pop = self._client.brpop if self._pop_right else self._client.blpop
        while not stop.is_set():
            item: Any = pop([self.key], timeout=_POLL_S)
            if item is None:
                continue
            handle(item[1])()  # BRPOP already removed it: nothing to ack

    def close(self) -> None:
        self._client.close()


class _RedisStreamBackend:
    def __init__(self, url: BrokerURL, prefetch: int) -> None:
        from capacity.sources.redis_queue import redis_client

        self.key = url.require("stream", "?stream=orders")
        self.group = url.get("group") or "capplan"
        self.prefetch = prefetch
        self._client = redis_client(url, timeout=_POLL_S + 5.0)
        self.source_spec = _redis_source_spec(url, {"stream": self.key, "group": self.group})
        self.redacted = url.redacted
        self._prefix = f"{socket.gethostname()}-{os.getpid()}"

    def setup(self) -> None:
        import redis.exceptions

        try:
            self._client.xgroup_create(self.key, self.group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise LaunchError(
                    f"Cannot create group {self.group!r} on stream {self.key!r}: {describe_error(exc)}."
                ) from None
        except (redis.exceptions.RedisError, OSError) as exc:
            raise LaunchError(
                f"Cannot consume stream {self.key!r} at {self.redacted!r}: {describe_error(exc)}."
            ) from None

    def work(self, index: int, handle: Handle, stop: threading.Event) -> None:
        name = f"{self._prefix}-{index}"
        try:
            while not stop.is_set():
                reply: Any = self._client.xreadgroup(
                    self.group, name, {self.key: ">"}, count=self.prefetch, block=int(_POLL_S * 1000)
                )
                for _stream, entries in reply or []:
                    for entry_id, fields in entries:
                        done = handle(fields.get(b"m", b""))
                        self._client.xack(self.key, self.group, entry_id)
                        done()
        finally:
            try:  # leave no stale consumer names behind (all its entries are acked by now)
                self._client.xgroup_delconsumer(self.key, self.group, name)
            except Exception:  # noqa: BLE001 - best effort at shutdown
                pass

    def close(self) -> None:
        self._client.close()


# -- NATS JetStream -------------------------------------------------------------------------------


class _NatsBackend:
    def __init__(self, url: BrokerURL, prefetch: int) -> None:
        from capacity.natsconn import NatsConnection

        self.stream = url.require("stream", "?stream=ORDERS&subject=orders.new")
        self.subject = url.get("subject")
        self.consumer = url.get("consumer") or "capplan"
        self.prefetch = prefetch
        self._conn = NatsConnection(url, timeout=5.0, name="capplan-consumer")
        auth = ""
        if url.username:
            auth = quote(url.username, safe="") + (f":{quote(url.password, safe='')}" if url.password else "") + "@"
        query = urlencode({"stream": self.stream, "consumer": self.consumer})
        self.source_spec = f"nats://{auth}{_url_host(url.host)}:{url.port or 4222}?{query}"
        self.redacted = url.redacted
        self._storage = url.choice("storage", "file", ("file", "memory"))
        self._subs: dict[int, Any] = {}

    def setup(self) -> None:
        import nats.errors
        import nats.js.errors
        from nats.js import api

        async def ensure(js: Any, _nc: Any) -> None:
            try:
                await js.stream_info(self.stream)
            except nats.js.errors.NotFoundError:
                if self.subject is None:
                    raise
                storage = api.StorageType.FILE if self._storage == "file" else api.StorageType.MEMORY
                await js.add_stream(name=self.stream, subjects=[self.subject], storage=storage)
            try:
                await js.consumer_info(self.stream, self.consumer)
            except nats.js.errors.NotFoundError:
                await js.add_consumer(
                    self.stream,
                    api.ConsumerConfig(
                        durable_name=self.consumer,
                        ack_policy=api.AckPolicy.EXPLICIT,
                        deliver_policy=api.DeliverPolicy.ALL,
                        ack_wait=30.0,
                        max_ack_pending=-1,
                        filter_subject=self.subject,
                    ),
                )

        try:
            self._conn.call(ensure)
        except nats.js.errors.NotFoundError:
            raise LaunchError(
                f"JetStream has no stream {self.stream!r} at {self.redacted!r}; publish first or add "
                "subject= so the consumer can create it."
            ) from None
        except (nats.errors.Error, nats.js.errors.Error, OSError, TimeoutError) as exc:
            raise LaunchError(
                f"Cannot consume stream {self.stream!r} at {self.redacted!r}: {describe_error(exc)}."
            ) from None

    def work(self, index: int, handle: Handle, stop: threading.Event) -> None:
        import nats.errors

        async def subscribe(js: Any, _nc: Any) -> Any:
            return await js.pull_subscribe_bind(durable=self.consumer, stream=self.stream)

        sub = self._conn.call(subscribe)
        try:
            while not stop.is_set():

                async def fetch(_js: Any, _nc: Any) -> list[Any]:
                    try:
                        return list(await sub.fetch(self.prefetch, timeout=_POLL_S))
                    except nats.errors.TimeoutError:
                        return []

                for msg in self._conn.call(fetch, timeout=_POLL_S + 5.0):
                    done = handle(msg.data)

                    async def ack(_js: Any, _nc: Any, m: Any = msg) -> None:
                        await m.ack()

                    # a JetStream ack is a plain publish the server does not confirm: do not wait
                    self._conn.call_nowait(ack)
                    done()
        finally:

            async def unsubscribe(_js: Any, _nc: Any) -> None:
                await sub.unsubscribe()

            try:
                self._conn.call(unsubscribe, timeout=2.0)
            except Exception:  # noqa: BLE001 - best effort at shutdown
                pass

    def close(self) -> None:
        self._conn.close()


# -- process plumbing -----------------------------------------------------------------------------


def _serve_metrics(metrics: ServiceMetrics, host: str, port: int) -> tuple[Any, int]:
    from prometheus_client import start_wsgi_server

    try:
        server, _thread = start_wsgi_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise LaunchError(
            f"Cannot serve metrics on {host}:{port} ({exc.strerror or exc}); pick another --metrics-port."
        ) from None
    return server, int(server.server_port)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _install_signal_handlers(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m capacity.demo.consume",
        description="Reference consumers: drain a RabbitMQ queue, Redis list/stream or NATS JetStream "
        "stream with C workers of mean service time S (capacity C/S msgs/s), exposing Prometheus metrics.",
        epilog="example: python -m capacity.demo.consume "
        "'amqp://guest:guest@127.0.0.1:5672/%2F?queue=orders' --workers 4 --service-time-ms 20",
    )
    parser.add_argument(
        "from_url",
        help="amqp://...?queue=q | redis://...?list=q | redis://...?stream=s | nats://...?stream=S",
    )
    parser.add_argument("--workers", type=int, default=4, help="worker threads C (default 4)")
    parser.add_argument("--service-time-ms", type=float, default=20.0, help="mean service time S in ms (default 20)")
    parser.add_argument("--service-dist", default="exp", help="exp | const | lognormal (default exp)")
    parser.add_argument("--service-scv", type=float, default=1.0, help="SCV for lognormal (default 1)")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address for /metrics (default 127.0.0.1)")
    parser.add_argument("--metrics-port", type=int, default=0, help="port for /metrics (default: a free one)")
    parser.add_argument("--seed", type=int, default=None, help="seed for service times")
    parser.add_argument("--prefetch", type=int, default=1, help="messages in flight per worker (default 1)")
    parser.add_argument("--stop-after", type=float, default=None, help="exit after this many seconds")
    args = parser.parse_args(argv)
    try:
        run_consumer(
            args.from_url,
            workers=args.workers,
            service_time_ms=args.service_time_ms,
            service_dist=args.service_dist,
            service_scv=args.service_scv,
            metrics_host=args.metrics_host,
            metrics_port=args.metrics_port,
            seed=args.seed,
            prefetch=args.prefetch,
            stop_after_s=args.stop_after,
        )
    except CapacityError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
