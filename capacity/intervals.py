"""Per-interval load statistics: counts and an HDR latency histogram per sampling interval.

Every load-generator process keeps an :class:`IntervalStats`; workers ship deltas to the master
(``export``/``merge``), which merges them into its own. Intervals are keyed by
``k = floor((epoch - t0) / interval)`` so processes agree without talking about clocks beyond t0.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

# latency recorded in microseconds, 1 us .. 10 min, 2 significant digits (1% resolution)
_LOWEST, _HIGHEST, _DIGITS = 1, 600_000_000, 2


def new_histogram() -> HdrHistogram:
    return HdrHistogram(_LOWEST, _HIGHEST, _DIGITS)


@dataclass
class Bucket:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    late: int = 0
    latency_sum_ms: float = 0.0
    hist: HdrHistogram = field(default_factory=new_histogram)

    def percentile_ms(self, q: float) -> float | None:
        if self.hist.get_total_count() == 0:
            return None
        return float(self.hist.get_value_at_percentile(q)) / 1000.0

    def add(self, other: Bucket) -> None:
        self.sent += other.sent
        self.ok += other.ok
        self.errors += other.errors
        self.late += other.late
        self.latency_sum_ms += other.latency_sum_ms
        if other.hist.get_total_count():
            self.hist.add(other.hist)


class IntervalStats:
    """Thread- and greenlet-safe accumulator of per-interval counts."""

    def __init__(self, t0: float, interval_s: float) -> None:
        self.t0 = t0
        self.interval_s = interval_s
        self._buckets: dict[int, Bucket] = {}
        self._lock = threading.Lock()
        self.in_flight = 0

    def key(self, epoch_s: float) -> int:
        return max(0, math.floor((epoch_s - self.t0) / self.interval_s))

    def _bucket(self, k: int) -> Bucket:
        b = self._buckets.get(k)
        if b is None:
            b = self._buckets[k] = Bucket()
        return b

    def on_send(self, epoch_s: float, late: bool) -> None:
        with self._lock:
            b = self._bucket(self.key(epoch_s))
            b.sent += 1
            b.late += int(late)
            self.in_flight += 1

    def on_done(self, epoch_s: float, latency_ms: float, ok: bool) -> None:
        with self._lock:
            b = self._bucket(self.key(epoch_s))
            if ok:
                b.ok += 1
            else:
                b.errors += 1
            b.latency_sum_ms += latency_ms
            b.hist.record_value(min(_HIGHEST, max(_LOWEST, int(latency_ms * 1000.0))))
            self.in_flight -= 1

    def pop_until(self, k_last: int) -> dict[int, Bucket]:
        """Remove and return every bucket with key <= ``k_last``."""
        with self._lock:
            done = {k: b for k, b in self._buckets.items() if k <= k_last}
            for k in done:
                del self._buckets[k]
            return done

    def export(self) -> dict[str, Any]:
        """Take everything recorded so far as a JSON-able delta (worker -> master)."""
        with self._lock:
            buckets, self._buckets = self._buckets, {}
            in_flight = self.in_flight
        return {
            "in_flight": in_flight,
            "buckets": {
                str(k): [b.sent, b.ok, b.errors, b.late, b.latency_sum_ms,
                         b.hist.encode().decode() if b.hist.get_total_count() else ""]
                for k, b in buckets.items()
            },
        }

    def merge(self, delta: dict[str, Any]) -> None:
        """Add a delta from :meth:`export` into this accumulator."""
        with self._lock:
            for k, (sent, ok, errors, late, lat_sum, hist) in delta.get("buckets", {}).items():
                b = self._bucket(int(k))
                b.sent += sent
                b.ok += ok
                b.errors += errors
                b.late += late
                b.latency_sum_ms += lat_sum
                if hist:
                    b.hist.decode_and_add(hist)
