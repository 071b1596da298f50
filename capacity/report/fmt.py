"""Number formatting for the report: short, unit-bearing, and a dash for anything missing."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

DASH = "—"


def num(x: object) -> float | None:
    """A finite float, or None for anything else (None, NaN, inf, bool, str)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def g(x: object, digits: int = 3) -> str:
    v = num(x)
    if v is None:
        return DASH
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def rate(x: object) -> str:
    v = num(x)
    if v is None:
        return DASH
    return f"{v:,.0f} msg/s" if abs(v) >= 100 else f"{v:.1f} msg/s"


def count(x: object) -> str:
    v = num(x)
    return DASH if v is None else f"{v:,.0f}"


def pct(x: object, signed: bool = True) -> str:
    v = num(x)
    if v is None:
        return DASH
    s = f"{v:+.0%}" if signed else f"{v:.0%}"
    return s.replace("-", "−")


def ratio(x: object) -> str:
    """An error ratio: more digits when small."""
    v = num(x)
    if v is None:
        return DASH
    return f"{v:.2%}" if v < 0.1 else f"{v:.1%}"


def ms(x: object) -> str:
    v = num(x)
    if v is None:
        return DASH
    if v >= 1000:
        return f"{v / 1000:.2g} s" if v < 10_000 else f"{v / 1000:,.0f} s"
    return f"{v:.3g} ms"


def duration(x: object, none: str = DASH) -> str:
    """Seconds as ``45 s``, ``4 min 10 s``, ``2 h 5 min``; ``none`` when missing (e.g. "never")."""
    v = num(x)
    if v is None:
        return none
    if v == 0:
        return "0 s"
    if v < 60:
        return f"{v:.0f} s" if v >= 10 else f"{v:.1f} s"
    if v < 3600:
        m, s = divmod(round(v), 60)
        return f"{m} min {s} s" if s else f"{m} min"
    h, rest = divmod(round(v), 3600)
    return f"{h} h {rest // 60} min"


def interval(e: object, fmt: Any = g, unit: str = "") -> str:
    """``lo–hi`` of an estimate dict (``unit`` once at the end), or a dash."""
    if not isinstance(e, Mapping):
        return DASH
    lo, hi = num(e.get("ci_low")), num(e.get("ci_high"))
    if lo is None or hi is None:
        return DASH
    return f"{fmt(lo)}–{fmt(hi)}{unit}"


def value(x: object) -> str:
    """Any JSON value as short text (settings, fit quality)."""
    if x is None:
        return DASH
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int | float):
        return g(x, 4)
    if isinstance(x, list | tuple):
        return ", ".join(value(v) for v in x) if x else DASH
    if isinstance(x, Mapping):
        return json.dumps(x, default=str, ensure_ascii=False)
    return str(x)


_WORDS = {"slo": "SLO", "p50": "p50", "p95": "p95", "p99": "p99", "ms": "ms", "rmse": "RMSE", "scv": "SCV",
          "id": "id", "url": "URL"}


def humanize(key: str) -> str:
    """``slo_p99_ms`` -> ``SLO p99 ms``."""
    words = str(key).replace("_", " ").strip().split()
    out = [_WORDS.get(w.lower(), w) for w in words]
    if out and out[0] == words[0]:
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)
