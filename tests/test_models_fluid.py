"""Fluid overload model: exact trajectories, surges, exhaustion, drain, PSA hand-over."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.errors import ConfigError
from capacity.models.fluid import (
    FluidPath,
    SurgeOutcome,
    backlog_trajectory,
    consumers_to_drain,
    max_surge_duration,
    psa_response_percentile,
    surge_outcome,
    time_to_exhaust,
)
from capacity.models.ggc import ggc_response_percentile

PROPS = settings(derandomize=True, database=None, deadline=None, max_examples=100)


def step_profile(
    base: float, surge: float, start: float, end: float, horizon: float
) -> tuple[list[float], list[float]]:
    """A rectangular surge as a piecewise-linear profile with (near-)vertical edges."""
    eps = 1e-9
    t = [0.0, start, start + eps, end, end + eps, horizon]
    lam = [base, base, surge, surge, base, base]
    return t, lam


# --------------------------------------------------------------------------- trajectories


def test_constant_overload_grows_linearly() -> None:
    t = np.linspace(0.0, 100.0, 11)
    path = backlog_trajectory(t, np.full(11, 30.0), capacity=20.0, q0=5.0)
    assert isinstance(path, FluidPath)
    np.testing.assert_allclose(path.backlog, 5.0 + 10.0 * t, rtol=1e-14)
    np.testing.assert_array_equal(path.departures_rate, 20.0)
    assert path.rejected_total == 0.0
    assert path.peak_backlog == pytest.approx(1005.0)


def test_ramp_is_integrated_exactly_on_a_two_point_grid() -> None:
    # lam rises linearly 0 -> 2*cap over [0, T]: overloaded only after T/2, Q(T) = cap*T/4.
    cap, horizon = 10.0, 60.0
    path = backlog_trajectory([0.0, horizon], [0.0, 2 * cap], capacity=cap)
    assert path.backlog[-1] == pytest.approx(cap * horizon / 4, rel=1e-14)
    # falling back down: the backlog drains by the mirror image and ends at exactly 0
    # and back down: +cap*T/4 more until lam crosses cap at 1.5 T (the peak, between grid
    # points), then -cap*T/4 until 2 T
    path2 = backlog_trajectory([0.0, horizon, 2 * horizon], [0.0, 2 * cap, 0.0], capacity=cap)
    np.testing.assert_allclose(path2.backlog, [0.0, cap * horizon / 4, cap * horizon / 4], rtol=1e-14)
    assert path2.peak_backlog == pytest.approx(cap * horizon / 2, rel=1e-14)


def test_grid_independence_for_piecewise_linear_rates() -> None:
    """Refining the grid of the same piecewise-linear rate changes nothing (no Euler error)."""
    coarse_t = np.array([0.0, 50.0, 80.0, 200.0, 260.0, 400.0])
    coarse_lam = np.array([5.0, 25.0, 40.0, 12.0, 0.0, 18.0])
    fine_t = np.linspace(0.0, 400.0, 40_001)
    fine_lam = np.interp(fine_t, coarse_t, coarse_lam)
    for limit in (None, 900.0):
        coarse = backlog_trajectory(coarse_t, coarse_lam, capacity=20.0, limit=limit)
        fine = backlog_trajectory(fine_t, fine_lam, capacity=20.0, limit=limit)
        np.testing.assert_allclose(np.interp(coarse_t, fine_t, fine.backlog), coarse.backlog, atol=1e-6)
        assert fine.rejected_total == pytest.approx(coarse.rejected_total, abs=1e-6)
    assert coarse.rejected_total > 0  # the limit really was hit


def test_sinusoidal_load_against_fine_euler_reference() -> None:
    t = np.linspace(0.0, 600.0, 601)
    lam = 20.0 + 8.0 * np.sin(2 * np.pi * t / 300.0)
    path = backlog_trajectory(t, lam, capacity=22.0, limit=400.0)
    # independent reference: forward Euler with a tiny step on the interpolated rate
    dt = 1e-3
    ts = np.arange(0.0, 600.0, dt)
    rates = np.interp(ts, t, lam) - 22.0
    q, lost, qs = 0.0, 0.0, np.empty_like(ts)
    for i, r in enumerate(rates):
        qs[i] = q
        q += r * dt
        if q > 400.0:
            lost += q - 400.0
            q = 400.0
        q = max(q, 0.0)
    ref = np.interp(t[:-1], ts, qs)
    np.testing.assert_allclose(path.backlog[:-1], ref, atol=0.05)
    assert path.rejected_total == pytest.approx(lost, abs=0.05)
    assert path.peak_backlog == pytest.approx(400.0)


def test_limit_rejects_the_excess_and_conserves_messages() -> None:
    t, lam = step_profile(10.0, 50.0, 10.0, 110.0, 300.0)
    path = backlog_trajectory(t, lam, capacity=20.0, limit=1000.0)
    arrived = np.trapezoid(path.arrival_rate, path.t)
    # surge: +30/s for 100 s = 3000 offered to the queue, 1000 fit, 2000 rejected
    assert path.rejected_total == pytest.approx(2000.0, rel=1e-6)
    assert path.backlog[3] == pytest.approx(1000.0)
    # afterwards drains at 10/s: 100 s later it is empty
    assert path.backlog[-1] == 0.0
    # conservation: arrivals = departures + rejected + final backlog; departures are
    # lam before the surge, cap from the surge start until the drain ends (at t = 210), lam after
    served = 10.0 * 10.0 + 20.0 * (210.0 - 10.0) + 10.0 * (300.0 - 210.0)
    assert arrived == pytest.approx(served + path.rejected_total + path.backlog[-1], rel=1e-6)


def test_departures_rate_and_read_only_arrays() -> None:
    path = backlog_trajectory([0.0, 10.0, 20.0], [5.0, 30.0, 5.0], capacity=10.0)
    assert path.departures_rate[0] == 5.0  # idle capacity: departures follow arrivals
    assert path.departures_rate[1] == 10.0  # backlog: departures at capacity
    assert path.capacity == 10.0 and path.limit is None
    with pytest.raises(ValueError):
        path.backlog[0] = 1.0
    with pytest.raises(AttributeError):
        path.capacity = 3.0  # type: ignore[misc]


@PROPS
@given(
    rates=st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=2, max_size=12),
    cap=st.floats(min_value=1.0, max_value=80.0),
    limit=st.one_of(st.none(), st.floats(min_value=1.0, max_value=5000.0)),
)
def test_trajectory_invariants(rates: list[float], cap: float, limit: float | None) -> None:
    t = np.arange(len(rates), dtype=float) * 37.0
    path = backlog_trajectory(t, rates, capacity=cap, limit=limit)
    assert np.all(path.backlog >= 0.0)
    if limit is not None:
        assert np.all(path.backlog <= limit + 1e-9)
    assert np.all(np.diff(path.rejected_cumulative) >= 0.0)
    # the backlog never exceeds the accumulated excess of arrivals over capacity
    excess = [0.0]
    for r0, r1 in zip(np.array(rates[:-1]) - cap, np.array(rates[1:]) - cap, strict=True):
        if r0 >= 0 and r1 >= 0:
            part = (r0 + r1) / 2 * 37.0
        elif r0 <= 0 and r1 <= 0:
            part = 0.0
        else:  # the positive triangle of a sign-changing linear rate
            part = 37.0 * max(r0, r1) ** 2 / (2 * (abs(r0) + abs(r1)))
        excess.append(excess[-1] + part)
    assert np.all(path.backlog <= np.array(excess) * (1 + 1e-9) + 1e-9)
    assert path.peak_backlog >= path.backlog.max()
    assert path.peak_backlog <= excess[-1] * (1 + 1e-9) + 1e-9


# --------------------------------------------------------------------------- surges


def test_surge_outcome_closed_form() -> None:
    out = surge_outcome(baseline_rate=15.0, multiplier=2.0, surge_duration_s=200.0, capacity=20.0)
    assert isinstance(out, SurgeOutcome)
    assert out.surge_rate == 30.0
    assert out.growth_rate == 10.0
    assert out.peak_backlog == 2000.0
    assert math.isinf(out.time_to_exhaust_s) and not out.exhausted and out.rejected == 0.0
    assert out.drain_time_s == pytest.approx(2000.0 / 5.0)


def test_surge_outcome_with_limit() -> None:
    out = surge_outcome(15.0, 2.0, 200.0, 20.0, queue_limit=1500.0, q0=100.0)
    assert out.time_to_exhaust_s == pytest.approx(140.0)
    assert out.exhausted
    assert out.peak_backlog == 1500.0
    assert out.rejected == pytest.approx(100.0 + 2000.0 - 1500.0)
    assert out.drain_time_s == pytest.approx(1500.0 / 5.0)
    not_yet = surge_outcome(15.0, 2.0, 139.0, 20.0, queue_limit=1500.0, q0=100.0)
    assert not not_yet.exhausted and not_yet.rejected == 0.0


def test_surge_outcome_agrees_with_trajectory() -> None:
    base, mult, dur, cap, limit = 12.0, 2.5, 300.0, 20.0, 2500.0
    out = surge_outcome(base, mult, dur, cap, queue_limit=limit)
    t, lam = step_profile(base, base * mult, 100.0, 100.0 + dur, 2000.0)
    path = backlog_trajectory(t, lam, capacity=cap, limit=limit)
    assert path.peak_backlog == pytest.approx(out.peak_backlog, rel=1e-6)
    assert path.rejected_total == pytest.approx(out.rejected, rel=1e-6)
    drained_at = 100.0 + dur + out.drain_time_s
    grid = np.linspace(0, 2000, 20_001)
    fine = backlog_trajectory(grid, np.interp(grid, t, lam), cap, limit=limit)
    first_zero = fine.t[(fine.t > 100.0 + dur) & (fine.backlog == 0.0)][0]
    assert first_zero == pytest.approx(drained_at, abs=0.2)


def test_surge_below_capacity_and_overloaded_baseline() -> None:
    calm = surge_outcome(5.0, 1.5, 100.0, 20.0, queue_limit=50.0, q0=40.0)
    assert calm.growth_rate == 0.0 and calm.peak_backlog == 40.0
    assert calm.backlog_at_end == 0.0 and calm.drain_time_s == 0.0
    assert math.isinf(calm.time_to_exhaust_s) and not calm.exhausted
    hot = surge_outcome(25.0, 2.0, 10.0, 20.0)
    assert hot.growth_rate == 30.0 and math.isinf(hot.drain_time_s)


def test_time_to_exhaust_and_max_surge_duration() -> None:
    assert time_to_exhaust(30.0, 20.0, 1000.0) == 100.0
    assert time_to_exhaust(30.0, 20.0, 1000.0, q0=400.0) == 60.0
    assert math.isinf(time_to_exhaust(20.0, 20.0, 1000.0))
    d = max_surge_duration(15.0, 2.0, 20.0, 1000.0)
    assert d == 100.0
    assert surge_outcome(15.0, 2.0, d, 20.0, queue_limit=1000.0).rejected == 0.0
    assert surge_outcome(15.0, 2.0, d * 1.01, 20.0, queue_limit=1000.0).rejected > 0.0
    assert math.isinf(max_surge_duration(5.0, 3.0, 20.0, 1000.0))


# --------------------------------------------------------------------------- sizing a drain


def test_consumers_to_drain_examples() -> None:
    # 6000 backlog, 40/s still arriving, 1/s per consumer, within 600 s: need c*1 - 40 >= 10.
    assert consumers_to_drain(6000.0, 40.0, 1.0, 600.0) == 50
    assert consumers_to_drain(6000.0, 40.0, 1.0, 599.0) == 51
    assert consumers_to_drain(0.0, 40.0, 1.0, 1.0) == 41  # nothing to drain: just be stable
    assert consumers_to_drain(0.0, 0.0, 1.0, 1.0) == 1


@PROPS
@given(
    backlog=st.floats(min_value=0.0, max_value=1e6),
    lam=st.floats(min_value=0.0, max_value=1e4),
    mu=st.floats(min_value=0.01, max_value=100.0),
    within=st.floats(min_value=0.1, max_value=1e5),
)
def test_consumers_to_drain_is_minimal(backlog: float, lam: float, mu: float, within: float) -> None:
    c = consumers_to_drain(backlog, lam, mu, within)
    assert c >= 1 and c * mu > lam and backlog / (c * mu - lam) <= within
    if c > 1:
        spare = (c - 1) * mu - lam
        assert spare <= 0.0 or backlog / spare > within


# --------------------------------------------------------------------------- PSA + fluid


def test_psa_uses_stationary_percentiles_when_stable_and_fluid_when_backlogged() -> None:
    mu, c, q = 1.0, 20, 0.95
    t = np.array([0.0, 100.0, 100.001, 300.0, 300.001, 600.0, 1000.0])
    lam = np.array([15.0, 15.0, 30.0, 30.0, 15.0, 15.0, 15.0])
    out = psa_response_percentile(t, lam, mu, c, q, ca2=1.0, cs2=0.5)
    stable = ggc_response_percentile(15.0, mu, c, q, 1.0, 0.5)
    assert out[0] == pytest.approx(stable) and out[1] == pytest.approx(stable)
    path = backlog_trajectory(t, lam, capacity=c * mu)
    # overloaded: waits behind the backlog
    assert out[3] == pytest.approx(path.backlog[3] / (c * mu) + 1 / mu)
    # load is back under capacity but the backlog is still draining: still fluid
    assert path.backlog[5] > 0
    assert out[5] == pytest.approx(path.backlog[5] / (c * mu) + 1 / mu)
    # drained (2000 msgs at 5/s take 400 s, done at t = 700): stationary again
    assert path.backlog[6] == 0.0 and out[6] == pytest.approx(stable)


def test_psa_validates() -> None:
    with pytest.raises(ConfigError, match="servers c must be a positive integer"):
        psa_response_percentile([0.0, 1.0], [1.0, 1.0], 1.0, 0, 0.9)
    with pytest.raises(ConfigError, match="arrival SCV ca2"):
        psa_response_percentile([0.0, 1.0], [1.0, 1.0], 1.0, 2, 0.9, ca2=-1.0)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: backlog_trajectory([0.0, 1.0], [1.0], 1.0), "arrival_rate must have the same shape as t"),
        (lambda: backlog_trajectory([0.0, 0.0], [1.0, 1.0], 1.0), "t must be finite and strictly increasing"),
        (lambda: backlog_trajectory([0.0, 1.0], [1.0, -2.0], 1.0), "arrival_rate must be finite and >= 0"),
        (lambda: backlog_trajectory([0.0, 1.0], [1.0, 1.0], -1.0), "capacity must be a finite number >= 0"),
        (
            lambda: backlog_trajectory([0.0, 1.0], [1.0, 1.0], 1.0, q0=10.0, limit=5.0),
            r"initial backlog q0 \(10\) exceeds the queue limit \(5\)",
        ),
        (lambda: backlog_trajectory([], [], 1.0), "t must be a non-empty 1-D array"),
        (lambda: time_to_exhaust(10.0, 5.0, 0.0), "queue limit must be a finite number > 0, got 0.0"),
        (lambda: surge_outcome(10.0, 0.0, 5.0, 20.0), "multiplier must be a finite number > 0, got 0.0"),
        (lambda: surge_outcome(10.0, 2.0, -5.0, 20.0), "surge_duration_s must be a finite number >= 0"),
        (lambda: consumers_to_drain(10.0, 1.0, 1.0, 0.0), "within_s must be a finite number > 0, got 0.0"),
        (lambda: consumers_to_drain(10.0, 1.0, 0.0, 5.0), "service rate mu must be a finite number > 0"),
    ],
)
def test_invalid_parameters(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message):
        call()
