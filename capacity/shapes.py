"""Load shapes: data plus a pure function ``rate_at(t)`` (messages per second at t seconds).

Locust's ``LoadTestShape`` only adapts these (see ``loadtests/shapes.py``); the fitter and the
report use them to know what was offered. Parameters are validated where a shape is built.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from capacity.errors import ConfigError


def _positive(name: str, value: float, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}.") from None
    if math.isnan(v) or math.isinf(v) or v < 0 or (v == 0 and not allow_zero):
        want = "zero or more" if allow_zero else "greater than zero"
        raise ConfigError(f"{name} must be {want}, got {value!r}; pass --{name.replace('_', '-')} with a valid value.")
    return v


@dataclass(frozen=True)
class Segment:
    """A piece of a shape: ``rate`` goes linearly from ``start_rate`` to ``end_rate``."""

    phase: str
    duration_s: float
    start_rate: float
    end_rate: float


@dataclass(frozen=True)
class Shape:
    """A piecewise-linear rate curve made of named phases."""

    name: str
    segments: tuple[Segment, ...]
    params: dict[str, float] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.segments)

    @property
    def peak_rate(self) -> float:
        return max(max(s.start_rate, s.end_rate) for s in self.segments)

    def _locate(self, t: float) -> tuple[Segment, float] | None:
        if t < 0:
            return None
        start = 0.0
        for seg in self.segments:
            if t < start + seg.duration_s:
                return seg, t - start
            start += seg.duration_s
        return None

    def rate_at(self, t: float) -> float:
        """Offered rate (msgs/s) at ``t`` seconds since the start; 0 outside the shape."""
        found = self._locate(t)
        if found is None:
            return 0.0
        seg, dt = found
        frac = dt / seg.duration_s if seg.duration_s > 0 else 0.0
        return seg.start_rate + (seg.end_rate - seg.start_rate) * frac

    def phase_at(self, t: float) -> str:
        found = self._locate(t)
        return found[0].phase if found else "done"

    def mean_rate(self, t0: float, t1: float, steps: int = 20) -> float:
        """Average offered rate over ``[t0, t1)`` (midpoint rule; exact for a linear piece)."""
        if t1 <= t0:
            return self.rate_at(t0)
        h = (t1 - t0) / steps
        return sum(self.rate_at(t0 + (i + 0.5) * h) for i in range(steps)) / steps

    def phase_spans(self) -> list[tuple[str, float, float]]:
        spans, start = [], 0.0
        for seg in self.segments:
            spans.append((seg.phase, start, start + seg.duration_s))
            start += seg.duration_s
        return spans


def surge(
    baseline_rate: float = 50.0,
    surge_multiplier: float = 3.0,
    baseline_duration: float = 20.0,
    ramp: float = 5.0,
    surge_duration: float = 20.0,
    recovery_duration: float = 40.0,
) -> Shape:
    """Baseline, ramp up, surge at ``surge_multiplier`` x baseline, ramp down, recovery at baseline."""
    b = _positive("baseline_rate", baseline_rate)
    m = _positive("surge_multiplier", surge_multiplier)
    bd = _positive("baseline_duration", baseline_duration, allow_zero=True)
    r = _positive("ramp", ramp, allow_zero=True)
    sd = _positive("surge_duration", surge_duration)
    rd = _positive("recovery_duration", recovery_duration, allow_zero=True)
    segs = [
        Segment("baseline", bd, b, b),
        Segment("ramp", r, b, b * m),
        Segment("surge", sd, b * m, b * m),
        Segment("ramp-down", r, b * m, b),
        Segment("recovery", rd, b, b),
    ]
    params = dict(
        baseline_rate=b, surge_multiplier=m, baseline_duration=bd, ramp=r, surge_duration=sd, recovery_duration=rd
    )
    return Shape("surge", tuple(s for s in segs if s.duration_s > 0), params)


def step(
    start_rate: float = 20.0, step_rate: float = 20.0, steps: int = 8, step_duration: float = 15.0, ramp: float = 0.0
) -> Shape:
    """A staircase: ``steps`` plateaus from ``start_rate`` rising by ``step_rate`` each."""
    s0 = _positive("start_rate", start_rate)
    ds = _positive("step_rate", step_rate)
    sd = _positive("step_duration", step_duration)
    r = _positive("ramp", ramp, allow_zero=True)
    if int(steps) != steps or steps < 1:
        raise ConfigError(f"steps must be a whole number of at least 1, got {steps!r}.")
    segs: list[Segment] = []
    for i in range(int(steps)):
        rate = s0 + i * ds
        if i and r > 0:
            segs.append(Segment(f"step {i + 1}", r, rate - ds, rate))
        segs.append(Segment(f"step {i + 1}", sd, rate, rate))
    params = dict(start_rate=s0, step_rate=ds, steps=float(steps), step_duration=sd, ramp=r)
    return Shape("step", tuple(segs), params)


def spike(
    baseline_rate: float = 50.0, spike_multiplier: float = 5.0, baseline_duration: float = 20.0,
    spike_duration: float = 5.0, recovery_duration: float = 45.0,
) -> Shape:
    """Baseline, an instant jump to ``spike_multiplier`` x baseline, instant drop, recovery."""
    b = _positive("baseline_rate", baseline_rate)
    m = _positive("spike_multiplier", spike_multiplier)
    bd = _positive("baseline_duration", baseline_duration, allow_zero=True)
    sd = _positive("spike_duration", spike_duration)
    rd = _positive("recovery_duration", recovery_duration, allow_zero=True)
    segs = [Segment("baseline", bd, b, b), Segment("spike", sd, b * m, b * m), Segment("recovery", rd, b, b)]
    params = dict(baseline_rate=b, spike_multiplier=m, baseline_duration=bd, spike_duration=sd, recovery_duration=rd)
    return Shape("spike", tuple(s for s in segs if s.duration_s > 0), params)


def soak(soak_rate: float = 50.0, soak_duration: float = 600.0) -> Shape:
    """A constant rate for a long time."""
    r = _positive("soak_rate", soak_rate)
    d = _positive("soak_duration", soak_duration)
    return Shape("soak", (Segment("soak", d, r, r),), dict(soak_rate=r, soak_duration=d))


def replay(path: str | Path, speedup: float = 1.0) -> Shape:
    """A rate history from a CSV with columns ``t,rate`` (seconds, msgs/s), played ``speedup`` x faster."""
    k = _positive("speedup", speedup)
    try:
        with open(path, newline="") as fp:
            rows = [(float(r["t"]), float(r["rate"])) for r in csv.DictReader(fp)]
    except (OSError, KeyError, ValueError) as e:
        raise ConfigError(f"Cannot read replay file {str(path)!r} ({e}); it needs columns t,rate.") from e
    return from_points("replay", [(t / k, r) for t, r in rows], {"speedup": k})


def from_points(name: str, points: Sequence[tuple[float, float]], params: dict[str, float]) -> Shape:
    if len(points) < 2:
        raise ConfigError(f"A {name} shape needs at least two (t, rate) points, got {len(points)}.")
    segs = []
    for (t0, r0), (t1, r1) in zip(points, points[1:], strict=False):
        if t1 <= t0 or r0 < 0 or r1 < 0:
            raise ConfigError(f"{name} points must have increasing t and rates >= 0; bad pair at t={t0}, t={t1}.")
        segs.append(Segment(name, t1 - t0, r0, r1))
    return Shape(name, tuple(segs), params)


SCENARIOS: dict[str, Callable[..., Shape]] = {"surge": surge, "step": step, "spike": spike, "soak": soak}
