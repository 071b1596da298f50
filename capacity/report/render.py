"""Render ``report.html`` from a run folder with Jinja2.

Autoescaping is on for every template: nothing from a run (ids, endpoint names, settings, gap
reasons, model warnings) reaches the page unescaped. The only :class:`~markupsafe.Markup` is the
SVG our own plotting code builds from numbers (its text is XML-escaped by matplotlib).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from capacity.report import fmt, plots, summary
from capacity.runs import REPORT_HTML, Run, write_text_atomic

_ENV = Environment(
    loader=PackageLoader("capacity.report", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["num"] = fmt.g
_ENV.filters["rate"] = fmt.rate
_ENV.filters["pct"] = fmt.pct
_ENV.filters["ms"] = fmt.ms


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    caption: str
    svg: Markup | None
    missing: str = ""


def _figure(key: str, title: str, caption: str, build: Callable[[], str | None], missing: str) -> Figure:
    svg = build()
    return Figure(key, title, caption, Markup(svg) if svg else None, "" if svg else missing)


def figures(run: Run, model: Mapping[str, Any] | None, slo: Mapping[str, Any]) -> list[Figure]:
    slo_ms = fmt.num(slo.get("p99_ms"))
    metric = str(slo.get("metric", "e2e"))
    return [
        _figure("rates", "Offered, sent and processed rate",
                "Offered is the shape's target rate; sent is what the load generator sent (on schedule "
                "unless sends were late); processed is what the consumers finished. Ramp and surge phases "
                "are shaded.",
                lambda: plots.rates(run), "No sends were recorded."),
        _figure("depth", "Queue depth",
                "Observed queue depth against the fluid model's projection for the offered rate at the "
                "fitted capacity (band: the capacity's 95% interval). The queue limit is where messages are "
                "rejected.",
                lambda: plots.queue_depth(run, model), "The run has no queue-depth samples (no --source)."),
        _figure("latency", "Latency over time",
                "Request latency is the publish call; delivery latency runs from the scheduled send to the "
                "consumer. Log scale; the dash-dot line is the p99 SLO.",
                lambda: plots.latency_over_time(run, slo_ms, metric), "No latency was measured."),
        _figure("hockey", "Latency vs load",
                "Each dot is one interval with a calm queue (p99 against the rate sent in it). The line is "
                "the fitted queueing model with its 95% band; where it crosses the SLO is the SLO capacity.",
                lambda: plots.latency_vs_load(run, model, slo_ms, metric),
                "No interval had a calm queue and measured latency."),
        _figure("consumers", "Consumers vs SLO capacity",
                "What-if: for each number of consumers (same speed per consumer), the largest arrival rate "
                "whose M/M/c p99 meets the SLO, against the observed peak and the planned surge.",
                lambda: plots.consumers(model, slo_ms),
                "Needs the fitted number of consumers and service time, which this model does not have."),
    ]


def context(run: Run, fit_error: str | None = None) -> dict[str, Any]:
    model = run.model()
    slo = summary.slo_of(run, model)
    return {
        "run": run.meta,
        "run_id": str(run.meta.get("run_id") or run.folder.name),
        "model": model,
        "fit_error": fit_error,
        "slo": slo,
        "verdict": summary.verdict_for(run, model, slo),
        "tiles": summary.tiles(run, model, slo),
        "surge_head": summary.SURGE_HEAD,
        "surge_rows": summary.surge_rows(model),
        "planned_multiplier": summary.planned_multiplier(model),
        "parameters": summary.parameter_rows(model, slo),
        "fit_quality": summary.fit_quality_rows(model),
        "warnings": summary.warnings(run, model, fit_error),
        "settings": summary.settings_rows(run),
        "facts": summary.run_facts(run),
        "figures": figures(run, model, slo),
        "metric_label": plots.observed.metric_label(str(slo.get("metric"))),
    }


def render_html(run: Run, fit_error: str | None = None) -> str:
    return _ENV.get_template("report.html.j2").render(**context(run, fit_error))


def write_report(run: Run, fit_error: str | None = None) -> Path:
    path = run.folder / REPORT_HTML
    write_text_atomic(path, render_html(run, fit_error))
    return path


def render_template(name: str, **ctx: Any) -> str:
    """Render another report template (e.g. ``compare.html.j2``) with the same escaping rules."""
    return _ENV.get_template(name).render(**ctx)
