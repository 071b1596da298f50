"""The open-model arrival-rate driver.

It sends on a schedule drawn from the shape, whatever the endpoint does: each send runs in its own
greenlet (bounded by ``max_in_flight``), latency is measured from the *scheduled* send time (no
coordinated omission), and a send that leaves more than ``late_threshold_s`` after its schedule is
counted as late. Poisson arrivals use thinning against the shape's peak rate, so a time-varying
rate is an exact non-homogeneous Poisson process; ``uniform`` spaces sends evenly at the current rate.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent.pool import Pool

from capacity.intervals import IntervalStats
from loadtests.publishers.base import Publisher, message_body

FireEvent = Callable[..., Any]


class ArrivalDriver:
    def __init__(
        self,
        rate_at: Callable[[float], float],
        peak_rate: float,
        duration_s: float,
        publisher: Publisher,
        stats: IntervalStats,
        fire: FireEvent,
        share: float = 1.0,
        arrivals: str = "poisson",
        seed: int | None = None,
        max_in_flight: int = 1000,
        late_threshold_s: float = 0.02,
        message_size: int = 0,
    ) -> None:
        self.rate_at = rate_at
        self.peak = peak_rate * share
        self.share = share
        self.duration_s = duration_s
        self.publisher = publisher
        self.stats = stats
        self.fire = fire
        self.arrivals = arrivals
        self.rng = random.Random(seed)
        self.pool = Pool(max_in_flight)
        self.late_threshold_s = late_threshold_s
        self.message_size = message_size
        self.seq = 0
        self._stopped = False

    def schedule(self, start: float = 0.0):  # type: ignore[no-untyped-def]
        """Yield scheduled send times (seconds since t0) for this driver's share of the shape."""
        t = start
        while True:
            if self.arrivals == "poisson":
                if self.peak <= 0:
                    return
                t += self.rng.expovariate(self.peak)
                if t >= self.duration_s:
                    return
                if self.rng.random() * self.peak <= self.rate_at(t) * self.share:
                    yield t
            else:
                r = self.rate_at(t) * self.share
                if r <= 0:
                    t += 0.01
                    if t >= self.duration_s:
                        return
                    continue
                t += 1.0 / r
                if t >= self.duration_s:
                    return
                yield t

    def run(self, t0: float) -> None:
        """Send until the shape ends (or :meth:`stop`); ``t0`` is the shared epoch start of the run."""
        start = max(0.0, time.time() - t0)
        for t in self.schedule(start):
            if self._stopped:
                break
            scheduled = t0 + t
            delay = scheduled - time.time()
            if delay > 0:
                gevent.sleep(delay)
            if self._stopped:
                break
            self.pool.spawn(self._send, self.seq, scheduled)  # blocks while max_in_flight are out
            self.seq += 1
        self.pool.join(timeout=30)

    def stop(self) -> None:
        self._stopped = True

    def _send(self, seq: int, scheduled: float) -> None:
        started = time.time()
        self.stats.on_send(started, started - scheduled > self.late_threshold_s)
        exc: Exception | None = None
        length = 0
        try:
            length = self.publisher.publish(message_body(seq, scheduled, self.message_size))
        except Exception as e:  # every failure is a failed request in Locust's stats, never a crash
            exc = e
        done = time.time()
        latency_ms = (done - scheduled) * 1000.0
        self.stats.on_done(done, latency_ms, exc is None)
        self.fire(
            request_type=self.publisher.request_type,
            name=self.publisher.name,
            response_time=latency_ms,
            response_length=length,
            exception=exc,
            context={},
        )
