"""Planning: closed forms, agreement with M/M/c sizing, and properties (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity import plan
from capacity.errors import ConfigError
from capacity.models import erlang


def model(c: int = 4, mu: float = 25.0, slo_ms: float = 300.0, limit: float | None = 5000) -> plan.CapacityModel:
    return plan.CapacityModel(c, mu, 1.0, 1.0, slo_ms / 1000, limit)


def test_slo_capacity_meets_the_slo_exactly() -> None:
    m = model()
    lam = plan.slo_capacity(m)
    assert erlang.response_percentile(lam, 25.0, 4, 0.99) == pytest.approx(0.3, rel=1e-4)
    assert lam < m.capacity


def test_consumers_needed_matches_erlang_sizing_for_markovian_queues() -> None:
    for rate in (20, 75, 150, 400):
        m = model()
        assert plan.consumers_needed(m, rate) == erlang.min_servers(rate, 25.0, 0.3, 0.99)


def test_surge_rows_closed_form() -> None:
    rows = plan.surge_rows(model(), baseline_rate=50, duration_s=20)
    r3 = next(r for r in rows if r.multiplier == 3)
    assert r3.growth_rate == pytest.approx(50)  # 150 - 100
    assert r3.peak_backlog == pytest.approx(1000)
    assert r3.time_to_exhaust_s == pytest.approx(100)
    assert r3.drain_time_s == pytest.approx(1000 / 50)
    r10 = next(r for r in rows if r.multiplier == 10)
    assert r10.exhausted and r10.rejected == pytest.approx(400 * 20 - 5000)
    assert plan.largest_absorbed(rows)["multiplier"] == 5


def test_unreachable_slo_is_none_not_a_guess() -> None:
    m = model(slo_ms=100)  # exp(25/s) service alone has p99 184 ms
    assert plan.consumers_needed(m, 10) is None
    assert plan.slo_capacity(m) == 0.0


def test_bad_model_parameters() -> None:
    with pytest.raises(ConfigError, match="servers"):
        plan.CapacityModel(0, 1.0)
    with pytest.raises(ConfigError, match="baseline rate"):
        plan.surge_rows(model(), 0, 10)


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 30), mu=st.floats(1, 200), slo=st.floats(0.2, 5))
def test_slo_capacity_grows_with_consumers_and_stays_below_capacity(c: int, mu: float, slo: float) -> None:
    m = plan.CapacityModel(c, mu, 1.0, 1.0, slo)
    a, b = plan.slo_capacity(m), plan.slo_capacity(m.with_servers(c + 1))
    assert 0 <= a < m.capacity
    assert b >= a


@settings(max_examples=40, deadline=None)
@given(r1=st.floats(1, 500), r2=st.floats(1, 500))
def test_consumers_needed_is_monotone_in_rate(r1: float, r2: float) -> None:
    m = model(slo_ms=400)
    lo, hi = sorted((r1, r2))
    assert plan.consumers_needed(m, lo) <= plan.consumers_needed(m, hi)


@settings(max_examples=40, deadline=None)
@given(m1=st.floats(1.01, 20), m2=st.floats(1.01, 20), base=st.floats(5, 90))
def test_bigger_surges_grow_faster_and_drain_longer(m1: float, m2: float, base: float) -> None:
    lo, hi = sorted((m1, m2))
    a, b = plan.surge_rows(model(limit=None), base, 30, [lo, hi])
    assert a.growth_rate <= b.growth_rate and a.peak_backlog <= b.peak_backlog
    assert (a.drain_time_s or 0) <= (b.drain_time_s or 0)


def test_loose_slo_approaches_capacity() -> None:
    m = model(slo_ms=60_000)
    assert plan.slo_capacity(m) == pytest.approx(m.capacity, rel=0.01)
    assert math.isinf(plan.p99_response_s(m, m.capacity))
