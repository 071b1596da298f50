"""The SLO verdict of a run: ``pass``, ``at_risk`` or ``fail``, with the reasons in plain sentences.

Pure: a model document (``model.json`` as a dict, or ``None``), the run's interval rows and the SLO in,
a frozen :class:`Verdict` out. The rules, checked in this order (every rule that fires adds a reason;
the worst status wins):

**fail** — the service misses its objectives in normal operation:

1. the observed p99 latency of *steady* intervals exceeds ``slo_p99_ms``. Steady intervals are the
   non-surge phases (baseline, recovery, soak, ...) minus the drain after a surge (see
   :mod:`capacity.report.observed`); the latency is delivery (end-to-end) when the run measured it,
   else request latency. The observed p99 is the 90th percentile of the per-interval p99s, so a
   single noisy interval cannot fail a run but one interval in ten can;
2. the error ratio (failed ÷ attempted sends) of steady intervals exceeds ``slo_error_rate``;
3. the headroom over the observed peak (``model["headroom_ratio"]``) is below ``min_headroom``
   (only when ``min_headroom`` is given).

**at_risk** — normal operation meets the SLO, but a surge would not:

4. the planned surge (``sizing.planned_multiplier``, 3x the baseline by default, for
   ``surge_duration_s``) exhausts the queue limit (the model's ``surge`` row for that multiplier;
   without one, the fluid model :func:`capacity.models.fluid.surge_outcome` from capacity,
   baseline and queue limit);
5. the headroom over the observed peak is negative or below 20% (:data:`AT_RISK_HEADROOM`);
6. the low end of the capacity's 95% interval is below the observed peak;
7. the error ratio during the surge phases exceeds ``slo_error_rate`` (the surge lost messages).

**pass** — none of the above. Without a model only rules 1, 2 and 7 can be checked, and a
reason says so. A rule whose inputs were not measured is skipped (and named in ``reasons``
when that leaves the verdict on thinner evidence).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from capacity.report import observed

Status = Literal["pass", "at_risk", "fail"]

#: headroom over the observed peak below which a run is at risk
AT_RISK_HEADROOM = 0.20
#: the planned surge when the model does not name one
PLANNED_MULTIPLIER = 3.0
#: the surge duration the projections assume when the model does not say
DEFAULT_SURGE_S = 300.0
#: which per-interval p99 stands for "the observed p99" of the steady intervals
STEADY_P99_QUANTILE = 0.90
#: exit codes a command may use for each status
EXIT_CODES: dict[str, int] = {"pass": 0, "at_risk": 4, "fail": 5}


@dataclass(frozen=True)
class Verdict:
    """``status`` is the worst rule that fired; ``reasons`` explain every rule that fired (for a pass:
    what was checked); ``notes`` add context (checks that passed or could not be made)."""

    status: Status
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return {"pass": "Pass", "at_risk": "At risk", "fail": "Fail"}[self.status]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def _num(x: object) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _est(model: Mapping[str, Any], key: str, part: str = "value") -> float | None:
    e = model.get(key)
    return _num(e.get(part)) if isinstance(e, Mapping) else None


def observed_p99(ts: pd.DataFrame, mask: pd.Series, metric: str) -> float | None:
    """The observed p99 over the masked intervals (:data:`STEADY_P99_QUANTILE` of interval p99s)."""
    vals = ts.loc[mask, f"{metric}_p99_ms"].dropna().to_numpy(dtype=float)
    if vals.size == 0:
        return None
    return float(np.quantile(vals, STEADY_P99_QUANTILE))


def planned_surge(model: Mapping[str, Any], queue_limit: float | None = None) -> dict[str, Any] | None:
    """The surge row for the planned multiplier: from the model, else projected with the fluid model."""
    sizing = model.get("sizing") if isinstance(model.get("sizing"), Mapping) else {}
    mult = _num(sizing.get("planned_multiplier")) if sizing else None
    mult = mult or PLANNED_MULTIPLIER
    rows = model.get("surge") or []
    for row in rows:
        if isinstance(row, Mapping) and _num(row.get("multiplier")) is not None \
                and abs(float(row["multiplier"]) - mult) < 1e-9:
            return dict(row)
    cap = _est(model, "capacity_msgs_per_s")
    base = _num(model.get("baseline_rate"))
    limit = _num(model.get("queue_limit")) or _num(queue_limit)
    if cap is None or base is None or cap <= 0 or base < 0:
        return None
    from capacity.models.fluid import surge_outcome

    duration = _num(model.get("surge_duration_s")) or DEFAULT_SURGE_S
    o = surge_outcome(base, mult, duration, cap, limit if limit and limit > 0 else None)
    return {"multiplier": mult, "rate": o.surge_rate, "duration_s": duration, "exhausted": o.exhausted,
            "time_to_exhaust_s": o.time_to_exhaust_s if math.isfinite(o.time_to_exhaust_s) else None,
            "projected_here": True}


def verdict(
    model: Mapping[str, Any] | None,
    timeseries: pd.DataFrame,
    slo_p99_ms: float,
    slo_error_rate: float,
    min_headroom: float | None = None,
    *,
    queue_limit: float | None = None,
) -> Verdict:
    """Judge a run against its SLO (rules in the module docstring). ``queue_limit`` is a fallback
    for models that do not carry one."""
    fails: list[str] = []
    risks: list[str] = []
    notes: list[str] = []
    ts = timeseries
    metric = observed.latency_metric(ts)
    what = observed.metric_label(metric)
    steady = observed.steady_mask(ts)

    # 1. latency in normal operation
    p99 = observed_p99(ts, steady, metric)
    if p99 is None:
        notes.append(f"No steady interval measured {what} latency, so the latency SLO was not checked "
                     "against observed data.")
    elif p99 > slo_p99_ms:
        fails.append(f"Observed {what} p99 in steady phases is {p99:.0f} ms, above the {slo_p99_ms:g} ms "
                     "SLO.")
    else:
        notes.append(f"Observed {what} p99 in steady phases is {p99:.0f} ms, within the {slo_p99_ms:g} ms "
                     "SLO.")

    # 2. errors in normal operation
    err = observed.error_ratio(ts, steady).ratio
    if err is not None and err > slo_error_rate:
        fails.append(f"Error ratio in steady phases is {err:.2%}, above the {slo_error_rate:.2%} SLO.")

    # 7. errors during the surge
    surge_err = observed.error_ratio(ts, observed.surge_mask(ts) & observed.active(ts)).ratio
    if surge_err is not None and surge_err > slo_error_rate:
        risks.append(f"Error ratio during the surge is {surge_err:.2%}, above the {slo_error_rate:.2%} SLO: "
                     "the surge lost messages.")

    if model is None:
        notes.append("No fitted model: headroom and surge projections were not checked.")
    else:
        headroom = _num(model.get("headroom_ratio"))
        peak = _num(model.get("observed_peak_rate"))
        # 3. headroom below the required minimum
        if headroom is not None and min_headroom is not None and headroom < min_headroom:
            fails.append(f"Headroom over the observed peak is {headroom:.0%}, below the required "
                         f"{min_headroom:.0%}.")
        # 5. thin or negative headroom
        if headroom is not None and headroom < AT_RISK_HEADROOM:
            if headroom < 0:
                risks.append(f"The observed peak exceeded capacity (headroom {headroom:.0%}): the queue "
                             "grows at that load.")
            else:
                risks.append(f"Headroom over the observed peak is only {headroom:.0%} (below "
                             f"{AT_RISK_HEADROOM:.0%}).")
        # 6. the capacity interval reaches below the peak
        low = _est(model, "capacity_msgs_per_s", "ci_low")
        if low is not None and peak is not None and low < peak and (headroom is None or headroom >= 0):
            risks.append(f"The capacity's 95% interval starts at {low:.1f} msg/s, below the observed peak of "
                         f"{peak:.1f} msg/s.")
        # 4. the planned surge against the queue limit
        row = planned_surge(model, queue_limit)
        if row and row.get("exhausted"):
            mult = _num(row.get("multiplier")) or PLANNED_MULTIPLIER
            dur = _num(row.get("duration_s"))
            tte = _num(row.get("time_to_exhaust_s"))
            when = f" after {tte:.0f} s" if tte is not None else ""
            risks.append(f"A planned {mult:g}x surge" + (f" lasting {dur:.0f} s" if dur else "")
                         + f" fills the queue limit{when}.")
        elif row is None:
            notes.append("The planned surge could not be projected (no baseline rate or capacity).")
        if headroom is not None and not fails and not risks:
            notes.append(f"Headroom over the observed peak is {headroom:.0%}.")

    if fails or risks:
        return Verdict("fail" if fails else "at_risk", fails + risks, notes)
    return Verdict("pass", notes, [])
