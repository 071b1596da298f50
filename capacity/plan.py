"""Planning from a fitted model: headroom, SLO capacity, surge tolerance and consumer sizing.

Pure functions of a :class:`CapacityModel` (numbers in, frozen dataclasses out). The latency
model is G/G/c (Allen-Cunneen percentiles, exact M/M/c when both SCVs are 1); overload is the
fluid model. ``capplan plan`` builds the model from ``model.json`` or from explicit parameters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from scipy.optimize import brentq

from capacity.errors import ConfigError
from capacity.models.fluid import max_surge_duration, surge_outcome
from capacity.models.ggc import ggc_response_percentile

DEFAULT_MULTIPLIERS: tuple[float, ...] = (1.5, 2.0, 3.0, 5.0, 10.0)
PLANNED_MULTIPLIER = 3.0
MAX_SERVERS = 10_000


@dataclass(frozen=True)
class CapacityModel:
    """What planning needs: c consumers each serving at mu msgs/s, service SCV, arrival SCV, SLO."""

    servers: int
    mu: float
    service_scv: float = 1.0
    arrival_scv: float = 1.0
    slo_p99_s: float = 0.5
    queue_limit: float | None = None
    baseline_rate: float | None = None

    def __post_init__(self) -> None:
        if self.servers < 1:
            raise ConfigError(f"servers must be at least 1, got {self.servers}.")
        if not self.mu > 0 or math.isinf(self.mu):
            raise ConfigError(f"service rate mu must be a positive number, got {self.mu}.")
        if not self.slo_p99_s > 0:
            raise ConfigError(f"the p99 SLO must be greater than zero, got {self.slo_p99_s} s.")
        if self.service_scv < 0 or self.arrival_scv < 0:
            raise ConfigError("SCVs must be zero or more.")
        if self.queue_limit is not None and self.queue_limit <= 0:
            raise ConfigError(f"queue_limit must be greater than zero, got {self.queue_limit}.")

    @property
    def capacity(self) -> float:
        return self.servers * self.mu

    @property
    def service_time_s(self) -> float:
        return 1.0 / self.mu

    def with_servers(self, c: int) -> CapacityModel:
        return CapacityModel(c, self.mu, self.service_scv, self.arrival_scv, self.slo_p99_s, self.queue_limit,
                             self.baseline_rate)


def p99_response_s(m: CapacityModel, rate: float, q: float = 0.99) -> float:
    """Predicted ``q``-quantile of response time (wait + service) at ``rate``; inf when overloaded."""
    if rate <= 0:
        rate = 1e-9 * m.capacity
    if rate >= m.capacity:
        return math.inf
    return ggc_response_percentile(rate, m.mu, m.servers, q, m.arrival_scv, m.service_scv)


def slo_capacity(m: CapacityModel) -> float:
    """Largest arrival rate whose predicted p99 response meets the SLO (0 if even an idle system misses).

    The p99 increases with the rate, so the answer is the root of ``p99(rate) = SLO`` in (0, c*mu).
    """
    lo, hi = 1e-6 * m.capacity, m.capacity * (1 - 1e-6)
    if p99_response_s(m, lo) > m.slo_p99_s:
        return 0.0
    if p99_response_s(m, hi) <= m.slo_p99_s:
        return hi
    return float(brentq(lambda x: p99_response_s(m, x) - m.slo_p99_s, lo, hi, xtol=1e-6 * m.capacity))


def consumers_needed(m: CapacityModel, rate: float) -> int | None:
    """Fewest consumers (same per-consumer speed) whose predicted p99 at ``rate`` meets the SLO.

    ``None`` when no number of consumers can (the SLO is below the service time's own p99).
    """
    if rate <= 0:
        return 1
    c = max(1, math.floor(rate / m.mu) + 1)
    if p99_response_s(m.with_servers(MAX_SERVERS), min(rate, MAX_SERVERS * m.mu * 0.5)) > m.slo_p99_s:
        return None
    while c <= MAX_SERVERS:
        if p99_response_s(m.with_servers(c), rate) <= m.slo_p99_s:
            return c
        c += 1 if c < 64 else max(1, c // 32)
    return None


@dataclass(frozen=True)
class SurgeRow:
    multiplier: float
    rate: float
    duration_s: float
    growth_rate: float
    peak_backlog: float
    time_to_exhaust_s: float | None
    exhausted: bool
    rejected: float
    drain_time_s: float | None
    consumers_needed: int | None
    max_duration_s: float | None


def _finite(x: float) -> float | None:
    return None if math.isinf(x) or math.isnan(x) else x


def surge_rows(m: CapacityModel, baseline_rate: float, duration_s: float,
               multipliers: Iterable[float] = DEFAULT_MULTIPLIERS) -> list[SurgeRow]:
    """Fluid projections of surges at ``multipliers`` x ``baseline_rate`` lasting ``duration_s``."""
    if baseline_rate <= 0:
        raise ConfigError(f"baseline rate must be greater than zero, got {baseline_rate}; pass --baseline-rate.")
    if duration_s <= 0:
        raise ConfigError(f"surge duration must be greater than zero, got {duration_s}; pass --surge-duration.")
    rows = []
    for mult in multipliers:
        o = surge_outcome(baseline_rate, mult, duration_s, m.capacity, m.queue_limit)
        max_d = (max_surge_duration(baseline_rate, mult, m.capacity, m.queue_limit)
                 if m.queue_limit is not None else math.inf)
        rows.append(SurgeRow(
            multiplier=mult, rate=o.surge_rate, duration_s=duration_s, growth_rate=o.growth_rate,
            peak_backlog=o.peak_backlog, time_to_exhaust_s=_finite(o.time_to_exhaust_s), exhausted=o.exhausted,
            rejected=o.rejected, drain_time_s=_finite(o.drain_time_s),
            consumers_needed=consumers_needed(m, o.surge_rate), max_duration_s=_finite(max_d),
        ))
    return rows


def largest_absorbed(rows: list[SurgeRow]) -> dict[str, float | None] | None:
    """The largest multiplier whose surge the queue absorbs for the planned duration (no rejections)."""
    ok = [r for r in rows if not r.exhausted]
    if not ok:
        return None
    best = max(ok, key=lambda r: r.multiplier)
    return {"multiplier": best.multiplier, "duration_s": best.duration_s,
            "max_duration_s": best.max_duration_s}


@dataclass(frozen=True)
class Plan:
    capacity_msgs_per_s: float
    servers: int
    service_time_s: float
    slo_p99_ms: float
    slo_capacity_msgs_per_s: float
    baseline_rate: float | None
    headroom_ratio: float | None
    slo_headroom_ratio: float | None
    surge: list[SurgeRow]
    largest_absorbed_surge: dict[str, float | None] | None
    sizing: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_plan(m: CapacityModel, baseline_rate: float | None, surge_duration_s: float,
              multipliers: Iterable[float] = DEFAULT_MULTIPLIERS,
              planned_multiplier: float = PLANNED_MULTIPLIER) -> Plan:
    """Everything ``capplan plan`` prints, from a model and a baseline rate."""
    slo_cap = slo_capacity(m)
    rows = surge_rows(m, baseline_rate, surge_duration_s, multipliers) if baseline_rate else []
    need = consumers_needed(m, planned_multiplier * baseline_rate) if baseline_rate else None
    return Plan(
        capacity_msgs_per_s=m.capacity,
        servers=m.servers,
        service_time_s=m.service_time_s,
        slo_p99_ms=m.slo_p99_s * 1000,
        slo_capacity_msgs_per_s=slo_cap,
        baseline_rate=baseline_rate,
        headroom_ratio=(m.capacity / baseline_rate - 1) if baseline_rate else None,
        slo_headroom_ratio=(slo_cap / baseline_rate - 1) if baseline_rate else None,
        surge=rows,
        largest_absorbed_surge=largest_absorbed(rows),
        sizing={"planned_multiplier": planned_multiplier, "consumers_needed": need,
                "current_servers": m.servers, "service_time_s": m.service_time_s},
    )


def model_from_json(doc: Mapping[str, Any], slo_p99_ms: float | None = None) -> CapacityModel:
    """A :class:`CapacityModel` from ``model.json`` (servers and service time must have been fitted)."""
    servers, st = doc.get("servers"), doc.get("service_time_s")
    if not servers or not st:
        raise ConfigError(
            "model.json has no fitted servers/service time (the run had too few unsaturated intervals); "
            "pass --servers and --service-time-ms, or run `capplan run step` for better data."
        )
    scv = doc.get("service_scv") or {"value": 1.0}
    slo = slo_p99_ms if slo_p99_ms is not None else float((doc.get("slo") or {}).get("p99_ms", 500.0))
    return CapacityModel(
        servers=int(servers["value"]), mu=1.0 / float(st["value"]), service_scv=float(scv["value"]),
        arrival_scv=float(doc.get("arrival_scv", 1.0)), slo_p99_s=slo / 1000.0,
        queue_limit=doc.get("queue_limit"), baseline_rate=doc.get("baseline_rate"),
    )
