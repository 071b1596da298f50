"""The comparison report (``capplan compare``): two runs side by side, one self-contained HTML file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup

from capacity.compare import Comparison, latency_points
from capacity.report import fmt, observed
from capacity.report.render import Figure, render_template
from capacity.report.summary import Row
from capacity.report.svg import BLUE, GREY, VERMILLION, figure, legend_below, styled, to_svg
from capacity.runs import Run, write_text_atomic

STYLE_A = {"color": BLUE, "marker": "o", "ls": "-"}
STYLE_B = {"color": VERMILLION, "marker": "s", "ls": "--"}


@styled
def latency_plot(cmp: Comparison, run_a: Run, run_b: Run, slo_ms: float | None) -> str | None:
    metric = cmp.latency.metric
    pa, pb = latency_points(run_a.timeseries, metric), latency_points(run_b.timeseries, metric)
    if len(pa) == 0 and len(pb) == 0:
        return None
    fig, ax = figure(height=3.8)
    for pts, st, name in ((pa, STYLE_A, "A"), (pb, STYLE_B, "B")):
        if len(pts):
            ax.scatter(pts["rate"], pts["p99_ms"], color=st["color"], marker=st["marker"], s=20, alpha=0.55,
                       edgecolors="white", linewidths=0.4, label=f"{name}: one interval")
    if cmp.latency.bins:
        mids = [(b.rate_low + b.rate_high) / 2 for b in cmp.latency.bins]
        ax.plot(mids, [b.p99_a_ms for b in cmp.latency.bins], color=BLUE, ls="-", marker="o", ms=7,
                label="A: bin median")
        ax.plot(mids, [b.p99_b_ms for b in cmp.latency.bins], color=VERMILLION, ls="--", marker="s", ms=7,
                label="B: bin median")
        ax.axvspan(cmp.latency.bins[0].rate_low, cmp.latency.bins[-1].rate_high, color=GREY, alpha=0.1, lw=0,
                   label="common load range")
    if slo_ms:
        ax.axhline(slo_ms, color="#000000", ls="-.", lw=1.3, label=f"SLO p99 {fmt.ms(slo_ms)}")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.set_xlabel("sent rate (messages / s)")
    ax.set_ylabel(f"{observed.metric_label(metric)} p99 (ms)")
    ax.set_title("Latency at common loads")
    legend_below(fig, ax, ncols=2)
    return to_svg(fig, "cmp-latency", "Per-interval p99 against load for both runs")


@styled
def capacity_plot(cmp: Comparison) -> str | None:
    rows = [(label, c) for label, c in (("capacity", cmp.capacity), ("SLO capacity", cmp.slo_capacity))
            if c.a or c.b]
    if not rows:
        return None
    fig, ax = figure(height=1.2 + 0.9 * len(rows))
    for i, (_label, c) in enumerate(rows):
        for est, st, dy, name in ((c.a, STYLE_A, 0.15, "A"), (c.b, STYLE_B, -0.15, "B")):
            if not est:
                continue
            y = len(rows) - 1 - i + dy
            ax.errorbar([est["value"]], [y], xerr=[[est["value"] - est["ci_low"]], [est["ci_high"] - est["value"]]],
                        color=st["color"], marker=st["marker"], ls="none", capsize=4, ms=7,
                        label=f"{name} (95% interval)" if i == 0 else None)
    ax.set_yticks([len(rows) - 1 - i for i in range(len(rows))], [label for label, _ in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(left=0)
    ax.set_xlabel("messages / s")
    ax.grid(axis="y", visible=False)
    ax.set_title("Capacity, A vs B")
    legend_below(fig, ax, ncols=2)
    return to_svg(fig, "cmp-capacity", "Capacity and SLO capacity of both runs with their intervals")


def _est_cells(e: Mapping[str, float] | None) -> list[str]:
    """``[value, 95% interval]`` of an estimate."""
    if not e:
        return [fmt.DASH, ""]
    return [f"{e['value']:.1f}", fmt.interval(e, lambda v: f"{v:.1f}")]


def _model_row(label: str, key: str, ma: Mapping[str, Any] | None, mb: Mapping[str, Any] | None,
               f: Any) -> Row:
    def get(m: Mapping[str, Any] | None) -> str:
        v = m.get(key) if m else None
        if isinstance(v, Mapping):
            v = v.get("value")
        return str(f(v))

    return Row([label, get(ma), "", get(mb), "", "", "", ""])


def context(cmp: Comparison, run_a: Run, run_b: Run, model_a: Mapping[str, Any] | None,
            model_b: Mapping[str, Any] | None) -> dict[str, Any]:
    slo = dict(run_b.meta.get("slo") or run_a.meta.get("slo") or {})
    slo_ms = fmt.num(slo.get("p99_ms"))
    lat = cmp.latency
    lat_a = lat_b = fmt.DASH
    if lat.bins:
        lat_a = fmt.ms(sum(b.p99_a_ms for b in lat.bins) / len(lat.bins))
        lat_b = fmt.ms(sum(b.p99_b_ms for b in lat.bins) / len(lat.bins))
    ratio_ci = f"{lat.ratio_ci[0]:.2f}–{lat.ratio_ci[1]:.2f}x" if lat.ratio_ci else ""
    rows = [  # [label, A, A's interval, B, B's interval, change, change's interval, flag]
        Row(["Capacity (msg/s)", *_est_cells(cmp.capacity.a), *_est_cells(cmp.capacity.b), fmt.pct(cmp.capacity.change),
             "", "regression" if cmp.capacity.regressed else ""]),
        Row(["SLO capacity (msg/s)", *_est_cells(cmp.slo_capacity.a), *_est_cells(cmp.slo_capacity.b),
             fmt.pct(cmp.slo_capacity.change), "", "regression" if cmp.slo_capacity.regressed else ""]),
        Row([f"{observed.metric_label(lat.metric).capitalize()} p99 at common loads", lat_a, "", lat_b, "",
             fmt.pct(lat.ratio - 1) if lat.ratio else fmt.DASH, ratio_ci, "regression" if lat.regressed else ""]),
    ]
    models = [
        _model_row("Consumers", "servers", model_a, model_b, fmt.g),
        _model_row("Service time (ms)", "service_time_s", model_a, model_b,
                   lambda v: fmt.g(v * 1000) if fmt.num(v) is not None else fmt.DASH),
        _model_row("Baseline rate (msg/s)", "baseline_rate", model_a, model_b, fmt.g),
        _model_row("Observed peak (msg/s)", "observed_peak_rate", model_a, model_b, fmt.g),
        _model_row("Headroom", "headroom_ratio", model_a, model_b, fmt.pct),
    ]
    bins = [Row([f"{b.rate_low:.1f}–{b.rate_high:.1f}", f"{b.n_a}", f"{b.n_b}", fmt.ms(b.p99_a_ms),
                 fmt.ms(b.p99_b_ms), f"{b.ratio:.2f}x"]) for b in cmp.latency.bins]
    figures = []
    for key, title, caption, svg, missing in (
        ("cmp-capacity", "Capacity", "Each estimate with its 95% bootstrap interval; a drop counts only when "
         "the intervals separate or the bootstrap of the difference says so.", capacity_plot(cmp),
         "Neither run has a capacity estimate."),
        ("cmp-latency", "Latency at common loads", "Faint points are single intervals with a calm queue; the "
         "lines join the median p99 in each bin of the shaded common load range.",
         latency_plot(cmp, run_a, run_b, slo_ms), "Neither run measured latency in unsaturated intervals."),
    ):
        figures.append(Figure(key, title, caption, Markup(svg) if svg else None, "" if svg else missing))
    return {
        "cmp": cmp, "rows": rows, "models": models, "bins": bins, "figures": figures,
        "run_a": run_a.meta, "run_b": run_b.meta, "folder_a": str(run_a.folder), "folder_b": str(run_b.folder),
    }


def render_html(cmp: Comparison, run_a: Run, run_b: Run, model_a: Mapping[str, Any] | None = None,
                model_b: Mapping[str, Any] | None = None) -> str:
    return render_template("compare.html.j2", **context(cmp, run_a, run_b, model_a, model_b))


def write_html(path: Path, cmp: Comparison, run_a: Run, run_b: Run, model_a: Mapping[str, Any] | None = None,
               model_b: Mapping[str, Any] | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, render_html(cmp, run_a, run_b, model_a, model_b))
    return path
