"""Report plots: matplotlib figures rendered to inline SVG strings (no files, no network).

Every function takes the run (and the model document when it needs one) and returns SVG, or
``None`` when the data cannot support the plot (the report then says why). Colour is never the
only cue: each series also has its own line style or marker, and the legend names it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from capacity.report import observed
from capacity.report.svg import (
    BLACK,
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PURPLE,
    SKY,
    VERMILLION,
    YELLOW,
    figure,
    legend_below,
    styled,
    to_svg,
)
from capacity.runs import Run

PHASE_FILL = {"ramp": YELLOW, "ramp-down": YELLOW, "surge": ORANGE, "spike": ORANGE}


# -- helpers ---------------------------------------------------------------------------------------

def _num(x: object) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def estimate(model: Mapping[str, Any] | None, key: str, part: str = "value") -> float | None:
    if not model:
        return None
    e = model.get(key)
    return _num(e.get(part)) if isinstance(e, Mapping) else None


def queue_limit(run: Run, model: Mapping[str, Any] | None) -> float | None:
    lim = _num(model.get("queue_limit")) if model else None
    return lim if lim is not None else _num(run.meta.get("queue_limit"))


def _phases(run: Run) -> list[tuple[str, float, float]]:
    out = []
    for item in (run.meta.get("shape") or {}).get("phases") or []:
        try:
            name, start, end = item
            out.append((str(name), float(start), float(end)))
        except (TypeError, ValueError):
            continue
    return out


def shade_phases(ax: Axes, run: Run, label: bool = False) -> None:
    """Shade surge-like phases; with ``label``, name every phase along the top of the axes."""
    for name, start, end in _phases(run):
        color = PHASE_FILL.get(name)
        if color:
            ax.axvspan(start, end, color=color, alpha=0.18, lw=0, zorder=0)
        if label and end > start:
            ax.text((start + end) / 2, 1.0, short(name, 12), transform=ax.get_xaxis_transform(), ha="center",
                    va="bottom", fontsize=9.5, color=GREY, clip_on=False, parse_math=False)


def short(text: str, limit: int) -> str:
    """Run-provided text for a plot, cut to ``limit`` characters so it cannot crowd out the axes."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _finite(ts: pd.DataFrame, *cols: str) -> pd.DataFrame:
    return ts.dropna(subset=list(cols))


def _ms(v: float, _pos: object = None) -> str:
    if v >= 1000:
        return f"{v / 1000:g} s"
    return f"{v:g} ms"


def _ms_minor(ax: Axes) -> FuncFormatter:
    """Label the 2x and 5x minor ticks of a log axis that spans too little to show many major ticks."""

    def label(v: float, _pos: object = None) -> str:
        lo, hi = ax.get_ylim()
        if v <= 0 or lo <= 0 or hi / lo > 30:
            return ""
        mantissa = round(v / 10 ** math.floor(math.log10(v)), 6)
        return _ms(v) if mantissa in (2.0, 5.0) else ""

    return FuncFormatter(label)


# -- rates ------------------------------------------------------------------------------------------

@styled
def rates(run: Run) -> str | None:
    """Offered (target) vs sent vs processed rate over time, phases shaded and named."""
    ts = run.timeseries
    if ts["sent_rate"].notna().sum() == 0:
        return None
    fig, ax = figure(height=3.7)
    shade_phases(ax, run, label=True)
    d = _finite(ts, "target_rate")
    ax.plot(d["t"], d["target_rate"], color=BLACK, ls="--", lw=1.4, label="offered (target)")
    d = _finite(ts, "sent_rate")
    ax.plot(d["t"], d["sent_rate"], color=BLUE, marker="o", markevery=3, label="sent")
    if ts["processed_rate"].notna().any():
        d = _finite(ts, "processed_rate")
        ax.plot(d["t"], d["processed_rate"], color=GREEN, ls="-.", marker="^", markevery=3, label="processed")
    if ts["error_rate"].fillna(0).gt(0).any():
        d = _finite(ts, "error_rate")
        ax.plot(d["t"], d["error_rate"], color=PURPLE, ls=":", marker="x", label="errors")
    ax.set_ylabel("messages / s")
    ax.set_xlabel("seconds since start")
    ax.set_ylim(bottom=0)
    legend_below(fig, ax, ncols=4)
    target = str(run.meta.get("target") or "")
    ax.set_title(f"Rates at {short(target, 44)}" if target else "Rates", pad=16, parse_math=False)
    return to_svg(fig, "rates", "Offered, sent and processed messages per second over time")


# -- queue depth ---------------------------------------------------------------------------------------

def projection(run: Run, capacity: float, limit: float | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Fluid-model backlog for the offered rate at ``capacity`` (None when there is nothing to project)."""
    from capacity.models.fluid import backlog_trajectory

    d = _finite(run.timeseries, "t", "target_rate").drop_duplicates(subset="t")
    d = d[d["t"].diff().fillna(1.0) > 0]
    if len(d) < 2 or capacity <= 0:
        return None
    path = backlog_trajectory(d["t"].to_numpy(float), arrival_rate=d["target_rate"].to_numpy(float),
                              capacity=capacity, limit=limit)
    return np.asarray(path.t), np.asarray(path.backlog)


@styled
def queue_depth(run: Run, model: Mapping[str, Any] | None) -> str | None:
    """Observed queue depth with the fluid-model projection (and its capacity band) and the queue limit."""
    ts = run.timeseries
    if ts["queue_depth"].notna().sum() == 0:
        return None
    fig, ax = figure(height=3.5)
    shade_phases(ax, run)
    limit = queue_limit(run, model)
    cap = estimate(model, "capacity_msgs_per_s")
    top = float(ts["queue_depth"].max())
    if cap:
        lo = estimate(model, "capacity_msgs_per_s", "ci_low")
        hi = estimate(model, "capacity_msgs_per_s", "ci_high")
        if lo and hi:
            slow, fast = projection(run, lo, limit), projection(run, hi, limit)
            if slow and fast:
                ax.fill_between(slow[0], fast[1], slow[1], color=BLUE, alpha=0.15, lw=0,
                                label="projection, capacity 95% CI")
                top = max(top, float(slow[1].max()))
        mid = projection(run, cap, limit)
        if mid:
            ax.plot(mid[0], mid[1], color=BLUE, ls="--", label=f"fluid model at {cap:.0f} msg/s")
            top = max(top, float(mid[1].max()))
    d = _finite(ts, "queue_depth")
    ax.plot(d["t"], d["queue_depth"], color=VERMILLION, marker="o", markevery=2, label="observed depth")
    top = max(top, 1.0)
    if limit:
        if limit <= 1.5 * top:
            ax.axhline(limit, color=BLACK, ls="-.", lw=1.4, label=f"queue limit {limit:,.0f}")
        else:
            ax.set_ylim(0, top * 1.25)
            ax.annotate(f"queue limit {limit:,.0f} is above this scale ↑", xy=(0.99, 0.97),
                        xycoords="axes fraction", ha="right", va="top", fontsize=9, color=BLACK,
                        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": BLACK, "lw": 0.8})
    ax.set_ylim(bottom=0)
    ax.set_ylabel("messages in queue")
    ax.set_xlabel("seconds since start")
    legend_below(fig, ax, ncols=2)
    ax.set_title("Queue depth, observed and projected")
    return to_svg(fig, "depth", "Queue depth over time with the fluid-model projection and the queue limit")


# -- latency over time -----------------------------------------------------------------------------------

_PCT_STYLE = {"p50": (SKY, ":", "s"), "p95": (ORANGE, "--", "^"), "p99": (VERMILLION, "-", "o")}


def _latency_panel(ax: Axes, run: Run, metric: str, slo_ms: float | None, title: str) -> bool:
    ts = run.timeseries
    drawn = False
    for pct, (color, ls, marker) in _PCT_STYLE.items():
        col = f"{metric}_{pct}_ms"
        d = ts[(ts[col] > 0)]
        if len(d):
            ax.plot(d["t"], d[col], color=color, ls=ls, marker=marker, markevery=3, label=pct)
            drawn = True
    if not drawn:
        ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center", va="center", color=GREY)
        ax.set_title(title)
        return False
    if slo_ms:
        ax.axhline(slo_ms, color=BLACK, ls="-.", lw=1.3, label=f"SLO p99 {_ms(slo_ms)}")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(_ms))
    ax.yaxis.set_minor_formatter(_ms_minor(ax))
    ax.set_title(title)
    return True


@styled
def latency_over_time(run: Run, slo_ms: float | None, slo_metric: str) -> str | None:
    """Request and delivery (end-to-end) latency percentiles over time (log scale), SLO marked."""
    ts = run.timeseries
    have = [m for m in ("req", "e2e") if ts[f"{m}_p99_ms"].notna().any()]
    if not have:
        return None
    fig, axes = figure(nrows=len(have), height=2.9 * len(have), sharex=True)
    axes = list(np.atleast_1d(axes))
    for ax, metric in zip(axes, have, strict=True):
        shade_phases(ax, run)
        name = "Delivery (end-to-end) latency" if metric == "e2e" else "Request latency"
        _latency_panel(ax, run, metric, slo_ms if metric == slo_metric else None, name)
        ax.set_ylabel("latency")
    axes[-1].set_xlabel("seconds since start")
    legend_below(fig, axes, ncols=4)
    return to_svg(fig, "latency", "Latency percentiles over time")


# -- latency vs load ---------------------------------------------------------------------------------------

def _curve(model: Mapping[str, Any] | None) -> dict[str, np.ndarray] | None:
    c = model.get("latency_curve") if model else None
    if not isinstance(c, Mapping) or not c.get("rate"):
        return None
    out = {}
    for key in ("rate", "p50_ms", "p99_ms", "p99_ms_low", "p99_ms_high"):
        vals = c.get(key)
        if isinstance(vals, Sequence) and len(vals) == len(c["rate"]):
            out[key] = np.array([np.nan if v is None else float(v) for v in vals], dtype=float)
    return out if "p99_ms" in out else None


@styled
def latency_vs_load(run: Run, model: Mapping[str, Any] | None, slo_ms: float | None,
                    metric: str) -> str | None:
    """The hockey stick: per-interval p99 vs sent rate (unsaturated), the model curve, band, SLO, capacity."""
    ts = run.timeseries
    col = f"{metric}_p99_ms"
    pts = ts[observed.unsaturated_mask(ts) & ts[col].gt(0) & ts["sent_rate"].notna()]
    curve = _curve(model)
    if len(pts) == 0 and curve is None:
        return None
    fig, ax = figure(height=3.8)
    ymax = float(pts[col].max()) if len(pts) else 0.0
    xmax = float(pts["sent_rate"].max()) if len(pts) else 0.0
    if curve is not None:
        r = curve["rate"]
        if "p99_ms_low" in curve and "p99_ms_high" in curve:
            ax.fill_between(r, curve["p99_ms_low"], curve["p99_ms_high"], color=BLUE, alpha=0.15, lw=0,
                            label="model p99, 95% band")
        ax.plot(r, curve["p99_ms"], color=BLUE, label="model p99")
        if "p50_ms" in curve:
            ax.plot(r, curve["p50_ms"], color=SKY, ls=":", label="model p50")
        xmax = max(xmax, float(np.nanmax(r)))
    if len(pts):
        ax.scatter(pts["sent_rate"], pts[col], color=VERMILLION, marker="o", s=22, zorder=3,
                   edgecolors="white", linewidths=0.5, label="observed p99 (one interval)")
    cap = estimate(model, "capacity_msgs_per_s")
    if cap:
        lo = estimate(model, "capacity_msgs_per_s", "ci_low")
        hi = estimate(model, "capacity_msgs_per_s", "ci_high")
        if lo and hi:
            ax.axvspan(lo, hi, color=GREY, alpha=0.12, lw=0)
        ax.axvline(cap, color=GREY, ls=(0, (1, 1)), lw=1.4, label=f"capacity {cap:.0f} msg/s")
        xmax = max(xmax, hi or cap)
    slo_cap = estimate(model, "slo_capacity_msgs_per_s")
    if slo_cap:
        ax.axvline(slo_cap, color=GREEN, ls="--", lw=1.4, label=f"SLO capacity {slo_cap:.0f} msg/s")
    if slo_ms:
        ax.axhline(slo_ms, color=BLACK, ls="-.", lw=1.3, label=f"SLO p99 {_ms(slo_ms)}")
        ymax = max(ymax, slo_ms)
    ax.set_xlim(0, max(xmax, 1.0) * 1.05)
    ax.set_ylim(0, max(ymax, 1.0) * 1.35)
    ax.yaxis.set_major_formatter(FuncFormatter(_ms))
    ax.set_xlabel("arrival rate (messages / s)")
    ax.set_ylabel(f"{observed.metric_label(metric)} p99")
    legend_below(fig, ax, ncols=2)
    ax.set_title("Latency vs load")
    return to_svg(fig, "hockey", "Latency against load: observed points, model curve and the SLO")


# -- consumers vs SLO capacity ------------------------------------------------------------------------------

def slo_rate(c: int, mu: float, slo_s: float, q: float = 0.99) -> float:
    """Largest arrival rate with an M/M/c ``q``-quantile response time within ``slo_s`` (0 if none)."""
    from scipy.optimize import brentq

    from capacity.models.erlang import response_percentile

    cap = c * mu
    lo, hi = 1e-9 * cap, cap * (1 - 1e-9)
    if response_percentile(lo, mu, c, q) > slo_s:
        return 0.0
    if response_percentile(hi, mu, c, q) <= slo_s:
        return hi
    return float(brentq(lambda x: response_percentile(x, mu, c, q) - slo_s, lo, hi, xtol=1e-6 * cap))


def servers_and_mu(model: Mapping[str, Any] | None) -> tuple[int, float] | None:
    servers = estimate(model, "servers")
    st = estimate(model, "service_time_s")
    cap = estimate(model, "capacity_msgs_per_s")
    if not servers or servers < 1:
        return None
    c = int(round(servers))
    if st and st > 0:
        return c, 1.0 / st
    if cap:
        return c, cap / c
    return None


def what_if_consumers(model: Mapping[str, Any] | None, slo_ms: float | None,
                      span: int = 4) -> list[tuple[int, float]] | None:
    """``(c, largest rate meeting the SLO)`` for consumer counts around the fitted ones (M/M/c)."""
    sm = servers_and_mu(model)
    if sm is None or not slo_ms:
        return None
    c0, mu = sm
    planned = _planned_rate(model)
    c_hi = c0 + span
    if planned:
        c_hi = max(c_hi, min(int(math.ceil(planned / mu)) + 3, c0 + 40))
    return [(c, slo_rate(c, mu, slo_ms / 1000)) for c in range(max(1, c0 - span), c_hi + 1)]


def _planned_rate(model: Mapping[str, Any] | None) -> float | None:
    if not model:
        return None
    base = _num(model.get("baseline_rate"))
    sizing = model.get("sizing") if isinstance(model.get("sizing"), Mapping) else {}
    mult = _num((sizing or {}).get("planned_multiplier")) or 3.0
    return base * mult if base else None


@styled
def consumers(model: Mapping[str, Any] | None, slo_ms: float | None) -> str | None:
    """What-if: SLO capacity against the number of consumers, with the observed peak and planned surge."""
    rows = what_if_consumers(model, slo_ms)
    sm = servers_and_mu(model)
    if not rows or sm is None or model is None:
        return None
    c0, mu = sm
    cs = np.array([c for c, _ in rows])
    caps = np.array([r for _, r in rows])
    fig, ax = figure(height=3.6)
    ax.plot(cs, cs * mu, color=GREY, ls=":", marker=".", label="raw capacity c·μ")
    ax.plot(cs, caps, color=GREEN, marker="o", label="SLO capacity (M/M/c)")
    here = caps[cs == c0]
    if here.size:
        ax.plot([c0], here, marker="*", ms=15, color=GREEN, mec=BLACK, ls="none",
                label=f"today: {c0} consumers")
    peak = _num(model.get("observed_peak_rate"))
    if peak:
        ax.axhline(peak, color=BLACK, ls="--", lw=1.3, label=f"observed peak {peak:.0f} msg/s")
    planned = _planned_rate(model)
    if planned:
        sizing = model.get("sizing") if isinstance(model.get("sizing"), Mapping) else {}
        mult = _num((sizing or {}).get("planned_multiplier")) or 3.0
        ax.axhline(planned, color=VERMILLION, ls="-.", lw=1.3,
                   label=f"planned {mult:g}x surge {planned:.0f} msg/s")
    ax.set_xlabel("consumers")
    ax.set_ylabel("messages / s")
    ax.set_ylim(bottom=0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    legend_below(fig, ax, ncols=2)
    ax.set_title("Consumers vs the rate that meets the SLO")
    return to_svg(fig, "consumers", "Largest rate meeting the SLO for each number of consumers")
