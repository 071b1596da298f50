"""Report plots: matplotlib figures rendered to inline SVG strings (no files, no network)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from capacity.runs import Run  # noqa: E402

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
COLORS = {"target": "#000000", "sent": "#0072B2", "processed": "#009E73", "depth": "#D55E00",
          "error": "#CC79A7", "p50": "#56B4E9", "p95": "#E69F00", "p99": "#D55E00", "slo": "#999999"}
PHASE_FILL = {"ramp": "#F0E442", "surge": "#E69F00", "ramp-down": "#F0E442", "spike": "#E69F00"}


def to_svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE so it can sit inline


def shade_phases(ax: plt.Axes, run: Run) -> None:
    for name, start, end in run.meta.get("shape", {}).get("phases", []):
        color = PHASE_FILL.get(str(name))
        if color:
            ax.axvspan(float(start), float(end), color=color, alpha=0.15, lw=0)


def rates_and_depth(run: Run) -> str:
    """Offered, sent and processed rate (top) and queue depth (bottom) over time, phases shaded."""
    ts = run.timeseries
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, constrained_layout=True)
    shade_phases(ax1, run)
    ax1.plot(ts["t"], ts["target_rate"], color=COLORS["target"], ls="--", lw=1.2, label="offered (target)")
    ax1.plot(ts["t"], ts["sent_rate"], color=COLORS["sent"], lw=1.5, label="sent")
    if ts["processed_rate"].notna().any():
        ax1.plot(ts["t"], ts["processed_rate"], color=COLORS["processed"], lw=1.5, label="processed")
    if ts["error_rate"].fillna(0).gt(0).any():
        ax1.plot(ts["t"], ts["error_rate"], color=COLORS["error"], lw=1.2, label="errors")
    ax1.set_ylabel("messages / s")
    ax1.legend(loc="upper left", fontsize=8, ncols=4)
    ax1.grid(alpha=0.3)
    shade_phases(ax2, run)
    ax2.plot(ts["t"], ts["queue_depth"], color=COLORS["depth"], lw=1.8, label="queue depth")
    limit = run.meta.get("queue_limit")
    if limit:
        top = max(float(ts["queue_depth"].max() or 0), 1.0)
        if float(limit) <= 3 * top:
            ax2.axhline(float(limit), color=COLORS["error"], ls=":", lw=1.2, label=f"queue limit {limit}")
    ax2.set_ylabel("messages in queue")
    ax2.set_xlabel("seconds since start")
    ax2.legend(loc="upper left", fontsize=8)
    ax2.grid(alpha=0.3)
    return to_svg(fig)
