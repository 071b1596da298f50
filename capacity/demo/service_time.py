"""Service-time distributions for the demo service and the reference consumers.

A sampler is a zero-argument callable returning one service time in seconds. The mean is ``mean_s``
for every distribution; the squared coefficient of variation (SCV, variance / mean²) is fixed by the
distribution for ``exp`` (1) and ``const`` (0) and chosen by ``scv`` for ``lognormal``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from capacity.errors import ConfigError

DISTRIBUTIONS: tuple[str, ...] = ("exp", "const", "lognormal")


def effective_scv(dist: str, scv: float = 1.0) -> float:
    """The SCV a sampler built with these arguments actually has."""
    dist = _check_dist(dist)
    if dist == "exp":
        return 1.0
    if dist == "const":
        return 0.0
    return _check_scv(scv)


def service_time_sampler(
    dist: str, mean_s: float, scv: float = 1.0, rng: random.Random | None = None
) -> Callable[[], float]:
    """Return a function drawing service times (seconds) with mean ``mean_s``.

    ``dist`` is ``exp`` (SCV 1), ``const`` (SCV 0) or ``lognormal`` (SCV ``scv``; ``scv`` is ignored
    by the other two). ``rng`` is a :class:`random.Random` (seed it for reproducible runs).

    >>> draw = service_time_sampler("const", 0.02)
    >>> draw()
    0.02
    """
    dist = _check_dist(dist)
    if not isinstance(mean_s, int | float) or not math.isfinite(mean_s) or mean_s <= 0:
        raise ConfigError(f"Service time mean {mean_s!r} s is not a positive number; pass e.g. 0.02 for 20 ms.")
    mean = float(mean_s)
    r = rng if rng is not None else random.Random()
    if dist == "const":
        return lambda: mean
    if dist == "exp":
        rate = 1.0 / mean
        return lambda: r.expovariate(rate)
    c2 = _check_scv(scv)
    if c2 == 0.0:
        return lambda: mean
    sigma = math.sqrt(math.log1p(c2))
    mu = math.log(mean) - sigma * sigma / 2.0
    return lambda: r.lognormvariate(mu, sigma)


def _check_dist(dist: str) -> str:
    d = str(dist).strip().lower()
    if d not in DISTRIBUTIONS:
        known = ", ".join(DISTRIBUTIONS)
        raise ConfigError(f"Unknown service-time distribution {dist!r}; use one of: {known}.")
    return d


def _check_scv(scv: float) -> float:
    if not isinstance(scv, int | float) or not math.isfinite(scv) or scv < 0:
        raise ConfigError(f"Service-time SCV {scv!r} is not a number >= 0; pass e.g. 1.0 (as variable as exp).")
    return float(scv)
