"""The fixed-interval sampling loop: queue sources + load statistics -> one run-folder row per interval.

At the end of interval k the sampler reads every source (a failure is a recorded gap with its
reason, never a crash and never a fake zero) and parks the reading; once the load statistics for
interval k are complete (at once in one process, a few worker reports later in distributed mode)
it writes the row. Time comes from an injectable clock so the logic is testable without sleeping.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from capacity.intervals import Bucket, IntervalStats
from capacity.runs import RunWriter, utc_iso
from capacity.shapes import Shape
from capacity.sources.base import QueueSample, Source

log = logging.getLogger("capplan.sampler")


def histogram_quantile(q: float, cumulative: Mapping[float, float]) -> float | None:
    """Quantile from a cumulative histogram {upper_bound: count}, linear within a bucket (as PromQL)."""
    if not cumulative:
        return None
    les = sorted(cumulative)
    total = cumulative[les[-1]]
    if total <= 0:
        return None
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le in les:
        c = cumulative[le]
        if c >= rank:
            if math.isinf(le):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return prev_le


@dataclass
class _Reading:
    epoch: float
    sample: QueueSample | None


class Sampler:
    def __init__(
        self,
        writer: RunWriter,
        sources: Sequence[Source],
        stats: IntervalStats,
        shape: Shape,
        lag_intervals: int = 0,
        clock: Callable[[], float] = time.time,
        on_row: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.writer = writer
        self.sources = list(sources)
        self.stats = stats
        self.shape = shape
        self.t0 = stats.t0
        self.interval_s = stats.interval_s
        self.lag = lag_intervals
        self.clock = clock
        self.on_row = on_row
        self._pending: dict[int, dict[str, Any]] = {}
        self._prev: list[_Reading | None] = [None] * len(self.sources)
        self._next_k = 0  # next interval to sample
        self._written_k = -1
        self._stopped = False
        self.last_row: dict[str, Any] | None = None
        self.recent_rows: list[dict[str, Any]] = []  # the last few rows written (for end-of-run checks)

    # -- one boundary -------------------------------------------------------------------------
    def _read_sources(self, now: float) -> list[tuple[QueueSample | None, float]]:
        """Each source's reading and the time it was taken (the middle of its request), so a slow
        scrape does not turn into a wrong rate."""
        out: list[tuple[QueueSample | None, float]] = []
        start = self.clock()
        for src in self.sources:
            before = self.clock()
            try:
                sample: QueueSample | None = src.sample()
            except Exception as e:  # a failed sample is a gap, whatever the client library raised
                reason = f"{type(e).__name__}: {e}"
                log.warning("sample from %s failed: %s", src.spec, reason)
                self.writer.gap(round(now - self.t0, 3), now, src.spec, reason)
                sample = None
            after = self.clock()
            out.append((sample, now + max(0.0, (before + after) / 2 - start)))
        return out

    def sample_interval(self, k: int, now: float) -> None:
        """Read the sources at the end of interval k (or at a stop inside it)."""
        samples = self._read_sources(now)
        row: dict[str, Any] = {"queue_depth": None, "processed_rate": None, "e2e_p50_ms": None,
                               "e2e_p95_ms": None, "e2e_p99_ms": None}
        for i, (s, read_at) in enumerate(samples):
            prev = self._prev[i]
            self._prev[i] = _Reading(read_at, s)
            if s is None:
                continue
            if row["queue_depth"] is None and s.depth is not None:
                row["queue_depth"] = s.depth
            if prev is not None and prev.sample is not None and read_at > prev.epoch:
                dt = read_at - prev.epoch
                p, c = prev.sample.processed_total, s.processed_total
                if row["processed_rate"] is None and p is not None and c is not None and c >= p:
                    row["processed_rate"] = (c - p) / dt
                pb, cb = prev.sample.latency_buckets, s.latency_buckets
                if row["e2e_p50_ms"] is None and pb is not None and cb is not None:
                    delta = {le: cb[le] - pb.get(le, 0.0) for le in cb}
                    for q, col in ((0.50, "e2e_p50_ms"), (0.95, "e2e_p95_ms"), (0.99, "e2e_p99_ms")):
                        v = histogram_quantile(q, delta)
                        row[col] = None if v is None else v * 1000.0
        row["_epoch"] = now
        self._pending[k] = row

    def _complete(self, k: int, row: dict[str, Any], bucket: Bucket | None) -> dict[str, Any]:
        start = self.t0 + k * self.interval_s
        dt = max(1e-9, row["_epoch"] - start)
        t_rel0, t_rel1 = k * self.interval_s, row["_epoch"] - self.t0
        b = bucket or Bucket()
        out = {
            "t": round(t_rel1, 3),
            "time": utc_iso(row["_epoch"]),
            "phase": self.shape.phase_at((t_rel0 + t_rel1) / 2),
            "target_rate": self.shape.mean_rate(t_rel0, t_rel1),
            "sent_rate": b.sent / dt,
            "ok_rate": b.ok / dt,
            "error_rate": b.errors / dt,
            "late_sends": b.late,
            "req_p50_ms": b.percentile_ms(50),
            "req_p95_ms": b.percentile_ms(95),
            "req_p99_ms": b.percentile_ms(99),
            "in_flight": b.latency_sum_ms / 1000.0 / dt,  # Little: mean outstanding sends
        }
        out.update({k2: v for k2, v in row.items() if not k2.startswith("_")})
        return out

    def flush(self, upto_k: int) -> int:
        """Write every parked interval with key <= upto_k, in order. Returns rows written."""
        ready = sorted(k for k in self._pending if k <= upto_k)
        if not ready:
            return 0
        buckets = self.stats.pop_until(ready[-1])
        for k in ready:
            row = self._complete(k, self._pending.pop(k), buckets.get(k))
            self.writer.append(row)
            self._written_k = k
            self.last_row = row
            self.recent_rows = [*self.recent_rows[-9:], row]
            if self.on_row is not None:
                try:
                    self.on_row(row)
                except Exception:  # a display callback must never stop the measurement
                    log.exception("on_row callback failed")
        return len(ready)

    # -- the loop ----------------------------------------------------------------------------
    def boundary(self, k: int) -> float:
        return self.t0 + (k + 1) * self.interval_s

    def run(self, sleep: Callable[[float], None] = time.sleep, until_s: float | None = None) -> None:
        """Sample at every interval boundary until :meth:`stop` (or ``until_s`` after t0)."""
        while not self._stopped:
            k = self._next_k
            wait = self.boundary(k) - self.clock()
            if wait > 0:
                sleep(min(wait, 0.25))
                continue
            if self._stopped:
                break
            self.sample_interval(k, self.clock())
            self._next_k = k + 1
            self.flush(k - self.lag)
            if until_s is not None and self.boundary(k) - self.t0 >= until_s:
                break

    def stop(self) -> None:
        self._stopped = True

    def finish(self, now: float | None = None, min_fraction: float = 0.2) -> None:
        """At the end of a run: sample the partial last interval if it is long enough, write everything."""
        self._stopped = True
        now = self.clock() if now is None else now
        k = self._next_k
        start = self.t0 + k * self.interval_s
        if now - start >= min_fraction * self.interval_s and now < self.boundary(k) + self.interval_s:
            self.sample_interval(k, now)
            self._next_k = k + 1
        self.flush(10**9)
        for s in self.sources:
            try:
                s.close()
            except Exception:
                log.debug("closing %s failed", s.spec, exc_info=True)
