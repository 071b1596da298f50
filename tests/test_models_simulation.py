"""Models against discrete-event simulation (Ciw) with fixed seeds.

Steady state: M/M/c (exact formulas) and G/G/c (Allen–Cunneen mean, exponential-tail
percentile approximation) at rho = 0.8, pooled over a few replications after a warm-up.
Overload: the fluid projection of a 2x surge (peak backlog, drain time, delay behind the
backlog) against Ciw with a time-varying Poisson arrival schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ciw
import numpy as np
import pytest

from capacity.models.erlang import mmc, response_percentile, wait_percentile
from capacity.models.fluid import backlog_trajectory, psa_response_percentile, surge_outcome
from capacity.models.ggc import ggc, ggc_response_percentile, ggc_wait_percentile

pytestmark = pytest.mark.simulation

RHO = 0.8
MU = 1.0
ARRIVALS_PER_REP = 25_000
REPS = 6
WARMUP = 500.0  # time units (~90 relaxation times of M/M/1 at rho = 0.8 is far shorter)


@dataclass
class Sample:
    waits: np.ndarray
    responses: np.ndarray


def simulate(
    arrival: ciw.dists.Distribution,
    service: ciw.dists.Distribution,
    c: int,
    lam: float,
    seed: int,
    reps: int = REPS,
) -> Sample:
    waits: list[float] = []
    responses: list[float] = []
    horizon = WARMUP + ARRIVALS_PER_REP / lam
    for rep in range(reps):
        ciw.seed(seed + rep)
        network = ciw.create_network(
            arrival_distributions=[arrival], service_distributions=[service], number_of_servers=[c]
        )
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(horizon)
        for r in sim.get_all_records():
            if r.arrival_date >= WARMUP:
                waits.append(r.waiting_time)
                responses.append(r.waiting_time + r.service_time)
    return Sample(np.array(waits), np.array(responses))


def lognormal_service(mean: float, scv: float) -> ciw.dists.Lognormal:
    """Lognormal with the given mean and SCV: sigma^2 = ln(1 + scv), m = ln(mean) - sigma^2/2."""
    s2 = math.log1p(scv)
    return ciw.dists.Lognormal(math.log(mean) - s2 / 2, math.sqrt(s2))


@pytest.mark.parametrize("c", [1, 2, 4])
def test_mmc_against_ciw(c: int) -> None:
    lam = RHO * c * MU
    s = simulate(ciw.dists.Exponential(lam), ciw.dists.Exponential(MU), c, lam, seed=100 * c)
    assert s.waits.size > 0.95 * REPS * ARRIVALS_PER_REP
    model = mmc(lam, MU, c)
    assert s.waits.mean() == pytest.approx(model.mean_wait, rel=0.10)
    assert np.mean(s.waits > 0) == pytest.approx(model.p_wait, rel=0.05)
    assert np.quantile(s.waits, 0.95) == pytest.approx(wait_percentile(lam, MU, c, 0.95), rel=0.10)
    assert np.quantile(s.responses, 0.95) == pytest.approx(response_percentile(lam, MU, c, 0.95), rel=0.10)


@pytest.mark.parametrize("c", [1, 2, 4])
@pytest.mark.parametrize(
    ("name", "cs2"),
    [("deterministic", 0.0), ("lognormal", 0.5)],
)
def test_ggc_against_ciw(name: str, cs2: float, c: int) -> None:
    lam = RHO * c * MU
    if cs2 == 0.0:
        # Deterministic service is cheap to simulate and its p95 sits a few percent below
        # the exponential-tail approximation, so use more customers to keep noise small.
        service, reps = ciw.dists.Deterministic(1 / MU), 2 * REPS
    else:
        service, reps = lognormal_service(1 / MU, cs2), REPS
    seed = 1000 + 100 * c + int(10 * cs2)
    s = simulate(ciw.dists.Exponential(lam), service, c, lam, seed=seed, reps=reps)
    model = ggc(lam, MU, c, 1.0, cs2)
    assert s.waits.mean() == pytest.approx(model.mean_wait, rel=0.10)
    p95 = ggc_wait_percentile(lam, MU, c, 0.95, 1.0, cs2)
    assert np.quantile(s.waits, 0.95) == pytest.approx(p95, rel=0.10)
    r95 = ggc_response_percentile(lam, MU, c, 0.95, 1.0, cs2)
    assert np.quantile(s.responses, 0.95) == pytest.approx(r95, rel=0.10)


def test_ggc_with_smooth_arrivals_against_ciw() -> None:
    """Gamma(shape 2) inter-arrival times (ca2 = 0.5) and lognormal service (cs2 = 0.5), c = 2."""
    c, ca2, cs2 = 2, 0.5, 0.5
    lam = RHO * c * MU
    arrival = ciw.dists.Gamma(1 / ca2, ca2 / lam)  # shape 1/ca2, mean 1/lam
    s = simulate(arrival, lognormal_service(1 / MU, cs2), c, lam, seed=4242)
    model = ggc(lam, MU, c, ca2, cs2)
    assert s.waits.mean() == pytest.approx(model.mean_wait, rel=0.10)
    p95 = ggc_wait_percentile(lam, MU, c, 0.95, ca2, cs2)
    assert np.quantile(s.waits, 0.95) == pytest.approx(p95, rel=0.10)


# --------------------------------------------------------------------------- surge (fluid)

SURGE_C = 20
BASELINE = 15.0  # rho = 0.75 before and after the surge
MULTIPLIER = 2.0  # 30/s against a capacity of 20/s: backlog grows at 10/s
SURGE_START, SURGE_END, HORIZON = 300.0, 500.0, 1000.0
SURGE_REPS = 4


def waiting_queue(records: list, times: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    """Number of messages waiting (arrived, not yet in service) at each of ``times``."""
    arrivals = np.sort([r.arrival_date for r in records])
    starts = np.sort([r.service_start_date for r in records])
    return np.searchsorted(arrivals, times, side="right") - np.searchsorted(starts, times, side="right")


def first_empty_after(records: list, t0: float) -> float:  # type: ignore[type-arg]
    """First time after ``t0`` at which nobody is waiting."""
    waited = [r for r in records if r.waiting_time > 0]
    events = sorted([(r.arrival_date, 1) for r in waited] + [(r.service_start_date, -1) for r in waited])
    times = np.array([e[0] for e in events])
    queue = np.cumsum([e[1] for e in events])
    after = (times > t0) & (queue == 0)
    return float(times[after][0])


def test_surge_backlog_and_drain_against_ciw() -> None:
    duration = SURGE_END - SURGE_START
    outcome = surge_outcome(BASELINE, MULTIPLIER, duration, capacity=SURGE_C * MU)
    assert outcome.peak_backlog == 2000.0 and outcome.drain_time_s == 400.0

    t_grid = np.array([0.0, SURGE_START, SURGE_START + 1e-9, SURGE_END, SURGE_END + 1e-9, HORIZON])
    rates = np.array([BASELINE, BASELINE, BASELINE * MULTIPLIER, BASELINE * MULTIPLIER, BASELINE, BASELINE])
    path = backlog_trajectory(t_grid, rates, capacity=SURGE_C * MU)
    mid = SURGE_START + duration / 2
    fluid_mid = float(np.interp(mid, path.t, path.backlog))

    peaks, mids, drains, delay_sim, delay_model = [], [], [], [], []
    for rep in range(SURGE_REPS):
        ciw.seed(777 + rep)
        schedule = ciw.dists.PoissonIntervals(
            rates=[BASELINE, BASELINE * MULTIPLIER, BASELINE],
            endpoints=[SURGE_START, SURGE_END, HORIZON],
            max_sample_date=HORIZON,
        )
        network = ciw.create_network(
            arrival_distributions=[schedule],
            service_distributions=[ciw.dists.Exponential(MU)],
            number_of_servers=[SURGE_C],
        )
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(HORIZON)
        records = sim.get_all_records()
        q_mid, q_end = waiting_queue(records, np.array([mid, SURGE_END]))
        mids.append(q_mid)
        peaks.append(q_end)
        drains.append(first_empty_after(records, SURGE_END) - SURGE_END)
        # delay behind the backlog for messages arriving in the last 20 s of the surge
        late = [r for r in records if SURGE_END - 20.0 <= r.arrival_date < SURGE_END]
        delay_sim.append(np.mean([r.waiting_time + r.service_time for r in late]))
        at = np.unique([r.arrival_date for r in late])
        times = np.concatenate([t_grid[:3], at])
        lam_t = np.concatenate([rates[:3], np.full(at.size, BASELINE * MULTIPLIER)])
        delay_model.append(np.mean(psa_response_percentile(times, lam_t, MU, SURGE_C, 0.5)[3:]))

    assert np.mean(peaks) == pytest.approx(outcome.peak_backlog, rel=0.10)
    assert np.mean(mids) == pytest.approx(fluid_mid, rel=0.10)
    assert np.mean(drains) == pytest.approx(outcome.drain_time_s, rel=0.10)
    assert np.mean(delay_sim) == pytest.approx(np.mean(delay_model), rel=0.10)
