"""The sampling loop with a scripted source and a manual clock (no sleeping)."""

from __future__ import annotations

import pytest

from capacity.errors import SourceError
from capacity.intervals import IntervalStats
from capacity.runs import RunWriter, read_run
from capacity.sampler import Sampler, histogram_quantile
from capacity.shapes import surge
from capacity.sources.base import QueueSample


class ScriptedSource:
    """A real Source implementation whose readings are given in advance (None = the read fails)."""

    spec = "scripted://"

    def __init__(self, readings: list[QueueSample | None]) -> None:
        self.readings = list(readings)

    def sample(self) -> QueueSample:
        r = self.readings.pop(0)
        if r is None:
            raise SourceError("connection refused")
        return r

    def close(self) -> None:
        pass


def test_histogram_quantile_interpolates() -> None:
    cum = {0.1: 50.0, 0.2: 100.0, float("inf"): 100.0}
    assert histogram_quantile(0.5, cum) == pytest.approx(0.1)
    assert histogram_quantile(0.75, cum) == pytest.approx(0.15)
    assert histogram_quantile(0.5, {0.1: 0.0}) is None


def test_rows_rates_gaps_and_no_fake_zeros(tmp_path) -> None:
    t0 = 1000.0
    stats = IntervalStats(t0, 1.0)
    for i in range(10):  # 10 sends in interval 0, 20 in interval 1
        stats.on_send(t0 + 0.05 * i, late=i == 0)
        stats.on_done(t0 + 0.05 * i + 0.01, 10.0, ok=True)
    for i in range(20):
        stats.on_send(t0 + 1 + 0.04 * i, late=False)
        stats.on_done(t0 + 1 + 0.04 * i, 20.0, ok=i % 10 != 0)
    src = ScriptedSource([
        QueueSample(depth=3, processed_total=100, latency_buckets={0.1: 10, float("inf"): 10}),
        None,
        QueueSample(depth=7, processed_total=130, latency_buckets={0.1: 20, float("inf"): 30}),
    ])
    w = RunWriter(tmp_path / "r", {"interval_s": 1.0})
    s = Sampler(w, [src], stats, surge(baseline_rate=10, baseline_duration=5))
    s.sample_interval(0, t0 + 1.0)
    s.flush(0)
    s.sample_interval(1, t0 + 2.0)
    s.flush(1)
    s.sample_interval(2, t0 + 3.0)
    s.finish(t0 + 3.0)
    w.close("completed", t0 + 3)
    run = read_run(tmp_path / "r")
    ts = run.timeseries
    assert list(ts["sent_rate"]) == pytest.approx([10, 20, 0])
    assert list(ts["error_rate"]) == pytest.approx([0, 2, 0])
    assert ts.loc[0, "late_sends"] == 1
    assert ts.loc[0, "req_p50_ms"] == pytest.approx(10, rel=0.02)
    assert ts.loc[0, "queue_depth"] == 3
    assert ts["processed_rate"].isna().all()  # the gap broke the counter pair; never a fake rate
    assert ts.loc[1, "queue_depth"] != ts.loc[1, "queue_depth"]  # NaN: the failed read is not 0
    assert ts.loc[2, "queue_depth"] == 7
    assert len(run.gaps) == 1 and "connection refused" in run.gaps.loc[0, "reason"]
    assert ts.loc[0, "in_flight"] == pytest.approx(10 * 10 / 1000)  # Little: 10 sends x 10 ms in 1 s


def test_processed_rate_and_e2e_from_counter_deltas(tmp_path) -> None:
    t0 = 0.0
    stats = IntervalStats(t0, 1.0)
    src = ScriptedSource([
        QueueSample(depth=0, processed_total=0, latency_buckets={0.1: 0, 0.2: 0, float("inf"): 0}),
        QueueSample(depth=0, processed_total=50, latency_buckets={0.1: 25, 0.2: 50, float("inf"): 50}),
    ])
    w = RunWriter(tmp_path / "r", {})
    s = Sampler(w, [src], stats, surge())
    s.sample_interval(0, 1.0)
    s.sample_interval(1, 2.0)
    s.finish(2.0)
    ts = read_run(tmp_path / "r").timeseries
    assert ts.loc[1, "processed_rate"] == pytest.approx(50, rel=1e-3)  # the read time adds real microseconds
    assert ts.loc[1, "e2e_p50_ms"] == pytest.approx(100)
    assert ts.loc[1, "e2e_p99_ms"] == pytest.approx(198)


def test_distributed_lag_waits_for_worker_reports(tmp_path) -> None:
    t0 = 0.0
    master = IntervalStats(t0, 1.0)
    worker = IntervalStats(t0, 1.0)
    w = RunWriter(tmp_path / "r", {})
    s = Sampler(w, [], master, surge(), lag_intervals=2)
    s.sample_interval(0, 1.0)
    s.flush(0 - 2)
    assert w.rows == 0
    for i in range(5):
        worker.on_send(0.1 * i, False)
        worker.on_done(0.1 * i, 1.0, True)
    master.merge(worker.export())  # the report arrives late
    s.sample_interval(1, 2.0)
    s.sample_interval(2, 3.0)
    s.flush(0)
    assert w.rows == 1
    s.finish(3.0)
    ts = read_run(tmp_path / "r").timeseries
    assert ts.loc[0, "sent_rate"] == pytest.approx(5)
