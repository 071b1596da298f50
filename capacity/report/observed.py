"""What a run observed: the interval selections the report, the verdict and ``capplan compare`` share.

Pure functions of the ``timeseries.csv`` frame (see :mod:`capacity.runs`); no model, no I/O.

* *surge intervals*: phases that change or raise the load on purpose (ramp, surge, ramp-down,
  spike, the steps of a staircase) and ``done``.
* *drain intervals*: intervals after a surge interval until the queue is calm again (and one more,
  because delivery latency lags the queue by an interval): their latency is the surge's backlog.
* *steady intervals*: everything else with sends in it (baseline, recovery once drained, soak, ...).
* *unsaturated intervals*: a short queue now and in the two intervals before, with sends in them:
  the points of the latency-vs-load curve (the fitter selects them the same way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: a queue at most this deep is "calm": consumers keep up
CALM_DEPTH = 2.0
#: phases that are not steady load
SURGE_PHASES = frozenset({"ramp", "surge", "ramp-down", "spike"})
#: latency needs at least this many measured intervals to be used
MIN_LATENCY_INTERVALS = 6


def _is_surge_phase(phase: object) -> bool:
    name = str(phase) if isinstance(phase, str) else ""
    return name in SURGE_PHASES or name.startswith("step")


def latency_metric(ts: pd.DataFrame) -> str:
    """``"e2e"`` (delivery latency from the consumers) when measured, else ``"req"`` (request latency)."""
    return "e2e" if ts["e2e_p99_ms"].notna().sum() >= MIN_LATENCY_INTERVALS else "req"


def metric_label(metric: str) -> str:
    return "delivery (end-to-end)" if metric == "e2e" else "request"


def active(ts: pd.DataFrame) -> pd.Series:
    """Intervals with sends in them (not the closing ``done`` intervals)."""
    return ts["sent_rate"].gt(0) & ts["phase"].fillna("").ne("done")


def surge_mask(ts: pd.DataFrame) -> pd.Series:
    return ts["phase"].map(_is_surge_phase).astype(bool)


def calm_mask(ts: pd.DataFrame) -> pd.Series:
    """Queue at most :data:`CALM_DEPTH` deep now and in the two intervals before (all true if unmeasured)."""
    depth = ts["queue_depth"]
    if depth.notna().sum() == 0:
        return pd.Series(True, index=ts.index)
    small = depth.le(CALM_DEPTH)
    return small & small.shift(1, fill_value=False) & small.shift(2, fill_value=False)


def drain_mask(ts: pd.DataFrame) -> pd.Series:
    """Intervals after a surge interval until the queue is calm again, plus one (latency lags)."""
    surge = surge_mask(ts).to_numpy()
    depth = ts["queue_depth"].to_numpy(dtype=float)
    have_depth = bool(np.isfinite(depth).any())
    out = np.zeros(len(ts), dtype=bool)
    draining = False
    grace = 0
    for i in range(len(ts)):
        if surge[i]:
            draining, grace = True, 0
            continue
        if draining:
            out[i] = True
            calm = (not have_depth) or (math.isfinite(depth[i]) and depth[i] <= CALM_DEPTH)
            if calm:
                draining, grace = False, 1
            continue
        if grace:
            out[i] = True
            grace -= 1
    return pd.Series(out, index=ts.index)


def steady_mask(ts: pd.DataFrame) -> pd.Series:
    """Intervals of normal operation: sends, no surge phase, not draining a surge's backlog."""
    return active(ts) & ~surge_mask(ts) & ~drain_mask(ts)


def unsaturated_mask(ts: pd.DataFrame) -> pd.Series:
    """Points for latency vs load: sends in the interval and a calm queue."""
    return active(ts) & calm_mask(ts)


@dataclass(frozen=True)
class Errors:
    """Errors over a set of intervals: failed sends ÷ attempted sends."""

    sent: float
    errors: float

    @property
    def ratio(self) -> float | None:
        return self.errors / self.sent if self.sent > 0 else None


def error_ratio(ts: pd.DataFrame, mask: pd.Series | None = None) -> Errors:
    """Failed ÷ attempted sends over the intervals in ``mask`` (all intervals by default).

    ``sent_rate`` counts every send (ok or failed), so the ratio is ``sum(error_rate) / sum(sent_rate)``.
    """
    rows = ts if mask is None else ts[mask]
    sent = float(rows["sent_rate"].fillna(0).sum())
    errors = float(rows["error_rate"].fillna(0).sum())
    return Errors(sent, errors)


def interval_durations(ts: pd.DataFrame, interval_s: float = 1.0) -> pd.Series:
    """Length of each interval in seconds (the first one is taken from its own ``t``)."""
    d = ts["t"].diff()
    if len(ts):
        d.iloc[0] = ts["t"].iloc[0] if ts["t"].iloc[0] > 0 else interval_s
    return d.fillna(interval_s)


def totals(ts: pd.DataFrame, interval_s: float = 1.0) -> dict[str, float]:
    """Messages sent, failed and sent late over the run (rates times interval lengths)."""
    dur = interval_durations(ts, interval_s)
    return {
        "sent": float((ts["sent_rate"].fillna(0) * dur).sum()),
        "errors": float((ts["error_rate"].fillna(0) * dur).sum()),
        "late": float(ts["late_sends"].fillna(0).sum()),
    }
