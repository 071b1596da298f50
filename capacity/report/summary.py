"""What the report says, as plain rows of text: headline tiles, tables and warnings.

Built from a run and its model document (``model.json``; any key may be missing or null while
the fitter cannot estimate it, and the model itself may be missing). Everything is text here;
the template escapes all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from capacity.report import fmt, observed
from capacity.runs import Run
from capacity.verdict import PLANNED_MULTIPLIER, Verdict, planned_surge


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    detail: str = ""
    missing: bool = False


@dataclass(frozen=True)
class Row:
    cells: list[str]
    highlight: bool = False
    flag: str = ""


@dataclass(frozen=True)
class Warning:
    source: str
    text: str
    details: list[str] = field(default_factory=list)


def _get(model: Mapping[str, Any] | None, key: str) -> Any:
    return model.get(key) if model else None


def _est(model: Mapping[str, Any] | None, key: str, part: str = "value") -> float | None:
    e = _get(model, key)
    return fmt.num(e.get(part)) if isinstance(e, Mapping) else None


def _sizing(model: Mapping[str, Any] | None) -> Mapping[str, Any]:
    s = _get(model, "sizing")
    return s if isinstance(s, Mapping) else {}


def planned_multiplier(model: Mapping[str, Any] | None) -> float:
    return fmt.num(_sizing(model).get("planned_multiplier")) or PLANNED_MULTIPLIER


def slo_of(run: Run, model: Mapping[str, Any] | None) -> dict[str, Any]:
    """The SLO: the model's when it has one, else the run's (p99 in ms, error ratio, metric)."""
    slo: dict[str, Any] = dict(run.meta.get("slo") or {})
    m = _get(model, "slo")
    if isinstance(m, Mapping):
        slo.update({k: v for k, v in m.items() if v is not None})
    slo.setdefault("p99_ms", 500.0)
    slo.setdefault("error_rate", 0.01)
    if slo.get("metric") not in ("e2e", "req", "request"):
        slo["metric"] = observed.latency_metric(run.timeseries)
    if slo["metric"] == "request":
        slo["metric"] = "req"
    return slo


# -- the first screen -------------------------------------------------------------------------------------

def _ci(e: object) -> str:
    if not isinstance(e, Mapping):
        return "not estimated"
    return f"95% CI {fmt.interval(e, lambda v: fmt.rate(v).removesuffix(' msg/s'), ' msg/s')}"


def tiles(run: Run, model: Mapping[str, Any] | None, slo: Mapping[str, Any]) -> list[Tile]:
    cap = _get(model, "capacity_msgs_per_s")
    out = [Tile("Capacity", fmt.rate(_est(model, "capacity_msgs_per_s")), _ci(cap),
                missing=_est(model, "capacity_msgs_per_s") is None)]
    head = fmt.num(_get(model, "headroom_ratio"))
    peak = fmt.num(_get(model, "observed_peak_rate"))
    if peak is None:
        peak = fmt.num(run.timeseries["sent_rate"].max())
    over = " (exceeded capacity)" if head is not None and head < 0 else ""
    out.append(Tile("Headroom over the peak", fmt.pct(head), f"observed peak {fmt.rate(peak)}{over}",
                    missing=head is None))
    slo_cap = _get(model, "slo_capacity_msgs_per_s")
    slo_val = _est(model, "slo_capacity_msgs_per_s")
    out.append(Tile(f"SLO capacity (p99 ≤ {fmt.ms(slo.get('p99_ms'))})", fmt.rate(slo_val), _ci(slo_cap),
                    missing=slo_val is None))
    out.append(_absorbed_tile(model))
    out.append(_consumers_tile(model))
    return out


def _limit_text(model: Mapping[str, Any] | None) -> str:
    lim = fmt.num(_get(model, "queue_limit"))
    return f"the {fmt.count(lim)}-message queue limit" if lim else "the queue limit"


def _absorbed_tile(model: Mapping[str, Any] | None) -> Tile:
    label = "Largest surge absorbed"
    las = _get(model, "largest_absorbed_surge")
    if isinstance(las, Mapping) and fmt.num(las.get("multiplier")):
        mult = fmt.num(las.get("multiplier"))
        dur = fmt.num(las.get("duration_s"))
        longest = fmt.num(las.get("max_duration_s"))
        detail = f"stays under {_limit_text(model)}"
        if longest is not None:
            detail += f"; {mult:g}x fills it after {fmt.duration(longest)}"
        elif "max_duration_s" in las:
            detail += f"; {mult:g}x never fills it"
        return Tile(label, f"{mult:g}x for {fmt.duration(dur)}", detail)
    rows = _get(model, "surge") or []
    if model is not None and rows and las is None and "largest_absorbed_surge" in model:
        return Tile(label, "none", f"every projected surge fills {_limit_text(model)}")
    return Tile(label, fmt.DASH, "not projected (needs a baseline rate and a queue limit)", missing=True)


def _consumers_tile(model: Mapping[str, Any] | None) -> Tile:
    sizing = _sizing(model)
    mult = planned_multiplier(model)
    label = f"Consumers for a {mult:g}x surge"
    need = fmt.num(sizing.get("consumers_needed"))
    now = fmt.num(sizing.get("current_servers"))
    if now is None:
        now = _est(model, "servers")
    base = fmt.num(_get(model, "baseline_rate"))
    rate = f"{mult:g}x baseline = {fmt.rate(base * mult)}" if base else ""
    if need is None:
        return Tile(label, fmt.DASH, "not estimated (needs fitted consumers and service time)", missing=True)
    today = f"today {fmt.count(now)}" if now is not None else ""
    return Tile(label, fmt.count(need), "; ".join(x for x in (today, rate) if x))


# -- tables -----------------------------------------------------------------------------------------------

SURGE_HEAD = ["Surge", "Rate (msg/s)", "Backlog growth (msg/s)", "Peak backlog (msgs)", "Time to limit",
              "Rejected (msgs)", "Drain time", "Longest absorbed", "Consumers needed"]


def surge_rows(model: Mapping[str, Any] | None) -> list[Row]:
    rows = _get(model, "surge") or []
    planned = planned_multiplier(model)
    out = []
    for r in rows:
        if not isinstance(r, Mapping):
            continue
        mult = fmt.num(r.get("multiplier"))
        out.append(Row([
            f"{mult:g}x" if mult is not None else fmt.DASH,
            fmt.g(r.get("rate")),
            fmt.g(r.get("growth_rate")),
            fmt.count(r.get("peak_backlog")),
            fmt.duration(r.get("time_to_exhaust_s"), none="never"),
            fmt.count(r.get("rejected")),
            fmt.duration(r.get("drain_time_s"), none="never" if "drain_time_s" in r else fmt.DASH),
            fmt.duration(r.get("max_duration_s"), none="unlimited" if "max_duration_s" in r else fmt.DASH),
            fmt.count(r.get("consumers_needed")),
        ], highlight=mult is not None and abs(mult - planned) < 1e-9,
            flag="fills the limit" if r.get("exhausted") else ""))
    return out


def parameter_rows(model: Mapping[str, Any] | None, slo: Mapping[str, Any]) -> list[Row]:
    """Rows of ``[name, note, estimate, 95% interval]``."""
    if not model:
        return []

    def est(label: str, key: str, f: Any, unit: str = "", note: str = "") -> Row:
        e = model.get(key)
        v = e.get("value") if isinstance(e, Mapping) else None
        shown = f(v)
        return Row([label, note, shown + unit if shown != fmt.DASH else shown,
                    fmt.interval(e, f, unit) if isinstance(e, Mapping) else fmt.DASH])

    def ms(v: object) -> str:
        n = fmt.num(v)
        return f"{n * 1000:.3g}" if n is not None else fmt.DASH

    def plain(label: str, value: str, note: str = "") -> Row:
        return Row([label, note, value, ""])

    return [
        est("Capacity c·μ", "capacity_msgs_per_s", fmt.g, " msg/s", "from saturated intervals"),
        est("SLO capacity", "slo_capacity_msgs_per_s", fmt.g, " msg/s",
            f"largest rate with p99 ≤ {fmt.ms(slo.get('p99_ms'))}"),
        est("Consumers c", "servers", fmt.g, "", "from the latency curve"),
        est("Service time 1/μ", "service_time_s", ms, " ms"),
        est("Service-time SCV", "service_scv", fmt.g, "", "1 = exponential"),
        plain("Arrival SCV", fmt.g(model.get("arrival_scv")), "1 = Poisson, 0 = evenly spaced"),
        plain("Baseline rate", fmt.rate(model.get("baseline_rate")), "median of baseline and recovery"),
        plain("Observed peak", fmt.rate(model.get("observed_peak_rate")), "highest sent rate"),
        plain("Highest measured load", fmt.rate(model.get("max_measured_rate")),
              "highest rate with latency measured unsaturated"),
        plain("Headroom", fmt.pct(model.get("headroom_ratio")), "capacity ÷ observed peak − 1"),
        plain("Queue limit", fmt.count(model.get("queue_limit")), "for exhaustion projections"),
        plain("Planned surge duration", fmt.duration(model.get("surge_duration_s")),
              "the projections assume it"),
    ]


_FQ_LABELS = {
    "saturated_intervals": "Saturated intervals (capacity)",
    "unsaturated_intervals": "Unsaturated intervals (latency curve)",
    "latency_rmse_ms": "Latency RMSE",
    "latency_rmse_log": "Latency RMSE (log scale)",
}


def fit_quality_rows(model: Mapping[str, Any] | None) -> list[Row]:
    fq = _get(model, "fit_quality")
    if not isinstance(fq, Mapping):
        return []
    out = []
    for key, v in fq.items():
        if key == "validation":
            if not isinstance(v, Mapping):
                out.append(Row(["Out-of-sample check", "not enough load levels to hold some out"]))
                continue
            mape = fmt.num(v.get("mape"))
            train = fmt.num(v.get("train_max_rate"))
            tests = v.get("test_rates") or []
            text = (f"fitted up to {fmt.rate(train)}, tested at {len(tests)} higher load(s): "
                    f"mean absolute error {fmt.pct(mape, signed=False)}")
            out.append(Row(["Out-of-sample check", text]))
        elif key == "extrapolation_ratio":
            out.append(Row(["Extrapolation", f"projections reach {fmt.g(v)}x the highest measured load"
                            if fmt.num(v) else fmt.DASH]))
        elif key == "latency_rmse_ms":
            out.append(Row([_FQ_LABELS[key], fmt.ms(v)]))
        else:
            out.append(Row([_FQ_LABELS.get(key, fmt.humanize(key)), fmt.value(v)]))
    return out


def warnings(run: Run, model: Mapping[str, Any] | None, fit_error: str | None) -> list[Warning]:
    """The model's warnings, then what the run folder itself shows (unless the model already said it)."""
    out: list[Warning] = []
    if fit_error:
        out.append(Warning("fit", f"No model could be fitted: {fit_error}"))
    model_says = [str(w) for w in _get(model, "warnings") or []]
    said = " ".join(model_says).lower()
    gap_details = _gap_details(run)
    for w in model_says:
        out.append(Warning("model", w, gap_details if "gaps.csv" in w else []))
    ended = str(run.meta.get("ended", ""))
    if ended and ended != "completed":
        out.append(Warning("run", f"The run ended as {ended!r}, not completed: the data covers part of the "
                                  "shape."))
    if len(run.gaps) and "gaps.csv" not in said:
        out.append(Warning("gaps.csv", f"{len(run.gaps)} queue-depth sample(s) failed; those intervals are "
                                       "gaps.", gap_details))
    tot = observed.totals(run.timeseries, run.interval_s)
    if tot["late"] > 0 and tot["sent"] > 0 and "later than scheduled" not in said:
        out.append(Warning("run", f"{tot['late']:,.0f} send(s) ({tot['late'] / tot['sent']:.1%}) left later "
                                  "than scheduled; latency is measured from the scheduled time."))
    if tot["errors"] > 0 and "sends failed" not in said and "send(s) failed" not in said:
        share = tot["errors"] / tot["sent"] if tot["sent"] else None
        out.append(Warning("run", f"About {tot['errors']:,.0f} send(s) failed ({fmt.ratio(share)} of all "
                                  "sends)."))
    return out


def _gap_details(run: Run) -> list[str]:
    gaps = run.gaps
    if not len(gaps):
        return []
    reasons = gaps.groupby(["source", "reason"], dropna=False).size().sort_values(ascending=False)
    details = [f"{n}× {src}: {reason}" for (src, reason), n in reasons.head(8).items()]
    if len(reasons) > 8:
        details.append(f"… and {len(reasons) - 8} other reasons")
    return details


_IN_FACTS = {"target", "run_id", "scenario"}


def settings_rows(run: Run) -> list[Row]:
    meta = run.meta
    rows = [Row([fmt.humanize(k), fmt.value(v)]) for k, v in run.settings.items() if k not in _IN_FACTS]
    for key in ("sources", "demo", "versions"):
        if meta.get(key):
            rows.append(Row([fmt.humanize(key), fmt.value(meta[key])]))
    if not run.settings:
        rows += [Row([fmt.humanize(k), fmt.value(v)]) for k, v in meta.items()
                 if k not in ("shape", "sources", "demo", "versions", "settings") and k not in _IN_FACTS]
    return rows


def run_facts(run: Run) -> list[Row]:
    meta = run.meta
    shape = meta.get("shape") or {}
    params = shape.get("params") or {}
    return [
        Row(["Run", str(meta.get("run_id") or run.folder.name)]),
        Row(["Scenario", str(meta.get("scenario") or shape.get("name") or fmt.DASH)
             + (" (" + ", ".join(f"{fmt.humanize(k).lower()} {fmt.value(v)}" for k, v in params.items()) + ")"
                if isinstance(params, Mapping) and params else "")]),
        Row(["Target", str(meta.get("target") or fmt.DASH)]),
        Row(["Started", str(meta.get("start") or fmt.DASH)]),
        Row(["Ended", f"{meta.get('end') or fmt.DASH} ({meta.get('ended') or 'unknown'})"]),
        Row(["Intervals", f"{len(run.timeseries)} × {fmt.g(run.interval_s)} s"]),
    ]


def verdict_for(run: Run, model: Mapping[str, Any] | None, slo: Mapping[str, Any]) -> Verdict:
    from capacity.verdict import verdict

    lim = fmt.num(run.meta.get("queue_limit"))
    min_headroom = (run.meta.get("slo") or {}).get("min_headroom")
    return verdict(model, run.timeseries, float(slo["p99_ms"]), float(slo["error_rate"]),
                   None if min_headroom is None else float(min_headroom), queue_limit=lim)


def planned_surge_row(model: Mapping[str, Any] | None, run: Run) -> dict[str, Any] | None:
    return planned_surge(model, fmt.num(run.meta.get("queue_limit"))) if model else None
