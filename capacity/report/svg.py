"""Matplotlib -> inline SVG: the house style (Okabe-Ito colours, line styles) and the SVG clean-up.

Text stays text (``svg.fonttype = none``): matplotlib escapes it as XML, so a run's strings can
appear in a plot without becoming markup. Each figure's element ids get a prefix of their own,
so several figures can sit in one HTML page without one figure's clip paths clipping another.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#6E6E6E"

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "capplan",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 11.5,
    "axes.titlesize": 11.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10.5,
    "legend.fontsize": 10,
    "legend.framealpha": 0.9,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.8,
    "lines.markersize": 4.5,
    "figure.dpi": 72,
}

_ID = re.compile(r'\bid="([^"]+)"')
WIDTH_IN = 5.8

P = ParamSpec("P")
R = TypeVar("R")


def styled(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a plotting function under the house style (without touching the global rcParams)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context(STYLE):  # type: ignore[arg-type]
            return fn(*args, **kwargs)

    return wrapper


def figure(nrows: int = 1, height: float = 3.6, width: float = WIDTH_IN, **kw: Any) -> tuple[Figure, Any]:
    fig, axes = plt.subplots(nrows, 1, figsize=(width, height), layout="constrained", **kw)
    return fig, axes


def legend_below(fig: Figure, axes: Any, ncols: int = 3) -> None:
    """One legend for the figure, under the plot, so it never hides data."""
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes if isinstance(axes, list | tuple) else [axes]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels and not lab.startswith("_"):
                handles.append(h)
                labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(ncols, len(handles)), frameon=False)


def unique_ids(svg: str, prefix: str) -> str:
    """Prefix every ``id`` (and every reference to it) so figures in one page cannot collide."""
    ids = set(_ID.findall(svg))
    if not ids:
        return svg

    def swap(m: re.Match[str]) -> str:
        name = m.group(2)
        return f"{m.group(1)}{prefix}-{name}" if name in ids else m.group(0)

    svg = re.sub(r'(\bid=")([^"]+)(?=")', swap, svg)
    svg = re.sub(r'(#)([A-Za-z_][\w.\-]*)', swap, svg)
    return svg


def to_svg(fig: Figure, name: str, title: str) -> str:
    """Render ``fig`` as an inline ``<svg>`` (no XML prolog), scalable, with an accessible title."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = unique_ids(svg, name)
    # scale with the page: keep the viewBox, let CSS decide the size
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"', r"<svg\1", svg, count=1)
    from markupsafe import escape

    return svg.replace("<svg", f'<svg role="img" aria-label="{escape(title)}" class="plot"', 1)
