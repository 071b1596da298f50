"""Compare two runs (A = before, B = after): capacity, SLO capacity and latency at common loads.

A difference only counts as a *regression* when the data says it is not noise:

* **capacity** — B's 95% interval lies entirely below A's (``B.ci_high < A.ci_low``), or a
  moving-block bootstrap of the two runs' saturated-interval departure rates puts the whole 95%
  interval of the relative drop ``1 - B/A`` above :data:`MIN_CAPACITY_DROP` (5%);
* **SLO capacity** — B's 95% interval lies entirely below A's;
* **latency at common loads** — per-interval p99 (delivery when both runs measured it, else
  request) of unsaturated intervals, binned by sent rate over the range both runs covered; the
  bins' median ratios B/A are averaged (geometric mean, weighted by the smaller bin count) and
  bootstrapped by resampling intervals within each bin: a regression when the whole 95% interval
  lies above ``1 +`` :data:`LATENCY_TOLERANCE` (10% slower).

Pure computation on :class:`~capacity.runs.Run` objects and their model documents; the HTML lives
in :mod:`capacity.report.comparison`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capacity.report import observed
from capacity.runs import Run, read_run

MIN_CAPACITY_DROP = 0.05
LATENCY_TOLERANCE = 0.10
SATURATED_DEPTH = 5.0
MIN_SATURATED = 4
MAX_BINS = 5
MIN_PER_BIN = 2
BOOTSTRAP = 2000
BLOCK = 5
EXIT_REGRESSION = 3


@dataclass(frozen=True)
class Change:
    """One quantity in both runs: A's and B's estimates, B ÷ A − 1, and whether it regressed."""

    name: str
    a: dict[str, float] | None
    b: dict[str, float] | None
    change: float | None
    regressed: bool
    why: str
    drop_ci: tuple[float, float] | None = None  # bootstrap 95% interval of 1 - B/A (capacity only)


@dataclass(frozen=True)
class LatencyBin:
    rate_low: float
    rate_high: float
    n_a: int
    n_b: int
    p99_a_ms: float
    p99_b_ms: float

    @property
    def ratio(self) -> float:
        return self.p99_b_ms / self.p99_a_ms if self.p99_a_ms > 0 else math.inf


@dataclass(frozen=True)
class LatencyChange:
    metric: str
    bins: list[LatencyBin]
    ratio: float | None  # geometric mean of B/A over bins
    ratio_ci: tuple[float, float] | None
    regressed: bool
    why: str


@dataclass(frozen=True)
class Comparison:
    run_a: str
    run_b: str
    capacity: Change
    slo_capacity: Change
    latency: LatencyChange
    reasons: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return self.capacity.regressed or self.slo_capacity.regressed or self.latency.regressed

    @property
    def exit_code(self) -> int:
        return EXIT_REGRESSION if self.regressed else 0

    def summary(self) -> str:
        """One line: the verdict and the headline numbers."""
        parts = []
        cap = self.capacity
        if cap.a and cap.b:
            parts.append(f"capacity {cap.a['value']:.1f} -> {cap.b['value']:.1f} msg/s ({_signed(cap.change)})")
        slo = self.slo_capacity
        if slo.a and slo.b:
            parts.append(f"SLO capacity {slo.a['value']:.1f} -> {slo.b['value']:.1f} msg/s ({_signed(slo.change)})")
        lat = self.latency
        if lat.ratio is not None:
            parts.append(f"p99 at common loads {_signed(lat.ratio - 1)}")
        head = "REGRESSION" if self.regressed else "no regression"
        return f"{head}: {self.run_b} vs {self.run_a}: " + ("; ".join(parts) if parts else "nothing comparable")

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["regressed"] = self.regressed
        doc["summary"] = self.summary()
        for b, src in zip(doc["latency"]["bins"], self.latency.bins, strict=True):
            b["ratio"] = src.ratio
        return _jsonable(doc)


def _signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.0%}"


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    return x


# -- estimates ---------------------------------------------------------------------------------------

def _estimate(model: Mapping[str, Any] | None, key: str) -> dict[str, float] | None:
    e = model.get(key) if model else None
    if not isinstance(e, Mapping):
        return None
    try:
        out = {k: float(e[k]) for k in ("value", "ci_low", "ci_high")}
    except (KeyError, TypeError, ValueError):
        return None
    return out if all(math.isfinite(v) for v in out.values()) else None


def saturated_departures(run: Run) -> np.ndarray:
    """Departure rates of intervals with a queue at least :data:`SATURATED_DEPTH` deep at both ends."""
    ts = run.timeseries
    depth = ts["queue_depth"]
    mask = (depth >= SATURATED_DEPTH) & (depth.shift(1) >= SATURATED_DEPTH)
    if ts["processed_rate"].notna().any():
        dep = ts["processed_rate"]
    else:
        dep = ts["ok_rate"] - depth.diff() / ts["t"].diff().fillna(run.interval_s)
    return dep[mask & dep.notna()].to_numpy(dtype=float)


def _block_means(x: np.ndarray, rng: np.random.Generator, n: int = BOOTSTRAP, block: int = BLOCK) -> np.ndarray:
    block = max(1, min(block, x.size))
    n_blocks = int(np.ceil(x.size / block))
    starts = rng.integers(0, x.size - block + 1, size=(n, n_blocks))
    idx = (starts[..., None] + np.arange(block)).reshape(n, -1)[:, : x.size]
    return np.asarray(x[idx].mean(axis=1))


def capacity_drop_interval(a: np.ndarray, b: np.ndarray, seed: int = 0) -> tuple[float, float] | None:
    """Bootstrap 95% interval of the relative capacity drop ``1 - mean(B)/mean(A)``."""
    if a.size < MIN_SATURATED or b.size < MIN_SATURATED:
        return None
    rng = np.random.default_rng(seed)
    ma, mb = _block_means(a, rng), _block_means(b, rng)
    ok = ma > 0
    if not ok.any():
        return None
    drop = 1 - mb[ok] / ma[ok]
    return float(np.quantile(drop, 0.025)), float(np.quantile(drop, 0.975))


def compare_capacity(run_a: Run, run_b: Run, model_a: Mapping[str, Any] | None,
                     model_b: Mapping[str, Any] | None, seed: int = 0) -> Change:
    a, b = _estimate(model_a, "capacity_msgs_per_s"), _estimate(model_b, "capacity_msgs_per_s")
    drop_ci = capacity_drop_interval(saturated_departures(run_a), saturated_departures(run_b), seed)
    if a is None or b is None:
        return Change("capacity", a, b, None, False, "Capacity was not estimated in both runs.", drop_ci)
    change = b["value"] / a["value"] - 1 if a["value"] > 0 else None
    if b["ci_high"] < a["ci_low"]:
        return Change("capacity", a, b, change, True,
                      f"B's 95% interval ({b['ci_low']:.1f}–{b['ci_high']:.1f} msg/s) lies below A's "
                      f"({a['ci_low']:.1f}–{a['ci_high']:.1f} msg/s).", drop_ci)
    if drop_ci and drop_ci[0] > MIN_CAPACITY_DROP:
        return Change("capacity", a, b, change, True,
                      f"The bootstrap puts the capacity drop at {drop_ci[0]:.0%}–{drop_ci[1]:.0%} (95%), "
                      f"above the {MIN_CAPACITY_DROP:.0%} noise floor.", drop_ci)
    if b["ci_low"] > a["ci_high"]:
        return Change("capacity", a, b, change, False, "B's 95% interval lies above A's: capacity rose.", drop_ci)
    why = "The intervals overlap"
    if drop_ci:
        why += f" and the bootstrap drop interval ({drop_ci[0]:+.0%} to {drop_ci[1]:+.0%}) is not clearly " \
               f"above {MIN_CAPACITY_DROP:.0%}"
    return Change("capacity", a, b, change, False, why + ".", drop_ci)


def compare_slo_capacity(model_a: Mapping[str, Any] | None, model_b: Mapping[str, Any] | None) -> Change:
    a, b = _estimate(model_a, "slo_capacity_msgs_per_s"), _estimate(model_b, "slo_capacity_msgs_per_s")
    if a is None or b is None:
        return Change("slo_capacity", a, b, None, False, "SLO capacity was not estimated in both runs.")
    change = b["value"] / a["value"] - 1 if a["value"] > 0 else None
    if b["ci_high"] < a["ci_low"]:
        return Change("slo_capacity", a, b, change, True,
                      f"B's 95% interval ({b['ci_low']:.1f}–{b['ci_high']:.1f} msg/s) lies below A's "
                      f"({a['ci_low']:.1f}–{a['ci_high']:.1f} msg/s).")
    if b["ci_low"] > a["ci_high"]:
        return Change("slo_capacity", a, b, change, False, "B's 95% interval lies above A's: SLO capacity rose.")
    return Change("slo_capacity", a, b, change, False, "The intervals overlap.")


# -- latency at common loads ------------------------------------------------------------------------------

def latency_points(ts: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``rate`` and ``p99_ms`` of the unsaturated intervals that measured ``metric`` latency."""
    col = f"{metric}_p99_ms"
    rows = ts[observed.unsaturated_mask(ts) & ts[col].gt(0) & ts["sent_rate"].gt(0)]
    return pd.DataFrame({"rate": rows["sent_rate"].to_numpy(float), "p99_ms": rows[col].to_numpy(float)})


def _bins(pa: pd.DataFrame, pb: pd.DataFrame) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    lo = max(pa["rate"].min(), pb["rate"].min())
    hi = min(pa["rate"].max(), pb["rate"].max())
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return []
    n_common = min(int(pa["rate"].between(lo, hi).sum()), int(pb["rate"].between(lo, hi).sum()))
    n_bins = max(1, min(MAX_BINS, n_common // 3))
    edges = np.linspace(lo, hi, n_bins + 1)
    out = []
    for i in range(n_bins):
        left, right = float(edges[i]), float(edges[i + 1])
        last = i == n_bins - 1

        def pick(p: pd.DataFrame, left: float = left, right: float = right, last: bool = last) -> np.ndarray:
            m = (p["rate"] >= left) & ((p["rate"] <= right) if last else (p["rate"] < right))
            return p.loc[m, "p99_ms"].to_numpy(float)

        xa, xb = pick(pa), pick(pb)
        if xa.size >= MIN_PER_BIN and xb.size >= MIN_PER_BIN:
            out.append((left, right, xa, xb))
    return out


def compare_latency(run_a: Run, run_b: Run, seed: int = 0) -> LatencyChange:
    ta, tb = run_a.timeseries, run_b.timeseries
    metric = "e2e" if observed.latency_metric(ta) == observed.latency_metric(tb) == "e2e" else "req"
    pa, pb = latency_points(ta, metric), latency_points(tb, metric)
    bins = _bins(pa, pb)
    if not bins:
        return LatencyChange(metric, [], None, None, False,
                             "The runs have no common range of unsaturated load to compare latency over.")
    out = [LatencyBin(lo, hi, xa.size, xb.size, float(np.median(xa)), float(np.median(xb)))
           for lo, hi, xa, xb in bins]
    w = np.array([min(b.n_a, b.n_b) for b in out], dtype=float)

    def gmean(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
        logs = np.array([math.log(np.median(xb) / np.median(xa)) for xa, xb in pairs])
        return float(math.exp(np.sum(w * logs) / np.sum(w)))

    pairs = [(xa, xb) for _, _, xa, xb in bins]
    ratio = gmean(pairs)
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(BOOTSTRAP // 2):
        reps.append(gmean([(xa[rng.integers(0, xa.size, xa.size)], xb[rng.integers(0, xb.size, xb.size)])
                           for xa, xb in pairs]))
    ci = (float(np.quantile(reps, 0.025)), float(np.quantile(reps, 0.975)))
    span = f"{out[0].rate_low:.0f}–{out[-1].rate_high:.0f} msg/s"
    if ci[0] > 1 + LATENCY_TOLERANCE:
        why = (f"Over {span}, B's p99 is {ratio:.2f}x A's (95% interval {ci[0]:.2f}–{ci[1]:.2f}x), "
               f"more than {LATENCY_TOLERANCE:.0%} slower.")
        return LatencyChange(metric, out, ratio, ci, True, why)
    why = (f"Over {span}, B's p99 is {ratio:.2f}x A's (95% interval {ci[0]:.2f}–{ci[1]:.2f}x), not clearly "
           f"more than {LATENCY_TOLERANCE:.0%} slower.")
    return LatencyChange(metric, out, ratio, ci, False, why)


# -- the whole comparison ----------------------------------------------------------------------------------

def model_of(run: Run) -> dict[str, Any] | None:
    """The run's ``model.json``, else a fresh fit in memory, else None (the data cannot support one)."""
    model = run.model()
    if model is not None:
        return model
    from capacity import fit
    from capacity.errors import FitError

    try:
        return fit.fit_run(run)
    except FitError:
        return None


def compare_runs(run_a: Run, run_b: Run, model_a: Mapping[str, Any] | None = None,
                 model_b: Mapping[str, Any] | None = None, seed: int = 0) -> Comparison:
    """Compare B against A (models default to each run's model.json, fitted in memory if missing)."""
    ma = model_a if model_a is not None else model_of(run_a)
    mb = model_b if model_b is not None else model_of(run_b)
    cap = compare_capacity(run_a, run_b, ma, mb, seed)
    slo = compare_slo_capacity(ma, mb)
    lat = compare_latency(run_a, run_b, seed)
    reasons = [f"{label}: {c.why}" for label, c in
               (("Capacity", cap), ("SLO capacity", slo), ("Latency", lat))]
    name_a = str(run_a.meta.get("run_id") or run_a.folder.name)
    name_b = str(run_b.meta.get("run_id") or run_b.folder.name)
    return Comparison(name_a, name_b, cap, slo, lat, reasons)


def compare_folders(folder_a: str | os.PathLike[str], folder_b: str | os.PathLike[str],
                    out: str | os.PathLike[str] | None = None, seed: int = 0) -> tuple[Comparison, Path]:
    """Read two run folders, compare B against A and write the HTML report (default: in B's folder)."""
    from capacity.report.comparison import write_html

    run_a, run_b = read_run(folder_a), read_run(folder_b)
    ma, mb = model_of(run_a), model_of(run_b)
    cmp = compare_runs(run_a, run_b, ma, mb, seed)
    path = Path(out) if out else run_b.folder / f"compare-{run_a.folder.name}.html"
    return cmp, write_html(path, cmp, run_a, run_b, ma, mb)
