"""Run folder -> fitted capacity model (estimates with bootstrap intervals, validation, warnings).

* **Capacity c*mu** from *saturated* intervals, where the queue was non-empty from start to end so
  every consumer was busy: there, departures per second are the service capacity. Departures are
  the processed counter's rate when the source has one, else arrivals minus the queue's growth.
* **Servers c, service time 1/mu and service SCV** from the latency curve of *unsaturated*
  intervals: intervals are binned by arrival rate, and for each integer c (with mu = capacity/c)
  and each SCV on a grid, the G/G/c response-time percentiles (p50, p95, p99) are compared with
  the observed ones in log space; the best (c, SCV) wins. Without saturated data the capacity
  itself is extrapolated from the latency curve, with a warning.
* Every estimate has a bootstrap interval (moving blocks over intervals for capacity; resampled
  intervals within each rate bin for the latency curve).
* Validation inside the run: fit the latency curve on the lower-load bins, predict the higher ones.

The output is the ``model.json`` document described in docs/model-json.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from capacity import plan
from capacity.errors import ConfigError, FitError
from capacity.models.ggc import ggc_response_percentile
from capacity.runs import Run

#: a queue at least this deep at both ends of an interval means every consumer was busy
MIN_SATURATED_DEPTH = 5.0
#: an interval counts as unsaturated when the queue stayed at most this deep around it
MAX_UNSATURATED_DEPTH = 2.0
MIN_SATURATED_INTERVALS = 4
MIN_LATENCY_INTERVALS = 6
BOOTSTRAP_SAMPLES = 2000
LATENCY_BOOTSTRAP_SAMPLES = 400
QUANTILES = (0.50, 0.95, 0.99)
Q_WEIGHTS = np.array([1.0, 1.0, 0.5])  # p99 of a one-second interval is the noisiest
SCV_GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
DEFAULT_PLAN_SURGE_S = 300.0


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}


def _interval(samples: np.ndarray, point: float, level: float = 0.95) -> Estimate:
    a = (1 - level) / 2
    return Estimate(float(point), float(np.quantile(samples, a)), float(np.quantile(samples, 1 - a)))


def block_bootstrap_means(x: np.ndarray, block: int | None = None, n: int = BOOTSTRAP_SAMPLES,
                          seed: int = 0) -> np.ndarray:
    """Bootstrap replicates of the mean by moving blocks (interval data are autocorrelated).

    The block length defaults to n^(1/3) (at least 1), the usual rate for a moving-block bootstrap;
    a block as long as the data would make every replicate the same and the interval a lie."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise FitError("No data to estimate from.")
    block = max(1, round(x.size ** (1 / 3))) if block is None else max(1, min(block, x.size // 2 or 1))
    rng = np.random.default_rng(seed)
    n_blocks = int(np.ceil(x.size / block))
    starts = rng.integers(0, x.size - block + 1, size=(n, n_blocks))
    idx = (starts[..., None] + np.arange(block)).reshape(n, -1)[:, : x.size]
    return np.asarray(x[idx].mean(axis=1))


def block_bootstrap_mean(x: np.ndarray, level: float = 0.95, block: int | None = None, n: int = BOOTSTRAP_SAMPLES,
                         seed: int = 0) -> Estimate:
    """Mean with a moving-block bootstrap percentile interval."""
    return _interval(block_bootstrap_means(x, block, n, seed), float(np.mean(x)), level)


# -- capacity from saturated intervals -------------------------------------------------------------

def departures(ts: pd.DataFrame, interval_s: float) -> pd.Series:
    """Departure rate per interval: the processed counter, else ok arrivals minus queue growth."""
    if ts["processed_rate"].notna().any():
        return ts["processed_rate"]
    dq = ts["queue_depth"].diff() / ts["t"].diff().fillna(interval_s)
    return ts["ok_rate"] - dq


def saturated_mask(ts: pd.DataFrame, interval_s: float = 1.0) -> pd.Series:
    """Intervals in which every consumer stayed busy: the queue is at least MIN_SATURATED_DEPTH deep at
    both ends, and at the start it held at least half of what the interval then processed, so it could
    not run dry in between (a random excursion of a queue below capacity does not count)."""
    depth = ts["queue_depth"]
    prev = depth.shift(1)
    dt = ts["t"].diff().fillna(interval_s)
    dep = departures(ts, interval_s)
    return (depth >= MIN_SATURATED_DEPTH) & (prev >= MIN_SATURATED_DEPTH) & (prev >= 0.5 * dep * dt)


@dataclass(frozen=True)
class CapacityFit:
    estimate: Estimate
    replicates: np.ndarray
    intervals: int


def fit_capacity(run: Run) -> CapacityFit:
    ts = run.timeseries
    if ts["queue_depth"].notna().sum() == 0:
        raise FitError(
            f"Run {run.folder.name} has no queue-depth samples, so capacity cannot be measured; "
            "pass --source (e.g. --source demo or a broker URL) and run again."
        )
    dep = departures(ts, run.interval_s)
    full = ts["t"].diff().fillna(ts["t"].iloc[0]) >= 0.5 * run.interval_s  # a partial last interval is noise
    mask = saturated_mask(ts, run.interval_s) & dep.notna() & full
    n = int(mask.sum())
    if n < MIN_SATURATED_INTERVALS:
        raise FitError(
            f"Run {run.folder.name} has {n} saturated interval(s) (queue at least {MIN_SATURATED_DEPTH:g} deep), "
            f"fewer than the {MIN_SATURATED_INTERVALS} needed to measure capacity; run `capplan run step` "
            "or a larger --surge-multiplier so the queue grows."
        )
    x = dep[mask].to_numpy()
    reps = block_bootstrap_means(x)
    return CapacityFit(_interval(reps, float(x.mean())), reps, n)


# -- the latency curve of unsaturated intervals ----------------------------------------------------

def latency_metric(ts: pd.DataFrame) -> str:
    """``e2e`` (delivery latency from the consumers) when measured, else ``req`` (request latency)."""
    return "e2e" if ts["e2e_p50_ms"].notna().sum() >= MIN_LATENCY_INTERVALS else "req"


def unsaturated_mask(ts: pd.DataFrame) -> pd.Series:
    """Intervals in steady state below saturation: a short queue now and in the two intervals before."""
    depth = ts["queue_depth"]
    if depth.notna().sum() == 0:
        calm = pd.Series(True, index=ts.index)
    else:
        small = depth.le(MAX_UNSATURATED_DEPTH)
        calm = small & small.shift(1, fill_value=False) & small.shift(2, fill_value=False)
    return calm & ts["sent_rate"].gt(0) & ts["phase"].ne("done")


@dataclass(frozen=True)
class LatencyBins:
    rate: np.ndarray  # (B,) mean arrival rate per bin
    groups: list[np.ndarray]  # per bin: (n_i, 3) observed p50/p95/p99 in seconds
    counts: np.ndarray  # (B,) mean number of messages behind one interval's percentiles

    def levels(self) -> np.ndarray:
        """(B, 3) the population quantile each observed percentile estimates without bias.

        A percentile of n samples sits near order statistic ``q(n-1)+1``, whose expected value is the
        population quantile ``(q(n-1)+1)/(n+1)``: the p99 of 30 messages estimates about the p95.
        Comparing the model at these levels removes the small-sample bias of per-interval tails."""
        n = np.maximum(self.counts, 2.0)[:, None]
        q = np.asarray(QUANTILES)[None, :]
        return np.asarray((q * (n - 1) + 1) / (n + 1))

    def observed(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """(B, 3) medians per bin; with ``rng``, of a resample of each bin's intervals."""
        out = []
        for g in self.groups:
            rows = g if rng is None else g[rng.integers(0, len(g), len(g))]
            out.append(np.median(rows, axis=0))
        return np.asarray(out)


def latency_bins(ts: pd.DataFrame, metric: str, max_bins: int = 8, min_per_bin: int = 3) -> LatencyBins | None:
    cols = [f"{metric}_p50_ms", f"{metric}_p95_ms", f"{metric}_p99_ms"]
    df = ts[unsaturated_mask(ts)].dropna(subset=cols + ["sent_rate"])
    df = df[(df[cols] > 0).all(axis=1)]
    if len(df) < MIN_LATENCY_INTERVALS:
        return None
    df = df.sort_values("sent_rate")
    n_bins = max(1, min(max_bins, len(df) // min_per_bin))
    # equal-count bins over sorted rates; a plateau of a step run stays within one or two bins
    edges = np.linspace(0, len(df), n_bins + 1).round().astype(int)
    done = df["processed_rate"] if metric == "e2e" and df["processed_rate"].notna().all() else df["ok_rate"]
    n_msgs = done * ts["t"].diff().fillna(ts["t"].iloc[0]).loc[df.index]  # messages behind each percentile
    rates, groups, counts = [], [], []
    for a, b in zip(edges, edges[1:], strict=False):
        part = df.iloc[a:b]
        if len(part) == 0:
            continue
        rates.append(float(part["sent_rate"].mean()))
        groups.append(part[cols].to_numpy() / 1000.0)
        counts.append(float(n_msgs.iloc[a:b].mean()))
    return LatencyBins(np.asarray(rates), groups, np.asarray(counts))


@dataclass(frozen=True)
class Candidates:
    servers: np.ndarray  # (K,)
    scv: np.ndarray  # (K,)
    pred: np.ndarray  # (K, B, 3) predicted percentiles in seconds (inf where unstable)


def _predict(rates: np.ndarray, levels: np.ndarray, c: int, mu: float, ca2: float, cs2: float) -> np.ndarray:
    out = np.empty(levels.shape)
    for i, lam in enumerate(rates):
        for j in range(levels.shape[1]):
            out[i, j] = math.inf if lam >= c * mu else ggc_response_percentile(lam, mu, c, levels[i, j], ca2, cs2)
    return out


def _median_factor(cs2: float) -> float:
    """Median ÷ mean of a gamma service time with this SCV (1 for constant service)."""
    if cs2 <= 0:
        return 1.0
    from scipy.stats import gamma

    k = 1.0 / cs2
    return float(gamma.median(k, scale=1.0 / k))


def candidates(bins: LatencyBins, capacity: float, ca2: float, max_servers: int = 512) -> Candidates:
    """Plausible (c, SCV) pairs and their predictions. For each SCV, the low-load median fixes the mean
    service time roughly (p50 ≈ median of the service time), hence c ≈ capacity x mean service time;
    c is searched from half to twice that."""
    low_p50 = float(bins.observed()[0, 0])
    levels = bins.levels()
    servers, scvs, preds = [], [], []
    for cs2 in SCV_GRID:
        c_guess = capacity * low_p50 / _median_factor(cs2)
        lo, hi = max(1, math.floor(c_guess / 1.6)), min(max_servers, max(1, math.ceil(c_guess * 1.6)))
        for c in range(lo, hi + 1):
            servers.append(c)
            scvs.append(cs2)
            preds.append(_predict(bins.rate, levels, c, capacity / c, ca2, cs2))
    if not servers:
        raise FitError("No plausible number of consumers for this latency curve.")
    return Candidates(np.asarray(servers), np.asarray(scvs), np.asarray(preds))


def _loss(pred: np.ndarray, obs: np.ndarray, bins: slice | np.ndarray = slice(None)) -> np.ndarray:
    """(K,) weighted squared log error of each candidate against observed (B, 3) percentiles."""
    p = pred[:, bins, :]
    o = obs[bins, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.log(p) - np.log(o)[None]
    err = np.where(np.isfinite(err), err, 10.0)  # an unstable prediction is a very bad fit
    return np.asarray((err**2 * Q_WEIGHTS).sum(axis=(1, 2)))


@dataclass(frozen=True)
class ServiceFit:
    servers: Estimate
    service_time_s: Estimate
    service_scv: Estimate
    best_servers: int
    best_scv: float
    rmse_log: float
    replicates: np.ndarray  # (R, 2): servers, scv
    validation: dict[str, Any] | None
    at_bound: list[str]


def fit_service(bins: LatencyBins, cap: CapacityFit, ca2: float, seed: int = 0) -> ServiceFit:
    capacity = cap.estimate.value
    cand = candidates(bins, capacity, ca2)
    obs = bins.observed()
    loss = _loss(cand.pred, obs)
    k = int(np.argmin(loss))
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(LATENCY_BOOTSTRAP_SAMPLES):
        kb = int(np.argmin(_loss(cand.pred, bins.observed(rng))))
        reps.append((cand.servers[kb], cand.scv[kb]))
    rep = np.asarray(reps, dtype=float)
    c_best, scv_best = int(cand.servers[k]), float(cand.scv[k])
    # service time 1/mu = c / capacity: combine the latency-curve replicates with capacity replicates
    cap_reps = cap.replicates[rng.integers(0, len(cap.replicates), len(rep))]
    st = _interval(rep[:, 0] / cap_reps, c_best / capacity)
    at_bound = []
    if scv_best in (SCV_GRID[0], SCV_GRID[-1]) and scv_best != 0.0:
        at_bound.append("service_scv")
    if c_best in (int(cand.servers[cand.scv == scv_best].min()), int(cand.servers[cand.scv == scv_best].max())) \
            and c_best > 1:
        at_bound.append("servers")
    rmse = float(np.sqrt(loss[k] / (obs.size * Q_WEIGHTS.mean())))
    return ServiceFit(
        servers=_interval(rep[:, 0], c_best), service_time_s=st, service_scv=_interval(rep[:, 1], scv_best),
        best_servers=c_best, best_scv=scv_best, rmse_log=rmse, replicates=rep,
        validation=_validate(bins, cand, obs), at_bound=at_bound,
    )


def _validate(bins: LatencyBins, cand: Candidates, obs: np.ndarray) -> dict[str, Any] | None:
    """Fit on the lower-load bins, predict p50 and p95 of the higher-load bins."""
    n = len(bins.rate)
    if n < 4:
        return None
    split = n // 2
    k = int(np.argmin(_loss(cand.pred, obs, slice(0, split))))
    pred, actual = cand.pred[k, split:, :2], obs[split:, :2]
    ape = np.abs(pred - actual) / actual
    return {
        "train_max_rate": float(bins.rate[split - 1]),
        "test_rates": [float(r) for r in bins.rate[split:]],
        "predicted_p50_ms": [float(v * 1000) for v in pred[:, 0]],
        "observed_p50_ms": [float(v * 1000) for v in actual[:, 0]],
        "predicted_p95_ms": [float(v * 1000) for v in pred[:, 1]],
        "observed_p95_ms": [float(v * 1000) for v in actual[:, 1]],
        "mape": float(np.mean(ape[np.isfinite(ape)])) if np.isfinite(ape).any() else None,
    }


# -- a run that never saturated: capacity from the latency curve alone ------------------------------

MAX_EXTRAPOLATED_SERVERS = 64


def _service_only_quantiles(mean_s: float, cs2: float, levels: np.ndarray) -> np.ndarray:
    """Quantiles of a gamma service time (constant when cs2 = 0) at ``levels``: latency with no waiting."""
    if cs2 <= 0:
        return np.full(levels.shape, mean_s)
    from scipy.stats import gamma

    k = 1.0 / cs2
    return np.asarray(gamma.ppf(levels, k, scale=mean_s / k))


def _low_load_service(obs_low: np.ndarray, levels_low: np.ndarray) -> tuple[float, float]:
    """(mean service time, SCV) that best explain the lowest-load bin, where waiting is negligible."""
    best = (math.inf, 0.0, 1.0)
    for cs2 in SCV_GRID:
        mean_s = obs_low[0] / _median_factor(cs2)
        pred = _service_only_quantiles(mean_s, cs2, levels_low)
        loss = float((((np.log(pred) - np.log(obs_low)) ** 2) * Q_WEIGHTS).sum())
        if loss < best[0]:
            best = (loss, mean_s, cs2)
    return best[1], best[2]


def fit_unsaturated(bins: LatencyBins, ca2: float, seed: int = 0) -> tuple[CapacityFit, ServiceFit]:
    """Capacity, consumers and service time from the latency curve of a run that never saturated.

    The lowest-load bin fixes the service time and its SCV (waiting is negligible there); each integer
    c is then scored by how well the G/G/c percentiles follow the rise of latency with load. Capacity
    c/S is an extrapolation: the warning in the model says how far."""
    obs, levels = bins.observed(), bins.levels()
    if len(bins.rate) < 3:
        raise FitError("The run never saturated and has too few load levels to extrapolate capacity; run "
                       "`capplan run step` up to and past saturation.")
    mean_s, cs2 = _low_load_service(obs[0], levels[0])
    mu = 1.0 / mean_s
    c_min = max(1, math.floor(float(bins.rate.max()) / mu) + 1)
    servers = np.arange(c_min, max(c_min, MAX_EXTRAPOLATED_SERVERS) + 1)
    pred = np.asarray([_predict(bins.rate, levels, int(c), mu, ca2, cs2) for c in servers])
    k = int(np.argmin(_loss(pred, obs)))
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(LATENCY_BOOTSTRAP_SAMPLES):
        o = bins.observed(rng)
        mean_b, cs2_b = _low_load_service(o[0], levels[0])
        reps.append((servers[int(np.argmin(_loss(pred, o)))], mean_b, cs2_b))
    rep = np.asarray(reps, dtype=float)
    c_best = int(servers[k])
    cap_reps = rep[:, 0] / rep[:, 1]
    cap = CapacityFit(_interval(cap_reps, c_best * mu), cap_reps, 0)
    at_bound = ["servers"] if c_best in (MAX_EXTRAPOLATED_SERVERS,) else []
    service = ServiceFit(
        servers=_interval(rep[:, 0], c_best), service_time_s=_interval(rep[:, 1], mean_s),
        service_scv=_interval(rep[:, 2], cs2), best_servers=c_best, best_scv=cs2,
        rmse_log=float(np.sqrt(_loss(pred, obs)[k] / (obs.size * Q_WEIGHTS.mean()))), replicates=rep[:, [0, 2]],
        validation=None, at_bound=at_bound,
    )
    return cap, service


# -- the whole model ---------------------------------------------------------------------------------

def baseline_rate(ts: pd.DataFrame) -> float | None:
    base = ts[ts["phase"].isin(["baseline", "recovery"])]["sent_rate"].dropna()
    if len(base):
        return float(base.median())
    head = ts["sent_rate"].dropna()
    head = head[head > 0]
    return float(head.iloc[: max(1, len(head) // 5)].median()) if len(head) else None


def _surge_duration(run: Run) -> float:
    """The surge length the projections plan for: --plan-surge-duration (default 300 s), not the test's own
    time-compressed surge, which says how the service behaved, not how long a real surge lasts."""
    return float(run.settings.get("plan_surge_duration") or DEFAULT_PLAN_SURGE_S)


def _curve(m: plan.CapacityModel, lo: plan.CapacityModel | None, hi: plan.CapacityModel | None,
           max_rate: float) -> dict[str, list[float | None]]:
    rates = np.linspace(0.05, 0.97, 30) * max_rate

    def p(mm: plan.CapacityModel | None, r: float, q: float) -> float | None:
        if mm is None:
            return None
        v = plan.p99_response_s(mm, r, q)
        return None if math.isinf(v) else v * 1000

    return {
        "rate": [float(r) for r in rates],
        "p50_ms": [p(m, r, 0.5) for r in rates],
        "p99_ms": [p(m, r, 0.99) for r in rates],
        "p99_ms_low": [p(hi, r, 0.99) for r in rates],  # more capacity: lower latency
        "p99_ms_high": [p(lo, r, 0.99) for r in rates],
    }


def fit_run(run: Run) -> dict[str, Any]:
    """Fit the run's capacity model and return the ``model.json`` document."""
    ts = run.timeseries
    if len(ts) < 3:
        raise FitError(f"Run {run.folder.name} has only {len(ts)} interval(s); run a longer scenario "
                       "(`capplan run step` gives the best data).")
    warnings: list[str] = []
    meta = run.meta
    slo_ms = float(meta.get("slo", {}).get("p99_ms", 500.0))
    ca2 = 0.0 if meta.get("arrivals") == "uniform" else 1.0
    queue_limit = meta.get("queue_limit")
    metric = latency_metric(ts)
    bins = latency_bins(ts, metric)
    service: ServiceFit | None = None
    try:
        cap = fit_capacity(run)
    except FitError as e:
        if bins is None:
            raise
        cap, service = fit_unsaturated(bins, ca2)
        ratio = cap.estimate.value / float(bins.rate.max())
        warnings.append(
            f"The run never saturated ({e.args[0].split(';')[0].split(' has ', 1)[-1]}), so capacity "
            f"{cap.estimate.value:.0f} msg/s is extrapolated from the {metric} latency curve, {ratio:.1f}x the "
            "highest load measured; run `capplan run step` past saturation to measure it."
        )
    peak = float(ts["sent_rate"].max())
    base = baseline_rate(ts)
    n_gaps = len(run.gaps)
    if n_gaps:
        warnings.append(f"{n_gaps} source sample(s) failed and are gaps in the data (see gaps.csv).")
    late = float(ts["late_sends"].fillna(0).sum())
    sent_total = float((ts["sent_rate"].fillna(0) * ts["t"].diff().fillna(ts["t"].iloc[0])).sum())
    if sent_total and late / sent_total > 0.01:
        warnings.append(f"{late:.0f} sends ({late / sent_total:.1%}) left later than scheduled: the load "
                        "generator could not keep up; offered load was lower than the shape.")
    errors = float(ts["error_rate"].fillna(0).sum())
    if errors:
        warnings.append(f"About {errors * run.interval_s:.0f} sends failed (see error_rate).")

    if bins is None:
        warnings.append(
            f"Too few unsaturated intervals with {metric} latency ({MIN_LATENCY_INTERVALS} needed) to fit "
            "consumers and service time; run `capplan run step` or a longer baseline."
        )
    else:
        service = service or fit_service(bins, cap, ca2)
        for name in service.at_bound:
            warnings.append(f"The fitted {name} sits at the edge of its search range; treat it with caution.")

    model: dict[str, Any] = {
        "schema_version": 1,
        "run_id": meta.get("run_id"),
        "capacity_msgs_per_s": cap.estimate.as_dict(),
        "servers": service.servers.as_dict() if service else None,
        "service_time_s": service.service_time_s.as_dict() if service else None,
        "service_scv": service.service_scv.as_dict() if service else None,
        "arrival_scv": ca2,
        "slo": {"p99_ms": slo_ms, "error_rate": meta.get("slo", {}).get("error_rate"), "metric": metric},
        "slo_capacity_msgs_per_s": None,
        "baseline_rate": base,
        "observed_peak_rate": peak,
        "max_measured_rate": float(bins.rate.max()) if bins else None,
        "headroom_ratio": cap.estimate.value / peak - 1 if peak > 0 else None,
        "queue_limit": queue_limit,
        "surge_duration_s": _surge_duration(run),
        "surge": [],
        "largest_absorbed_surge": None,
        "sizing": {"planned_multiplier": plan.PLANNED_MULTIPLIER, "consumers_needed": None,
                   "current_servers": service.best_servers if service else None,
                   "service_time_s": service.service_time_s.value if service else None},
        "latency_curve": None,
        "fit_quality": {
            "saturated_intervals": cap.intervals,
            "unsaturated_intervals": int(sum(len(g) for g in bins.groups)) if bins else 0,
            "latency_rmse_log": service.rmse_log if service else None,
            "validation": service.validation if service else None,
            "extrapolation_ratio": None,
        },
        "warnings": warnings,
    }
    if service is None:
        if base:
            model["surge"] = [_surge_only(base, m, model["surge_duration_s"], cap.estimate.value, queue_limit)
                              for m in plan.DEFAULT_MULTIPLIERS]
        return model

    def cm(c: int, capacity: float) -> plan.CapacityModel:
        return plan.CapacityModel(servers=c, mu=capacity / c, service_scv=service.best_scv, arrival_scv=ca2,
                                  slo_p99_s=slo_ms / 1000, queue_limit=queue_limit, baseline_rate=base)

    best = cm(service.best_servers, cap.estimate.value)
    lo = cm(service.best_servers, cap.estimate.ci_low)
    hi = cm(service.best_servers, cap.estimate.ci_high)
    try:
        slo_cap = [plan.slo_capacity(x) for x in (best, lo, hi)]
        model["slo_capacity_msgs_per_s"] = {"value": slo_cap[0], "ci_low": min(slo_cap), "ci_high": max(slo_cap)}
    except ConfigError as e:
        warnings.append(f"SLO capacity could not be computed: {e}")
    model["latency_curve"] = _curve(best, lo, hi, cap.estimate.value)
    if base:
        p = plan.make_plan(best, base, model["surge_duration_s"])
        model["surge"] = [vars(r) for r in p.surge]
        model["largest_absorbed_surge"] = p.largest_absorbed_surge
        model["sizing"] = p.sizing
        max_rate = max(r.rate for r in p.surge)
        measured = float(bins.rate.max()) if bins else peak
        ratio = max_rate / max(measured, 1e-9)
        model["fit_quality"]["extrapolation_ratio"] = ratio
        if ratio > 1.5:
            warnings.append(
                f"Surge projections go up to {max_rate:.0f} msg/s, {ratio:.1f}x the highest load whose latency "
                f"was measured ({measured:.0f} msg/s); consumer counts there are extrapolated."
            )
    return model


def _surge_only(base: float, mult: float, duration: float, capacity: float, limit: float | None) -> dict[str, Any]:
    """A fluid-only surge row when consumers and service time could not be fitted."""
    from capacity.models.fluid import max_surge_duration, surge_outcome

    o = surge_outcome(base, mult, duration, capacity, limit)
    fin = plan._finite  # noqa: SLF001
    return {"multiplier": mult, "rate": o.surge_rate, "duration_s": duration, "growth_rate": o.growth_rate,
            "peak_backlog": o.peak_backlog, "time_to_exhaust_s": fin(o.time_to_exhaust_s), "exhausted": o.exhausted,
            "rejected": o.rejected, "drain_time_s": fin(o.drain_time_s), "consumers_needed": None,
            "max_duration_s": fin(max_surge_duration(base, mult, capacity, limit)) if limit else None}
