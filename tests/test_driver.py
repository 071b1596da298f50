"""The arrival schedule: Poisson thinning gives the shape's rate; uniform spacing is exact."""

from __future__ import annotations

import statistics

import pytest

from capacity.intervals import IntervalStats
from capacity.shapes import surge
from loadtests.driver import ArrivalDriver


class NullPublisher:
    request_type = "X"
    name = "x"

    def publish(self, body: bytes) -> int:
        return 0

    def close(self) -> None:
        pass


def driver(shape, arrivals: str, share: float = 1.0, seed: int = 7) -> ArrivalDriver:
    return ArrivalDriver(shape.rate_at, shape.peak_rate, shape.duration_s, NullPublisher(), IntervalStats(0, 1),
                         lambda **_: None, share=share, arrivals=arrivals, seed=seed)


def test_poisson_schedule_follows_the_shape() -> None:
    shape = surge(baseline_rate=200, surge_multiplier=3, baseline_duration=50, ramp=0.001, surge_duration=50,
                  recovery_duration=0)
    times = list(driver(shape, "poisson").schedule())
    base = [t for t in times if t < 50]
    surge_ = [t for t in times if 50.01 < t < 100]
    assert len(base) / 50 == pytest.approx(200, rel=0.03)
    assert len(surge_) / 49.99 == pytest.approx(600, rel=0.03)
    gaps = [b - a for a, b in zip(base, base[1:], strict=False)]
    cv = statistics.pstdev(gaps) / statistics.mean(gaps)
    assert cv == pytest.approx(1.0, abs=0.05)  # exponential inter-arrival times


def test_uniform_schedule_is_evenly_spaced_and_shares_split() -> None:
    shape = surge(baseline_rate=100, baseline_duration=10, ramp=0, surge_duration=0.001, recovery_duration=0)
    times = list(driver(shape, "uniform", share=0.5).schedule())
    assert len(times) == pytest.approx(500, abs=2)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) == pytest.approx(min(gaps)) == pytest.approx(0.02)


def test_same_seed_same_schedule() -> None:
    shape = surge(baseline_rate=50, baseline_duration=5, surge_duration=1, recovery_duration=0, ramp=0)
    assert list(driver(shape, "poisson", seed=3).schedule()) == list(driver(shape, "poisson", seed=3).schedule())
