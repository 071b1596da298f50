"""Render ``report.html`` from a run folder with Jinja2 (autoescaped: nothing from a run is trusted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from capacity.report import plots
from capacity.runs import REPORT_HTML, Run, write_text_atomic

_ENV = Environment(loader=PackageLoader("capacity.report", "templates"), autoescape=select_autoescape(["html"]))


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


_ENV.filters["num"] = _fmt


def render_html(run: Run, fit_error: str | None = None) -> str:
    model = run.model()
    figures = {"rates_and_depth": Markup(plots.rates_and_depth(run))}  # our own SVG, built from numbers
    return _ENV.get_template("report.html.j2").render(
        run=run.meta, settings=run.settings, model=model, fit_error=fit_error, figures=figures,
        intervals=len(run.timeseries), gaps=len(run.gaps),
    )


def write_report(run: Run, fit_error: str | None = None) -> Path:
    path = run.folder / REPORT_HTML
    write_text_atomic(path, render_html(run, fit_error))
    return path
