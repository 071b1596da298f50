"""``capplan plan``: build a planning document from model.json or explicit parameters, and print it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from capacity import plan
from capacity.errors import ConfigError, RunFolderError
from capacity.runs import MODEL_JSON


def _load_model(path: Path) -> dict[str, Any]:
    p = path / MODEL_JSON if path.is_dir() else path
    if not p.exists():
        raise RunFolderError(f"{str(p)!r} does not exist; run `capplan fit RUN_DIR` first or pass --servers.")
    try:
        return dict(json.loads(p.read_text()))
    except json.JSONDecodeError as e:
        raise RunFolderError(f"{p} is not valid JSON ({e.msg}); rerun `capplan fit`.") from None


def _multipliers(text: str) -> list[float]:
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--multipliers must be comma-separated numbers, got {text!r}.") from None
    if not vals or any(v <= 0 for v in vals):
        raise ConfigError(f"--multipliers must be positive numbers, got {text!r}.")
    return vals


def plan_document(model_path: Path | None, servers: int | None, service_time_ms: float | None,
                  service_scv: float, baseline_rate: float | None, slo_p99_ms: float | None,
                  queue_limit: float | None, surge_duration: float | None, multipliers: str) -> dict[str, Any]:
    mults = _multipliers(multipliers)
    if model_path is not None:
        doc = _load_model(model_path)
        m = plan.model_from_json(doc, slo_p99_ms)
        if servers is not None:
            m = m.with_servers(servers)
        base = baseline_rate if baseline_rate is not None else doc.get("baseline_rate")
        duration = surge_duration if surge_duration is not None else float(doc.get("surge_duration_s") or 300)
        limit = queue_limit if queue_limit is not None else m.queue_limit
        m = plan.CapacityModel(m.servers, m.mu, m.service_scv, m.arrival_scv, m.slo_p99_s, limit, base)
    else:
        if servers is None or service_time_ms is None:
            raise ConfigError("Pass a model.json (or run folder), or both --servers and --service-time-ms.")
        if service_time_ms <= 0:
            raise ConfigError(f"--service-time-ms must be greater than zero, got {service_time_ms}.")
        base = baseline_rate
        duration = surge_duration if surge_duration is not None else 300.0
        m = plan.CapacityModel(servers, 1000.0 / service_time_ms, service_scv, 1.0,
                               (slo_p99_ms if slo_p99_ms is not None else 500.0) / 1000.0, queue_limit, base)
    p = plan.make_plan(m, base, duration, mults)
    return p.as_dict() | {"queue_limit": m.queue_limit, "surge_duration_s": duration}


def _f(x: Any, fmt: str = "{:.1f}", none: str = "—") -> str:
    return none if x is None else fmt.format(x)


def print_plan(doc: dict[str, Any], out: Console) -> None:
    out.print(f"capacity            {doc['capacity_msgs_per_s']:.1f} msg/s  ({doc['servers']} consumers x "
              f"{doc['service_time_s'] * 1000:.1f} ms)")
    out.print(f"SLO capacity        {doc['slo_capacity_msgs_per_s']:.1f} msg/s  (p99 <= {doc['slo_p99_ms']:g} ms)")
    if doc["baseline_rate"]:
        out.print(f"baseline            {doc['baseline_rate']:.1f} msg/s; headroom {doc['headroom_ratio']:+.0%}, "
                  f"within the SLO {doc['slo_headroom_ratio']:+.0%}")
    sz = doc["sizing"]
    if sz.get("consumers_needed") is not None:
        out.print(f"for a {sz['planned_multiplier']:g}x surge: {sz['consumers_needed']} consumers hold the SLO "
                  f"(now {sz['current_servers']})")
    if not doc["surge"]:
        out.print("no surge table: pass --baseline-rate")
        return
    t = Table(title=f"Surges lasting {doc['surge_duration_s']:g} s (queue limit {_f(doc['queue_limit'], '{:.0f}')})")
    for col in ("surge", "rate msg/s", "backlog growth /s", "peak backlog", "queue full after",
                "drain time", "consumers for SLO"):
        t.add_column(col, justify="right")
    for r in doc["surge"]:
        t.add_row(f"{r['multiplier']:g}x", f"{r['rate']:.0f}", f"{r['growth_rate']:.0f}", f"{r['peak_backlog']:.0f}",
                  _f(r["time_to_exhaust_s"], "{:.0f} s", "never"), _f(r["drain_time_s"], "{:.0f} s", "never"),
                  _f(r["consumers_needed"], "{}", "unreachable"))
    out.print(t)
