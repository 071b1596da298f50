"""The HTML report from synthetic run folders: every model shape renders, nothing from a run is unescaped."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from capacity.report import render
from capacity.runs import COLUMNS, read_run

HOSTILE = "<script>alert('x')</script> \"q\" 'sq' & $x^2$ </svg><img src=x onerror=alert(1)>"
PHASES = [["baseline", 0.0, 8.0], ["ramp", 8.0, 10.0], ["surge", 10.0, 22.0], ["ramp-down", 22.0, 24.0],
          ["recovery", 24.0, 38.0]]


def _target(t: float) -> float:
    if t <= 8:
        return 30.0
    if t <= 10:
        return 30 + 45 * (t - 8) / 2
    if t <= 22:
        return 75.0
    if t <= 24:
        return 75 - 45 * (t - 22) / 2
    return 30.0 if t <= 38 else 0.0


def _phase(t: float) -> str:
    for name, a, b in PHASES:
        if a < t <= b:
            return str(name)
    return "done"


def synthetic_rows(capacity: float = 60.0, base_p99: float = 150.0, seed: int = 0, errors: float = 0.0,
                   n: int = 40) -> list[dict[str, Any]]:
    """A surge run against a service of ``capacity`` msg/s: fluid queue, latency growing with the backlog."""
    rng = np.random.default_rng(seed)
    rows, q = [], 0.0
    for i in range(1, n + 1):
        t = float(i)
        target = _target(t)
        sent = max(0.0, target + rng.normal(0, 2.0)) if target else 0.0
        processed = min(capacity * rng.uniform(0.95, 1.05), q + sent)
        q = max(0.0, q + sent - processed)
        wait_ms = q / capacity * 1000
        rho = min(sent / capacity, 0.95)
        p99 = base_p99 / (1 - rho) * 0.5 * rng.uniform(0.85, 1.15) + wait_ms
        rows.append({
            "t": t, "time": f"2026-12-03T13:06:{i:02d}.000Z", "phase": _phase(t), "target_rate": target,
            "sent_rate": sent, "ok_rate": sent * (1 - errors), "error_rate": sent * errors, "late_sends": 0,
            "req_p50_ms": 2.0, "req_p95_ms": 6.0, "req_p99_ms": 9.0, "queue_depth": round(q),
            "processed_rate": processed, "e2e_p50_ms": p99 / 4, "e2e_p95_ms": p99 * 0.8,
            "e2e_p99_ms": p99, "in_flight": 0.1,
        } if target else {"t": t, "time": "", "phase": "done", "target_rate": 0, "sent_rate": 0, "ok_rate": 0,
                          "error_rate": 0, "late_sends": 0, "queue_depth": round(q), "processed_rate": processed})
    return rows


def write_run(folder: Path, rows: list[dict[str, Any]], meta: dict[str, Any] | None = None,
              model: dict[str, Any] | None = None, gaps: list[tuple[float, str, str, str]] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "schema_version": 1, "ended": "completed", "run_id": folder.name, "scenario": "surge",
        "shape": {"name": "surge", "params": {"baseline_rate": 30.0, "surge_multiplier": 2.5}, "phases": PHASES},
        "target": "http://127.0.0.1:8080", "sources": ["demo"], "slo": {"p99_ms": 500.0, "error_rate": 0.01},
        "queue_limit": 5000, "interval_s": 1.0, "settings": {"target": "http://127.0.0.1:8080", "seed": 1},
        "start": "2026-12-03T13:06:00.000Z", "end": "2026-12-03T13:06:40.000Z",
    }
    doc.update(meta or {})
    (folder / "run.json").write_text(json.dumps(doc))
    lines = [",".join(COLUMNS)]
    for r in rows:
        lines.append(",".join("" if r.get(c) is None else str(r.get(c)) for c in COLUMNS))
    (folder / "timeseries.csv").write_text("\n".join(lines) + "\n")
    g = ["t,time,source,reason"] + [",".join(json.dumps(x) if isinstance(x, str) else str(x) for x in row)
                                    for row in gaps]
    (folder / "gaps.csv").write_text("\n".join(g) + "\n")
    if model is not None:
        (folder / "model.json").write_text(json.dumps(model))
    return folder


def est(v: float, lo: float, hi: float) -> dict[str, float]:
    return {"value": v, "ci_low": lo, "ci_high": hi}


def full_model(capacity: float = 60.0) -> dict[str, Any]:
    """Every key of docs/model-json.md, with plausible numbers."""
    rates = list(np.linspace(2, capacity * 0.97, 30))
    p99 = [220 / (1 - r / capacity) ** 0.7 for r in rates]
    surge = []
    for m in (1.5, 2.0, 3.0, 5.0, 10.0):
        rate = 29.0 * m
        g = max(0.0, rate - capacity)
        tte = 5000 / g if g else None
        surge.append({"multiplier": m, "rate": rate, "duration_s": 300.0, "growth_rate": g,
                      "peak_backlog": min(5000.0, g * 300), "time_to_exhaust_s": tte,
                      "exhausted": bool(tte and tte <= 300), "rejected": max(0.0, g * 300 - 5000),
                      "drain_time_s": min(5000.0, g * 300) / (capacity - 29.0), "consumers_needed": int(m * 2) + 1,
                      "max_duration_s": tte})
    return {
        "schema_version": 1, "run_id": "synthetic",
        "capacity_msgs_per_s": est(capacity, capacity * 0.96, capacity * 1.04),
        "servers": est(3, 2, 4), "service_time_s": est(0.05, 0.04, 0.06), "service_scv": est(1.0, 0.5, 1.5),
        "arrival_scv": 1.0, "slo": {"p99_ms": 500.0, "error_rate": 0.01, "metric": "e2e"},
        "slo_capacity_msgs_per_s": est(51.0, 49.0, 53.0), "baseline_rate": 29.0, "observed_peak_rate": 80.0,
        "max_measured_rate": 40.0, "headroom_ratio": capacity / 80 - 1, "queue_limit": 5000,
        "surge_duration_s": 300.0, "surge": surge,
        "largest_absorbed_surge": {"multiplier": 2.0, "duration_s": 300.0},
        "sizing": {"planned_multiplier": 3.0, "consumers_needed": 5, "current_servers": 3, "service_time_s": 0.05},
        "latency_curve": {"rate": rates, "p50_ms": [x / 4 for x in p99], "p99_ms": p99,
                          "p99_ms_low": [x * 0.9 for x in p99], "p99_ms_high": [x * 1.1 for x in p99[:-1]] + [None]},
        "fit_quality": {"saturated_intervals": 20, "unsaturated_intervals": 13, "latency_rmse_ms": 31.0,
                        "validation": {"train_max_rate": 25.0, "test_rates": [30.0, 36.0],
                                       "predicted_p50_ms": [40.0, 45.0], "observed_p50_ms": [42.0, 50.0],
                                       "mape": 0.09},
                        "extrapolation_ratio": 7.2},
        "warnings": ["Surge projections go up to 290 msg/s, 7.2x the highest measured load."],
    }


def sparse_model() -> dict[str, Any]:
    """What the first fitter wrote: capacity and headroom, everything else null or absent."""
    return {"schema_version": 1, "run_id": "sparse", "capacity_msgs_per_s": est(61.0, 59.3, 63.7),
            "servers": None, "service_time_s": None, "service_scv": None,
            "slo": {"p99_ms": 500.0, "error_rate": 0.01}, "slo_capacity_msgs_per_s": None, "baseline_rate": 28.9,
            "observed_peak_rate": 92.9, "headroom_ratio": -0.34, "surge": [],
            "fit_quality": {"saturated_intervals": 20}, "warnings": []}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs


def tags(doc: str) -> Tags:
    p = Tags()
    p.feed(doc)
    return p


def svgs(doc: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", doc, flags=re.S)


# -- every shape of model renders ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def full_doc(tmp_path_factory: pytest.TempPathFactory) -> str:
    run = read_run(write_run(tmp_path_factory.mktemp("full") / "full", synthetic_rows(), model=full_model()))
    return render.render_html(run)


def test_full_model_shows_every_section(full_doc: str) -> None:
    doc = full_doc
    assert doc.startswith("<!doctype html>")
    figs = svgs(doc)
    assert len(figs) == 5  # rates, depth, latency, hockey stick, consumers
    for f in figs:
        assert "viewBox" in f and "<path" in f
    text = html.unescape(re.sub(r"<[^>]+>", " ", doc))
    for expected in ("Capacity", "60.0 msg/s", "57.6–62.4 msg/s", "SLO capacity", "51.0 msg/s", "2x for 5 min",
                     "Consumers for a 3x surge", "today 3", "Surge tolerance", "fills the limit", "Fit quality",
                     "Out-of-sample check", "Extrapolation", "7.2x the highest measured load", "Run settings"):
        assert expected in text, expected
    assert 'class="highlight"' in doc  # the planned 3x row


def test_sparse_model_renders_with_dashes(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path / "sparse", synthetic_rows(), model=sparse_model()))
    doc = render.render_html(run)
    assert len(svgs(doc)) == 4  # no consumers plot without servers and service time
    assert "not estimated" in doc
    assert "Consumers vs SLO capacity</b>: Needs the fitted number of consumers" in doc
    assert "No surge projections in the model" in doc


def test_all_null_model_renders(tmp_path: Path) -> None:
    model: dict[str, Any] = {k: None for k in full_model()}
    model["schema_version"] = 1
    run = read_run(write_run(tmp_path / "nulls", synthetic_rows(), model=model))
    doc = render.render_html(run)
    assert len(svgs(doc)) == 4
    assert "not estimated" in doc


def test_no_model_renders_the_fit_error(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path / "nomodel", synthetic_rows()))
    path = render.write_report(run, fit_error="Run has 2 saturated interval(s) <fewer than 4>.")
    doc = path.read_text()
    assert path.name == "report.html"
    assert "No model: Run has 2 saturated interval(s) &lt;fewer than 4&gt;." in doc
    assert len(svgs(doc)) == 4
    assert "No fitted model: headroom and surge projections were not checked." in doc


def test_run_without_queue_or_latency(tmp_path: Path) -> None:
    rows = synthetic_rows()
    for r in rows:
        for c in ("queue_depth", "processed_rate", "e2e_p50_ms", "e2e_p95_ms", "e2e_p99_ms", "req_p50_ms",
                  "req_p95_ms", "req_p99_ms"):
            r[c] = None
    run = read_run(write_run(tmp_path / "bare", rows))
    doc = render.render_html(run, fit_error="no queue-depth samples")
    assert len(svgs(doc)) == 1  # just the rates
    assert "The run has no queue-depth samples" in doc


def test_svg_ids_are_unique_and_plots_scale(full_doc: str) -> None:
    doc = full_doc
    ids = re.findall(r'\bid="([^"]+)"', doc)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', doc):
        name = ref[0] or ref[1]
        assert name in ids, name
    for f in svgs(doc):
        head = f[: f.index(">")]
        assert " width=" not in head and " height=" not in head and "viewBox" in head


def test_offline_by_construction(full_doc: str) -> None:
    doc = full_doc
    p = tags(doc)
    assert "script" not in p.tags and "link" not in p.tags and "iframe" not in p.tags
    urls = [v for k, v in p.attrs if k in ("src", "href", "xlink:href") and v]
    assert all(u.startswith("#") for u in urls), urls
    assert "Content-Security-Policy" in doc and "default-src 'none'" in doc


# -- hostile strings ---------------------------------------------------------------------------------------

def hostile_meta() -> dict[str, Any]:
    return {
        "run_id": HOSTILE, "scenario": HOSTILE, "target": "http://evil/" + HOSTILE, "sources": [HOSTILE],
        "shape": {"name": HOSTILE, "params": {HOSTILE: HOSTILE}, "phases": [[HOSTILE, 0.0, 8.0]] + PHASES[1:]},
        "settings": {"target": HOSTILE, HOSTILE: HOSTILE, "note": [HOSTILE, {"k": HOSTILE}]},
        "versions": {"capplan": HOSTILE}, "ended": HOSTILE,
    }


def test_hostile_strings_render_as_text(tmp_path: Path) -> None:
    model = full_model()
    model["warnings"] = [HOSTILE]
    model["fit_quality"][HOSTILE] = HOSTILE
    run = read_run(write_run(tmp_path / "hostile", synthetic_rows(), meta=hostile_meta(), model=model,
                             gaps=[(3.0, "2026-12-03T13:06:03Z", HOSTILE, HOSTILE)]))
    doc = render.render_html(run, fit_error=None)
    p = tags(doc)
    assert "script" not in p.tags and "img" not in p.tags
    assert not any(k.startswith("on") for k, _ in p.attrs)
    assert "<script>" not in doc and "<img" not in doc
    assert doc.count("&lt;script&gt;") >= 8
    # the endpoint name is in a plot title: matplotlib escaped it inside the SVG
    rates_svg = svgs(doc)[0]
    assert "&lt;script&gt;alert(" in rates_svg and "</svg><img" not in rates_svg
    assert html.unescape(re.sub(r"<[^>]+>", "", rates_svg)).count("alert('x')") >= 1


@pytest.mark.parametrize("value, shown", [(0.0, "0 s"), (5.25, "5.2 s"), (194.4, "3 min 14 s"), (7260, "2 h 1 min"),
                                          (None, "never")])
def test_duration_format(value: float | None, shown: str) -> None:
    from capacity.report.fmt import duration

    assert duration(value, none="never") == shown
