"""Synthetic run folders from a Ciw simulation with known c, mu and service distribution.

The fitter sees exactly what a real run would record: per-interval arrivals, processed count,
queue depth at the interval's end, and delivery-latency percentiles of the messages finished in it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path

import ciw
import numpy as np

from capacity.runs import RunWriter, utc_iso


class PiecewisePoisson(ciw.dists.Distribution):
    """Non-homogeneous Poisson arrivals for a piecewise-constant rate, by thinning."""

    def __init__(self, schedule: Sequence[tuple[float, float]], seed: int) -> None:
        super().__init__()
        self.ends = np.cumsum([d for d, _ in schedule])
        self.rates = [r for _, r in schedule]
        self.peak = max(self.rates)
        self.rng = random.Random(seed)

    def rate(self, t: float) -> float:
        i = int(np.searchsorted(self.ends, t, side="right"))
        return self.rates[i] if i < len(self.rates) else 0.0

    def sample(self, t: float | None = None, ind: object = None) -> float:
        now = t or 0.0
        start = now
        while True:
            now += self.rng.expovariate(self.peak)
            if now >= self.ends[-1]:
                return now - start + 1e9  # no more arrivals
            if self.rng.random() * self.peak <= self.rate(now):
                return now - start


def service_dist(kind: str, mean_s: float, scv: float) -> ciw.dists.Distribution:
    if kind == "exp":
        return ciw.dists.Exponential(rate=1.0 / mean_s)
    if kind == "const":
        return ciw.dists.Deterministic(value=mean_s)
    sigma = math.sqrt(math.log1p(scv))
    return ciw.dists.Lognormal(mean=math.log(mean_s) - sigma**2 / 2, sd=sigma)


def simulated_run(folder: Path, servers: int, mean_s: float, schedule: Sequence[tuple[float, float]],
                  kind: str = "exp", scv: float = 1.0, seed: int = 1, interval_s: float = 1.0,
                  slo_p99_ms: float = 500.0, queue_limit: int | None = 5000) -> Path:
    ciw.seed(seed)
    net = ciw.create_network(arrival_distributions=[PiecewisePoisson(schedule, seed)],
                             service_distributions=[service_dist(kind, mean_s, scv)],
                             number_of_servers=[servers])
    sim = ciw.Simulation(net)
    horizon = float(sum(d for d, _ in schedule))
    sim.simulate_until_max_time(horizon)
    recs = sim.get_all_records()
    arr = np.sort([r.arrival_date for r in recs] + [ind.arrival_date for ind in sim.nodes[1].all_individuals])
    starts = np.sort([r.service_start_date for r in recs]
                     + [ind.service_start_date for ind in sim.nodes[1].all_individuals
                        if getattr(ind, "service_start_date", False) not in (False, None)])
    ends = np.array([r.service_end_date for r in recs])
    resp = np.array([r.service_end_date - r.arrival_date for r in recs])
    phases, start = [], 0.0
    for i, (d, _) in enumerate(schedule):
        phases.append([f"step {i + 1}", start, start + d])
        start += d
    w = RunWriter(folder, {"run_id": folder.name, "scenario": "step", "interval_s": interval_s,
                           "arrivals": "poisson", "slo": {"p99_ms": slo_p99_ms, "error_rate": 0.01},
                           "queue_limit": queue_limit, "target": "sim://ciw",
                           "shape": {"name": "step", "params": {}, "phases": phases}})
    sched = PiecewisePoisson(schedule, 0)
    n = int(horizon / interval_s)
    for k in range(n):
        t0, t1 = k * interval_s, (k + 1) * interval_s
        sent = np.count_nonzero((arr >= t0) & (arr < t1)) / interval_s
        done = (ends >= t0) & (ends < t1)
        depth = np.count_nonzero(arr < t1) - np.count_nonzero(starts < t1)
        pct = np.percentile(resp[done] * 1000, [50, 95, 99]) if done.any() else [None] * 3
        w.append({"t": t1, "time": utc_iso(t1), "phase": phases[min(len(phases) - 1, int(np.searchsorted(
            [p[2] for p in phases], t0, side="right")))][0], "target_rate": sched.rate(t0), "sent_rate": sent,
            "ok_rate": sent, "error_rate": 0.0, "late_sends": 0, "queue_depth": float(depth),
            "processed_rate": np.count_nonzero(done) / interval_s,
            "e2e_p50_ms": pct[0], "e2e_p95_ms": pct[1], "e2e_p99_ms": pct[2]})
    w.close("completed", horizon)
    return folder
