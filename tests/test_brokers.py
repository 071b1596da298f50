"""Publishers, queue-depth sources and reference consumers against the real brokers on this machine.

RabbitMQ 127.0.0.1:5672 (guest/guest), Redis 127.0.0.1:6379, NATS JetStream 127.0.0.1:4222. Every
test uses its own queue/key/stream names and deletes them afterwards; traffic stays on loopback.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pika
import pytest
import redis

from capacity.errors import SourceError, TargetError
from capacity.sources import open_source
from loadtests.publishers import message_body, open_publisher

pytestmark = [pytest.mark.broker, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
AMQP_PORT, REDIS_PORT, NATS_PORT = 5672, 6379, 4222
KINDS = ("rabbitmq", "redis-list", "redis-stream", "nats")


# -- one broker case per kind: URLs plus direct (test-side) consumption and cleanup -----------------


@dataclass
class Case:
    kind: str
    name: str  # queue / key / stream, unique per test
    port: int

    @property
    def target(self) -> str:
        return self.target_at(self.port)

    def target_at(self, port: int) -> str:
        n = self.name
        return {
            "rabbitmq": f"amqp://guest:guest@127.0.0.1:{port}/%2F?queue={n}&confirm=1",
            "redis-list": f"redis://127.0.0.1:{port}/0?list={n}",
            "redis-stream": f"redis://127.0.0.1:{port}/0?stream={n}",
            "nats": f"nats://127.0.0.1:{port}?subject={n}.new&stream={n}",
        }[self.kind]

    @property
    def source(self) -> str:
        return self.source_at(self.port)

    @property
    def plain_source(self) -> str:
        """Like :attr:`source` but needs no group/consumer (streams: the stream's length)."""
        if self.kind in ("redis-stream", "nats"):
            return self.source_at(self.port).split("&group=")[0].split("&consumer=")[0] + "&timeout=1"
        return self.source

    def source_at(self, port: int, group: str = "capplan") -> str:
        n = self.name
        return {
            "rabbitmq": f"rabbitmq://guest:guest@127.0.0.1:{port}/%2F?queue={n}&management=off&timeout=1",
            "redis-list": f"redis://127.0.0.1:{port}/0?list={n}&timeout=1",
            "redis-stream": f"redis://127.0.0.1:{port}/0?stream={n}&group={group}&timeout=1",
            "nats": f"nats://127.0.0.1:{port}?stream={n}&consumer={group}&timeout=1",
        }[self.kind]

    def prepare_group(self, group: str = "capplan") -> None:
        """Create what a group-based source reads (stream group / durable consumer) before consuming."""
        if self.kind == "redis-stream":
            redis.Redis(port=REDIS_PORT).xgroup_create(self.name, group, id="0", mkstream=True)
        elif self.kind == "nats":
            _nats(self._add_consumer(group))

    async def _add_consumer(self, group: str) -> None:
        from nats.js import api

        js = _NC.js
        await js.add_consumer(
            self.name,
            api.ConsumerConfig(durable_name=group, ack_policy=api.AckPolicy.EXPLICIT, max_ack_pending=-1),
        )

    def take(self, k: int, ack: bool = True, group: str = "capplan") -> int:
        """Consume ``k`` messages directly (acked unless ``ack=False``); return how many were taken."""
        if self.kind == "rabbitmq":
            conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", AMQP_PORT))
            ch = conn.channel()
            got = 0
            for _ in range(k):
                method, _props, _body = ch.basic_get(self.name, auto_ack=ack)
                got += method is not None
            conn.close()  # unacked ones go back to the queue
            return got
        r = redis.Redis(port=REDIS_PORT)
        if self.kind == "redis-list":
            return sum(r.rpop(self.name) is not None for _ in range(k))
        if self.kind == "redis-stream":
            reply = r.xreadgroup(group, "test", {self.name: ">"}, count=k)
            ids = [eid for _s, entries in reply for eid, _f in entries]
            if ack and ids:
                r.xack(self.name, group, *ids)
            return len(ids)
        return _nats(self._fetch(k, ack, group))

    async def _fetch(self, k: int, ack: bool, group: str) -> int:
        sub = await _NC.js.pull_subscribe_bind(durable=group, stream=self.name)
        msgs = await sub.fetch(k, timeout=5)
        for m in msgs:
            if ack:
                await m.ack_sync()
        await sub.unsubscribe()
        return len(msgs)

    def cleanup(self) -> None:
        if self.kind == "rabbitmq":
            conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", AMQP_PORT))
            conn.channel().queue_delete(self.name)
            conn.close()
        elif self.kind.startswith("redis"):
            redis.Redis(port=REDIS_PORT).delete(self.name)
        else:
            _nats(self._delete_stream())

    async def _delete_stream(self) -> None:
        import nats.js.errors

        try:
            await _NC.js.delete_stream(self.name)
        except nats.js.errors.NotFoundError:
            pass


class _NatsHelper:
    """A test-side nats-py client on its own event loop, opened on first use, closed per module."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.nc = None
        self.js = None

    def run(self, coro):  # type: ignore[no-untyped-def]
        if self.loop is None:
            import nats

            self.loop = asyncio.new_event_loop()
            self.nc = self.loop.run_until_complete(nats.connect(f"nats://127.0.0.1:{NATS_PORT}"))
            self.js = self.nc.jetstream()
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        if self.loop is not None:
            if self.nc is not None:
                self.loop.run_until_complete(self.nc.close())
            self.loop.close()
        self.loop = self.nc = self.js = None


_NC = _NatsHelper()


def _nats(coro):  # type: ignore[no-untyped-def]
    return _NC.run(coro)


@pytest.fixture(scope="module", autouse=True)
def _nats_helper() -> Iterator[None]:
    yield
    _NC.close()


def _port(kind: str) -> int:
    return {"rabbitmq": AMQP_PORT, "redis-list": REDIS_PORT, "redis-stream": REDIS_PORT, "nats": NATS_PORT}[kind]


@pytest.fixture(params=KINDS)
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    kind = request.param
    c = Case(kind, f"capplan-t-{uuid.uuid4().hex[:10]}", _port(kind))
    if kind == "nats":
        c.name = c.name.replace("-", "_").upper()  # stream names: no dots; keep subjects simple
    try:
        yield c
    finally:
        c.cleanup()


def publish_n(url: str, n: int) -> None:
    pub = open_publisher(url)
    try:
        for i in range(n):
            pub.publish(message_body(i, time.time()))
    finally:
        pub.close()


def depth(spec: str) -> float | None:
    src = open_source(spec)
    try:
        return src.sample().depth
    finally:
        src.close()


# -- publishers + sources -------------------------------------------------------------------------


def test_depth_equals_published_minus_consumed(case: Case) -> None:
    publish_n(case.target, 50)
    case.prepare_group()
    src = open_source(case.source)
    try:
        assert src.sample().depth == 50
        assert case.take(20) == 20
        s = src.sample()
        assert s.depth == 30
        if case.kind in ("redis-stream", "nats"):
            assert s.in_flight == 0
            assert s.processed_total == 20
            assert case.take(5, ack=False) == 5  # delivered, not acked: still counted, and in flight
            s = src.sample()
            assert (s.depth, s.in_flight) == (30, 5)
        if case.kind == "rabbitmq":
            assert s.consumers == 0 and s.in_flight is None  # no management API: ready messages only
    finally:
        src.close()


def test_publish_from_many_greenlets_under_gevent(case: Case) -> None:
    """Locust's situation: a monkey-patched process, one publisher, many concurrent greenlets."""
    n = 300
    script = f"""
from gevent import monkey; monkey.patch_all()
import json, time, gevent
from loadtests.publishers import open_publisher, message_body
from capacity.sources import open_source
pub = open_publisher({case.target!r})
ticks = []
def ticker():
    while True:
        ticks.append(time.monotonic()); gevent.sleep(0.005)
tk = gevent.spawn(ticker)
t0 = time.monotonic()
jobs = [gevent.spawn(pub.publish, message_body(i, time.time())) for i in range({n})]
gevent.joinall(jobs)
elapsed = time.monotonic() - t0
errors = [repr(j.exception) for j in jobs if j.exception is not None]
src = open_source({case.plain_source!r})
d = src.sample().depth
src.close(); pub.close(); tk.kill()
gaps = [b - a for a, b in zip(ticks, ticks[1:])]
print(json.dumps({{"errors": errors[:3], "n_errors": len(errors), "depth": d, "elapsed": elapsed,
                  "max_tick_gap": max(gaps) if gaps else None}}))
"""
    proc = subprocess.run([PY, "-c", script], capture_output=True, text=True, timeout=90, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["n_errors"] == 0, out["errors"]
    assert out["depth"] == n  # the source works inside the patched process too
    assert depth(case.plain_source) == n
    # the hub kept running: no greenlet blocked the process while publishers waited on the broker
    assert out["max_tick_gap"] is not None and out["max_tick_gap"] < 0.5, out


# -- the reference consumer -----------------------------------------------------------------------


class Consumer:
    """``python -m capacity.demo.consume`` as a child process; the URL of its /metrics."""

    def __init__(self, from_url: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [PY, "-m", "capacity.demo.consume", from_url, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        m = re.search(r"capplan consumer listening on (http://\S+/metrics)", line)
        if not m:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"consumer did not start: {line!r} {err[-2000:]}")
        self.metrics_url = m.group(1)
        self.port = int(self.metrics_url.rsplit(":", 1)[1].split("/")[0])

    def metric(self, name: str) -> float | None:
        text = urllib.request.urlopen(self.metrics_url, timeout=5).read().decode()
        m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            return -9


def _slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    num = sum((t - mt) * (v - mv) for t, v in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return num / den


def test_reference_consumer_drains_backlog_at_c_over_s(case: Case) -> None:
    workers, service_ms, n = 4, 20.0, 800
    capacity = workers / (service_ms / 1000.0)  # 200 msgs/s
    publish_n(case.target, n)
    consumer = Consumer(
        case.target,
        "--workers", str(workers),
        "--service-time-ms", str(service_ms),
        "--service-dist", "const",
        "--seed", "7",
        "--stop-after", "60",
    )  # fmt: skip
    try:
        points: list[tuple[float, float]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = consumer.metric("capplan_messages_processed_total") or 0.0
            points.append((time.monotonic(), done))
            if done >= n:
                break
            time.sleep(0.1)
        assert points[-1][1] == n, f"processed {points[-1][1]} of {n} within 30 s"
        middle = [p for p in points if 0.1 * n <= p[1] <= 0.9 * n]
        assert len(middle) >= 5
        rate = _slope(middle)
        assert abs(rate - capacity) / capacity < 0.10, f"throughput {rate:.1f}/s vs C/S = {capacity:.0f}/s"
        assert consumer.metric("capplan_delivery_latency_seconds_count") == n
        assert consumer.metric("capplan_workers") == workers
        time.sleep(1.2)  # the depth gauge follows the broker twice a second
        assert consumer.metric("capplan_queue_depth") == 0
        assert depth(case.source) == 0
    finally:
        rc = consumer.stop()
    assert rc == 0, consumer.proc.stderr.read() if consumer.proc.stderr else ""


def test_consumer_rejects_bad_options() -> None:
    proc = subprocess.run(
        [PY, "-m", "capacity.demo.consume", "redis://127.0.0.1:6379/0?list=x", "--service-dist", "weibull"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "weibull" in proc.stderr and "exp" in proc.stderr


# -- credentials ----------------------------------------------------------------------------------

SECRET = "s3cr3t-Pw-42"


@pytest.mark.parametrize(
    "spec",
    [
        f"rabbitmq://capplan:{SECRET}@127.0.0.1:5672/%2F?queue=q",
        f"amqp://capplan:{SECRET}@127.0.0.1:5672/%2F?queue=q",
        f"redis://default:{SECRET}@127.0.0.1:6379/0?list=q",
        f"redis://{SECRET}@127.0.0.1:6379/0?stream=s&group=g",
        f"nats://capplan:{SECRET}@127.0.0.1:4222?stream=S&consumer=C",
        f"nats://{SECRET}@127.0.0.1:4222?stream=S",
    ],
)
def test_source_spec_and_errors_hide_the_password(spec: str) -> None:
    src = open_source(spec)
    try:
        assert SECRET not in src.spec and "***" in src.spec
        try:
            src.sample()  # wrong credentials or missing queue: either way the message is redacted
        except SourceError as exc:
            assert SECRET not in str(exc)
    finally:
        src.close()


def test_publisher_name_hides_the_password() -> None:
    name = f"capplan-t-{uuid.uuid4().hex[:10]}"
    r = redis.Redis(port=REDIS_PORT)
    # Redis' default user has nopass: any password works with a user name, so this one connects
    pub = open_publisher(f"redis://default:{SECRET}@127.0.0.1:6379/0?list={name}")
    try:
        assert SECRET not in pub.name and pub.name.startswith("redis://default:***@")
        pub.publish(b"{}")
    finally:
        pub.close()
        r.delete(name)
    amqp = open_publisher(f"amqp://guest:guest@127.0.0.1:5672/%2F?queue={name}")
    try:
        assert amqp.name == f"amqp://guest:***@127.0.0.1:5672/%2F?queue={name}"
    finally:
        amqp.close()
        conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", AMQP_PORT))
        conn.channel().queue_delete(name)
        conn.close()
    nats_pub = open_publisher(f"nats://capplan:{SECRET}@127.0.0.1:4222?subject={name}.x")
    try:
        assert SECRET not in nats_pub.name and "***" in nats_pub.name
    finally:
        nats_pub.close()
    for url in (
        f"amqp://guest:{SECRET}@127.0.0.1:5672/%2F?queue={name}",  # wrong password: refused
        f"redis://{SECRET}@127.0.0.1:6379/0?list={name}",  # AUTH without a configured password
    ):
        with pytest.raises(TargetError) as info:
            open_publisher(url)
        assert SECRET not in str(info.value)


# -- connection cut mid-run: a loopback proxy the test owns ----------------------------------------


class TcpProxy:
    """Forward 127.0.0.1:<port> to a broker; ``cut()`` drops every connection and stops listening."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.start()

    def start(self) -> None:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(16)
        self.port = ls.getsockname()[1]
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        if self._listener is not None:
            try:  # wakes the accept() thread; a bare close() would leave the port listening
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.cut()


@pytest.mark.parametrize("kind", ["rabbitmq", "redis-stream", "nats"])
def test_source_reports_a_cut_connection_and_reconnects(kind: str) -> None:
    c = Case(kind, f"capplan-t-{uuid.uuid4().hex[:10]}", _port(kind))
    if kind == "nats":
        c.name = c.name.replace("-", "_").upper()
    proxy = TcpProxy(_port(kind))
    try:
        publish_n(c.target, 7)
        c.prepare_group()
        src = open_source(c.source_at(proxy.port))
        try:
            assert src.sample().depth == 7
            proxy.cut()
            for _ in range(2):  # every sample while cut is a gap with a reason, never a crash or a 0
                t0 = time.monotonic()
                with pytest.raises(SourceError) as info:
                    src.sample()
                assert time.monotonic() - t0 < 5
                assert re.search(r"refused|reset|closed|lost|timed out|timeout|EOF|broken", str(info.value), re.I), str(
                    info.value
                )
            proxy.start()  # same port
            assert src.sample().depth == 7
            publish_n(c.target, 3)
            assert src.sample().depth == 10
        finally:
            src.close()
    finally:
        proxy.close()
        c.cleanup()


# -- the asyncio bridge on its own ----------------------------------------------------------------


def test_async_loop_thread_does_not_block_the_gevent_hub() -> None:
    script = """
from gevent import monkey; monkey.patch_all()
import asyncio, json, time, gevent
from capacity.aiothread import AsyncLoopThread, gevent_patched
loop = AsyncLoopThread()
ticks = []
def ticker():
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        ticks.append(1); gevent.sleep(0.01)
tk = gevent.spawn(ticker)
t0 = time.monotonic()
waits = [gevent.spawn(loop.run, lambda: asyncio.sleep(0.4, result=7), 5) for _ in range(50)]
gevent.joinall(waits + [tk])
timed_out = False
try:
    loop.run(lambda: asyncio.sleep(5), 0.2)
except TimeoutError:
    timed_out = True
loop.close()
print(json.dumps({"patched": gevent_patched(), "values": sorted({w.value for w in waits}),
                  "elapsed": time.monotonic() - t0, "ticks": len(ticks), "timed_out": timed_out}))
"""
    proc = subprocess.run([PY, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["patched"] is True and out["values"] == [7] and out["timed_out"] is True
    assert out["elapsed"] < 1.5  # 50 concurrent 0.4 s waits overlapped
    assert out["ticks"] >= 25  # the ticker kept running (~50 ticks in 0.5 s) while greenlets waited
