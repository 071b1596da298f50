"""Fluid (deterministic) model of a queue under overload and time-varying load.

When arrivals outpace the processing capacity ``cap = c*mu`` for long enough, random
fluctuations are small next to the trend and the backlog ``Q`` follows::

    dQ/dt = lam(t) - cap        while Q > 0 or lam(t) > cap,
    dQ/dt = 0                   while Q = 0 and lam(t) <= cap,

reflected at 0 and clipped at a queue limit ``L`` (arrivals that find the queue full are
rejected). For a constant surge rate ``lam_s > cap`` the backlog grows at ``lam_s - cap``,
reaches ``L`` after ``(L - q0) / (lam_s - cap)`` and, once the load falls back to a
baseline ``lam_b < cap``, drains in ``Q / (cap - lam_b)``.

The pointwise-stationary approximation (PSA) in :func:`psa_response_percentile` combines
this with the G/G/c steady-state percentiles for the periods where the queue is stable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from capacity.errors import ConfigError
from capacity.models.erlang import _check_int, _check_quantile, _check_real
from capacity.models.ggc import ggc_response_percentile

__all__ = [
    "FluidPath",
    "SurgeOutcome",
    "backlog_trajectory",
    "consumers_to_drain",
    "max_surge_duration",
    "psa_response_percentile",
    "surge_outcome",
    "time_to_exhaust",
]

FloatArray = npt.NDArray[np.float64]


def _frozen(a: FloatArray) -> FloatArray:
    a.setflags(write=False)
    return a


def _check_series(t: npt.ArrayLike, arrival_rate: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    try:
        t_a = np.array(t, dtype=float)
        lam_a = np.array(arrival_rate, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"t and arrival_rate must be arrays of numbers ({exc}).") from exc
    if t_a.ndim != 1 or t_a.size == 0:
        raise ConfigError(f"t must be a non-empty 1-D array of times in seconds, got shape {t_a.shape}.")
    if lam_a.shape != t_a.shape:
        raise ConfigError(
            f"arrival_rate must have the same shape as t, got {lam_a.shape} and {t_a.shape}; "
            "give one rate (messages per second) per time point."
        )
    if not np.all(np.isfinite(t_a)) or np.any(np.diff(t_a) <= 0.0):
        raise ConfigError("t must be finite and strictly increasing (seconds); sort it and drop duplicates.")
    if not np.all(np.isfinite(lam_a)) or np.any(lam_a < 0.0):
        bad = lam_a[~(np.isfinite(lam_a) & (lam_a >= 0.0))][0]
        raise ConfigError(f"arrival_rate must be finite and >= 0 messages per second everywhere, got {bad!r}.")
    return t_a, lam_a


def _check_limit(limit: float | None, q0: float) -> tuple[float | None, float]:
    q0_f = _check_real("initial backlog q0", q0, hint="pass a number of messages")
    if limit is None:
        return None, q0_f
    lim = _check_real("queue limit", limit, strict=True, hint="pass the maximum queue length in messages, or None")
    if q0_f > lim:
        raise ConfigError(f"initial backlog q0 ({q0_f:g}) exceeds the queue limit ({lim:g}); it must be <= the limit.")
    return lim, q0_f


def _check_capacity(capacity: float) -> float:
    return _check_real("capacity", capacity, hint="pass the total processing rate c*mu in messages per second")


# --------------------------------------------------------------------------- trajectories


@dataclass(frozen=True)
class FluidPath:
    """Backlog over time from :func:`backlog_trajectory` (read-only arrays, one entry per ``t``).

    Attributes:
        t: time points, seconds.
        arrival_rate: the arrival rate at each time point, messages per second.
        backlog: queued messages ``Q(t)``.
        rejected_cumulative: messages rejected at the queue limit since ``t[0]``.
        departures_rate: processing rate at ``t``: ``capacity`` while ``Q > 0``, else
            ``min(arrival_rate, capacity)``.
        capacity: processing capacity ``c*mu``, messages per second.
        limit: queue limit in messages, or ``None`` for unbounded.
        peak_backlog: the exact maximum of ``Q`` over ``[t[0], t[-1]]``, including peaks
            between grid points (where ``lam`` crosses the capacity on the way down).
    """

    t: FloatArray
    arrival_rate: FloatArray
    backlog: FloatArray
    rejected_cumulative: FloatArray
    departures_rate: FloatArray
    capacity: float
    limit: float | None
    peak_backlog: float

    @property
    def rejected_total(self) -> float:
        """Messages rejected over the whole trajectory."""
        return float(self.rejected_cumulative[-1])


def backlog_trajectory(
    t: npt.ArrayLike,
    arrival_rate: npt.ArrayLike,
    capacity: float,
    q0: float = 0.0,
    limit: float | None = None,
) -> FluidPath:
    """Integrate the fluid backlog ``Q' = lam(t) - capacity`` exactly, reflected at 0 and ``limit``.

    ``arrival_rate`` is interpolated linearly between the grid points ``t``. On each grid
    interval the net rate ``r(s) = lam(s) - capacity`` is linear, so it changes sign at
    most once; the interval is split there and on each piece (where ``r`` has one sign)
    the backlog moves monotonically::

        Q <- min(limit, Q + int r)   (r >= 0; the excess over the limit is rejected)
        Q <- max(0,     Q + int r)   (r <= 0)

    with ``int r = (r_start + r_end)/2 * length`` (trapezoid, exact for linear ``r``).
    The result is exact for piecewise-linear arrival rates, whatever the grid spacing.

    Args:
        t: strictly increasing time points, seconds.
        arrival_rate: arrival rate at each point, messages per second (>= 0).
        capacity: processing capacity ``c*mu``, messages per second (>= 0).
        q0: backlog at ``t[0]``.
        limit: queue limit in messages (``None`` = unbounded).
    """
    t_a, lam_a = _check_series(t, arrival_rate)
    cap = _check_capacity(capacity)
    lim, q = _check_limit(limit, q0)
    n = t_a.size
    backlog = np.empty(n)
    rejected = np.empty(n)
    backlog[0] = q
    rejected[0] = 0.0
    lost = 0.0
    peak = q
    for i in range(n - 1):
        h = t_a[i + 1] - t_a[i]
        r0 = lam_a[i] - cap
        r1 = lam_a[i + 1] - cap
        pieces: tuple[tuple[float, float, float], ...]
        if r0 * r1 < 0.0:
            s = h * r0 / (r0 - r1)
            pieces = ((r0, 0.0, s), (0.0, r1, h - s))
        else:
            pieces = ((r0, r1, h),)
        for ra, rb, length in pieces:
            inc = 0.5 * (ra + rb) * length
            if ra + rb >= 0.0:
                q += inc
                if lim is not None and q > lim:
                    lost += q - lim
                    q = lim
                peak = max(peak, q)
            else:
                q = max(0.0, q + inc)
        backlog[i + 1] = q
        rejected[i + 1] = lost
    departures = np.where(backlog > 0.0, cap, np.minimum(lam_a, cap))
    return FluidPath(
        t=_frozen(t_a),
        arrival_rate=_frozen(lam_a),
        backlog=_frozen(backlog),
        rejected_cumulative=_frozen(rejected),
        departures_rate=_frozen(departures),
        capacity=cap,
        limit=lim,
        peak_backlog=peak,
    )


# --------------------------------------------------------------------------- constant surges


def time_to_exhaust(surge_rate: float, capacity: float, limit: float, q0: float = 0.0) -> float:
    """Seconds until a backlog starting at ``q0`` fills ``limit`` under a constant surge.

    ``(limit - q0) / (surge_rate - capacity)``; ``math.inf`` when ``surge_rate <= capacity``.
    """
    lam = _check_real("surge_rate", surge_rate, hint="pass messages per second")
    cap = _check_capacity(capacity)
    lim, q = _check_limit(limit, q0)
    if lim is None:
        raise ConfigError("limit must be a queue length in messages, got None.")
    if lam <= cap:
        return math.inf
    return (lim - q) / (lam - cap)


@dataclass(frozen=True)
class SurgeOutcome:
    """What a constant surge of ``surge_duration_s`` at ``surge_rate`` does to the queue.

    Attributes:
        baseline_rate: arrival rate before and after the surge, messages/s.
        surge_rate: ``baseline_rate * multiplier``, messages/s.
        surge_duration_s: length of the surge, s.
        capacity: processing capacity ``c*mu``, messages/s.
        growth_rate: backlog growth ``surge_rate - capacity`` during the surge (0 if not
            overloaded), messages/s.
        peak_backlog: highest backlog during the surge, messages (if ``baseline_rate >=
            capacity`` the backlog keeps growing afterwards; ``drain_time_s`` is then inf).
        time_to_exhaust_s: time from the surge start until the queue limit is reached
            (``inf`` if never: no limit, or no growth).
        exhausted: whether the limit is reached within the surge.
        rejected: messages rejected at the limit during the surge.
        drain_time_s: time after the surge ends until the backlog is back to 0 at the
            baseline rate, ``Q_end / (capacity - baseline_rate)``; 0 if nothing is left,
            ``inf`` if ``baseline_rate >= capacity`` with a backlog left (or growing).
        queue_limit: the queue limit used, or ``None``.
        backlog_at_end: backlog when the surge ends, messages.
    """

    baseline_rate: float
    surge_rate: float
    surge_duration_s: float
    capacity: float
    growth_rate: float
    peak_backlog: float
    time_to_exhaust_s: float
    exhausted: bool
    rejected: float
    drain_time_s: float
    queue_limit: float | None = None
    backlog_at_end: float = 0.0


def surge_outcome(
    baseline_rate: float,
    multiplier: float,
    surge_duration_s: float,
    capacity: float,
    queue_limit: float | None = None,
    q0: float = 0.0,
) -> SurgeOutcome:
    """Fluid projection of a surge to ``multiplier * baseline_rate`` lasting ``surge_duration_s``.

    With ``g = surge_rate - capacity`` and the backlog ``q0`` at the surge start:

    * ``g > 0``: ``Q_end = min(L, q0 + g*D)``, ``time_to_exhaust = (L - q0)/g``,
      ``rejected = max(0, q0 + g*D - L)``;
    * ``g <= 0``: ``Q_end = max(0, q0 + g*D)``, nothing is rejected;
    * ``drain_time = Q_end / (capacity - baseline_rate)`` after the surge.
    """
    base = _check_real("baseline_rate", baseline_rate, hint="pass messages per second")
    mult = _check_real("multiplier", multiplier, strict=True, hint="e.g. 2 for a surge to twice the baseline")
    dur = _check_real("surge_duration_s", surge_duration_s, hint="pass seconds")
    cap = _check_capacity(capacity)
    lim, q = _check_limit(queue_limit, q0)
    surge = base * mult
    net = surge - cap
    if net > 0.0:
        growth = net
        tte = (lim - q) / net if lim is not None else math.inf
        unclipped = q + net * dur
        if lim is not None and unclipped >= lim:
            q_end = lim
            rejected = unclipped - lim
        else:
            q_end = unclipped
            rejected = 0.0
        exhausted = tte <= dur
        peak = q_end
    else:
        growth = 0.0
        tte = math.inf
        exhausted = False
        rejected = 0.0
        q_end = max(0.0, q + net * dur)
        peak = q
    if base > cap or (base == cap and q_end > 0.0):
        drain = math.inf
    elif q_end == 0.0:
        drain = 0.0
    else:
        drain = q_end / (cap - base)
    return SurgeOutcome(
        baseline_rate=base,
        surge_rate=surge,
        surge_duration_s=dur,
        capacity=cap,
        growth_rate=growth,
        peak_backlog=peak,
        time_to_exhaust_s=tte,
        exhausted=exhausted,
        rejected=rejected,
        drain_time_s=drain,
        queue_limit=lim,
        backlog_at_end=q_end,
    )


def max_surge_duration(
    baseline_rate: float, multiplier: float, capacity: float, queue_limit: float, q0: float = 0.0
) -> float:
    """Longest surge at ``multiplier * baseline_rate`` the queue absorbs without rejecting.

    ``(queue_limit - q0) / (multiplier*baseline_rate - capacity)``; ``inf`` when the surge
    rate does not exceed the capacity.
    """
    base = _check_real("baseline_rate", baseline_rate, hint="pass messages per second")
    mult = _check_real("multiplier", multiplier, strict=True, hint="e.g. 2 for a surge to twice the baseline")
    return time_to_exhaust(base * mult, capacity, queue_limit, q0)


def consumers_to_drain(backlog: float, arrival_rate: float, mu: float, within_s: float) -> int:
    """Smallest ``c`` that drains ``backlog`` within ``within_s`` while ``arrival_rate`` keeps coming.

    Needs ``c*mu > lam`` and ``backlog / (c*mu - lam) <= within_s``, i.e.
    ``c >= (lam + backlog/within_s) / mu`` (and at least one consumer).
    """
    b = _check_real("backlog", backlog, hint="pass a number of messages")
    lam = _check_real("arrival_rate", arrival_rate, hint="pass messages per second")
    mu_f = _check_real("service rate mu", mu, strict=True, hint="pass messages per second per consumer")
    within = _check_real("within_s", within_s, strict=True, hint="pass the drain deadline in seconds")

    def ok(c: int) -> bool:
        spare = c * mu_f - lam
        return spare > 0.0 and b / spare <= within

    c = max(1, math.floor(lam / mu_f), math.ceil((lam + b / within) / mu_f) - 1)
    while not ok(c):
        c += 1
    return c


# --------------------------------------------------------------------------- PSA + fluid


def psa_response_percentile(
    t: npt.ArrayLike,
    arrival_rate: npt.ArrayLike,
    mu: float,
    c: int,
    q: float,
    ca2: float = 1.0,
    cs2: float = 1.0,
    q0: float = 0.0,
) -> FloatArray:
    """Response-time ``q``-quantile over time for a time-varying arrival rate, in seconds.

    Two regimes, chosen per time point from the fluid backlog ``Q(t)`` of
    :func:`backlog_trajectory` with capacity ``c*mu``:

    * **PSA** (pointwise-stationary approximation) where ``rho(t) = lam(t)/(c*mu) < 1`` and
      ``Q(t) == 0``: the steady-state G/G/c quantile at the current rate,
      :func:`capacity.models.ggc.ggc_response_percentile` ``(lam(t), mu, c, q, ca2, cs2)``.
    * **Fluid** where ``rho(t) >= 1`` *or* ``Q(t) > 0`` (overloaded, or still draining the
      backlog an overload left behind even though ``rho(t) < 1`` again): a message arriving
      at ``t`` waits behind the backlog, ``Q(t) / (c*mu) + 1/mu``.

    Hand-over: the regimes meet where the fluid backlog is zero. Just below saturation the
    PSA value grows without bound (as ``1/(1 - rho)``) while the fluid value starts at
    ``1/mu``, so the curve is discontinuous there; PSA is only trustworthy where the load
    changes slowly compared with the queue's relaxation time (about
    ``1/(mu*(1 - sqrt(rho))**2)`` for one server), i.e. not for ``rho`` close to 1.
    """
    mu_f = _check_real("service rate mu", mu, strict=True, hint="pass messages per second per server")
    c_i = _check_int("servers c", c)
    q_f = _check_quantile(q)
    ca2_f = _check_real("arrival SCV ca2", ca2, hint="a squared coefficient of variation (1 = Poisson)")
    cs2_f = _check_real("service SCV cs2", cs2, hint="a squared coefficient of variation (1 = exponential)")
    cap = c_i * mu_f
    path = backlog_trajectory(t, arrival_rate, cap, q0=q0)
    out = np.empty(path.t.size)
    cache: dict[float, float] = {}
    for i, (lam_i, q_i) in enumerate(zip(path.arrival_rate, path.backlog, strict=True)):
        if q_i > 0.0 or lam_i >= cap:
            out[i] = q_i / cap + 1.0 / mu_f
        else:
            key = float(lam_i)
            if key not in cache:
                cache[key] = ggc_response_percentile(key, mu_f, c_i, q_f, ca2_f, cs2_f)
            out[i] = cache[key]
    return _frozen(out)
