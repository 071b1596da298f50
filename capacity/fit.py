"""Run folder -> fitted capacity model (estimates with bootstrap intervals, warnings, fit quality).

Capacity c·mu comes from *saturated* intervals, where the queue was non-empty from start to end
so every consumer was busy: there, departures per second are the service capacity. Departures are
the processed counter's rate when the source has one, else arrivals minus the queue's growth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from capacity.errors import FitError
from capacity.runs import Run

#: a queue at least this deep at both ends of an interval means every consumer was busy
MIN_SATURATED_DEPTH = 5.0
MIN_SATURATED_INTERVALS = 4
BOOTSTRAP_SAMPLES = 2000


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}


def block_bootstrap_mean(x: np.ndarray, level: float = 0.95, block: int = 5, n: int = BOOTSTRAP_SAMPLES,
                         seed: int = 0) -> Estimate:
    """Mean with a moving-block bootstrap percentile interval (intervals are autocorrelated)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise FitError("No data to estimate from.")
    block = max(1, min(block, x.size))
    rng = np.random.default_rng(seed)
    n_blocks = int(np.ceil(x.size / block))
    starts = rng.integers(0, x.size - block + 1, size=(n, n_blocks))
    idx = (starts[..., None] + np.arange(block)).reshape(n, -1)[:, : x.size]
    means = x[idx].mean(axis=1)
    a = (1 - level) / 2
    return Estimate(float(x.mean()), float(np.quantile(means, a)), float(np.quantile(means, 1 - a)))


def departures(ts: pd.DataFrame, interval_s: float) -> pd.Series:
    """Departure rate per interval: the processed counter, else ok arrivals minus queue growth."""
    if ts["processed_rate"].notna().any():
        return ts["processed_rate"]
    dq = ts["queue_depth"].diff() / ts["t"].diff().fillna(interval_s)
    return ts["ok_rate"] - dq


def saturated_mask(ts: pd.DataFrame) -> pd.Series:
    depth = ts["queue_depth"]
    return (depth >= MIN_SATURATED_DEPTH) & (depth.shift(1) >= MIN_SATURATED_DEPTH)


def fit_capacity(run: Run) -> tuple[Estimate, int]:
    ts = run.timeseries
    if ts["queue_depth"].notna().sum() == 0:
        raise FitError(
            f"Run {run.folder.name} has no queue-depth samples, so capacity cannot be measured; "
            "pass --source (e.g. --source demo or a broker URL) and run again."
        )
    dep = departures(ts, run.interval_s)
    mask = saturated_mask(ts) & dep.notna()
    n = int(mask.sum())
    if n < MIN_SATURATED_INTERVALS:
        raise FitError(
            f"Run {run.folder.name} has {n} saturated interval(s) (queue at least {MIN_SATURATED_DEPTH:g} deep), "
            f"fewer than the {MIN_SATURATED_INTERVALS} needed to measure capacity; run `capplan run step` "
            "or a larger --surge-multiplier so the queue grows."
        )
    return block_bootstrap_mean(dep[mask].to_numpy()), n


def _steady_baseline(ts: pd.DataFrame) -> float | None:
    base = ts[ts["phase"].isin(["baseline", "recovery"])]["sent_rate"].dropna()
    return float(base.median()) if len(base) else None


def fit_run(run: Run) -> dict[str, Any]:
    """Fit the run's capacity model and return the ``model.json`` document."""
    ts = run.timeseries
    if len(ts) < 3:
        raise FitError(f"Run {run.folder.name} has only {len(ts)} interval(s); run a longer scenario.")
    warnings: list[str] = []
    cap, n_sat = fit_capacity(run)
    peak = float(ts["sent_rate"].max())
    baseline = _steady_baseline(ts)
    slo = run.meta.get("slo", {})
    return {
        "schema_version": 1,
        "run_id": run.meta.get("run_id"),
        "capacity_msgs_per_s": cap.as_dict(),
        "servers": None,
        "service_time_s": None,
        "service_scv": None,
        "slo": slo,
        "slo_capacity_msgs_per_s": None,
        "baseline_rate": baseline,
        "observed_peak_rate": peak,
        "headroom_ratio": cap.value / peak - 1 if peak > 0 else None,
        "surge": [],
        "fit_quality": {"saturated_intervals": n_sat},
        "warnings": warnings,
    }
