"""M/M/c queues: Erlang B and C, waiting and response time distributions, sizing.

Notation (used across ``capacity.models``): ``lam`` is the arrival rate (messages per
second), ``mu`` the service rate of one server (messages per second, ``1/mu`` is the
mean service time in seconds), ``c`` the number of servers (consumers), ``a = lam/mu``
the offered load in Erlangs and ``rho = lam/(c*mu)`` the utilisation.

For a stable queue (``rho < 1``), with ``C = erlang_c(c, a)`` and ``theta = c*mu - lam``:

* ``P(W > 0) = C`` and ``P(W > t) = C * exp(-theta * t)``;
* ``Wq = E[W] = C / theta``, ``E[T] = Wq + 1/mu``, ``Lq = lam * Wq``, ``L = lam * E[T]``
  (Little's law);
* the response time ``T = W + S`` with ``S ~ Exp(mu)`` independent of ``W``.

All functions are pure, validate their parameters on entry and raise
:class:`capacity.errors.ConfigError` with a sentence naming the bad value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

from scipy.optimize import brentq

from capacity.errors import ConfigError

__all__ = [
    "MMc",
    "erlang_b",
    "erlang_c",
    "min_servers",
    "mmc",
    "response_percentile",
    "response_tail",
    "wait_percentile",
    "wait_tail",
]


# --------------------------------------------------------------------------- validation
# Shared (package-private) checks; ggc.py and fluid.py import them.


def _check_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise ConfigError unless it is an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConfigError(f"{name} must be {kind}, got {value!r}.")
    return int(value)


def _check_real(
    name: str,
    value: object,
    *,
    minimum: float = 0.0,
    strict: bool = False,
    allow_inf: bool = False,
    hint: str = "",
) -> float:
    """Return ``value`` as a float, or raise ConfigError unless it is a number above ``minimum``.

    ``strict`` requires ``value > minimum`` instead of ``value >= minimum``.
    """
    ok = isinstance(value, Real) and not isinstance(value, bool)
    x = float(value) if ok else math.nan  # type: ignore[arg-type]
    if ok and not math.isnan(x) and (allow_inf or math.isfinite(x)):
        ok = x > minimum if strict else x >= minimum
    else:
        ok = False
    if not ok:
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        finite = "" if allow_inf else "finite "
        extra = f"; {hint}" if hint else ""
        raise ConfigError(f"{name} must be a {finite}number {bound}, got {value!r}{extra}.")
    return x


def _check_rates(lam: float, mu: float) -> tuple[float, float]:
    lam_f = _check_real("arrival rate lam", lam, hint="pass messages per second")
    mu_f = _check_real(
        "service rate mu",
        mu,
        strict=True,
        hint="pass messages per second per server (1 / mean service time in seconds)",
    )
    return lam_f, mu_f


def _check_quantile(q: float) -> float:
    return _check_real_open("quantile q", q, 0.0, 1.0, "e.g. 0.99 for the 99th percentile")


def _check_real_open(name: str, value: object, low: float, high: float, hint: str) -> float:
    ok = isinstance(value, Real) and not isinstance(value, bool)
    x = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not (low < x < high):
        raise ConfigError(f"{name} must be strictly between {low:g} and {high:g}, got {value!r}; {hint}.")
    return x


# --------------------------------------------------------------------------- Erlang B / C


def _erlang_b_unchecked(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def erlang_b(c: int, a: float) -> float:
    """Erlang B blocking probability of an M/M/c/c loss system.

    Uses the numerically stable recursion (no factorials, no overflow for large ``c``)::

        B(0) = 1,    B(k) = a * B(k-1) / (k + a * B(k-1))

    Args:
        c: number of servers, an integer >= 0.
        a: offered load ``lam/mu`` in Erlangs, >= 0.
    """
    c_i = _check_int("servers c", c, minimum=0)
    a_f = _check_real("offered load a", a, hint="pass lam/mu in Erlangs")
    return _erlang_b_unchecked(c_i, a_f)


def _erlang_c_unchecked(c: int, a: float) -> float:
    if a >= c:
        return 1.0
    if a == 0.0:
        return 0.0
    b = _erlang_b_unchecked(c, a)
    return _c_from_b(c, a, b)


def _c_from_b(c: int, a: float, b: float) -> float:
    # C = c*B / (c - a*(1 - B)) = B / (1 - rho*(1 - B)); denominator > 0 when a < c.
    return min(1.0, c * b / (c - a * (1.0 - b)))


def erlang_c(c: int, a: float) -> float:
    """Erlang C: probability that an arrival has to wait in an M/M/c queue.

    ``C(c, a) = B / (1 - (a/c) * (1 - B))`` with ``B = erlang_b(c, a)``; this is
    ``1.0`` when ``a >= c`` (unstable queue: every arrival eventually waits).

    Args:
        c: number of servers, a positive integer.
        a: offered load ``lam/mu`` in Erlangs, >= 0.
    """
    c_i = _check_int("servers c", c)
    a_f = _check_real("offered load a", a, hint="pass lam/mu in Erlangs")
    return _erlang_c_unchecked(c_i, a_f)


# --------------------------------------------------------------------------- M/M/c metrics


@dataclass(frozen=True)
class MMc:
    """Steady-state metrics of an M/M/c queue (times in seconds, rates per second).

    Attributes:
        lam: arrival rate.
        mu: service rate of one server.
        c: number of servers.
        rho: utilisation ``lam / (c*mu)``.
        p_wait: ``P(W > 0)``, Erlang C (1.0 when ``rho >= 1``).
        mean_wait: ``Wq = C / (c*mu - lam)`` (``inf`` when ``rho >= 1``).
        mean_response: ``Wq + 1/mu``.
        mean_queue_length: ``Lq = lam * Wq``.
        mean_in_system: ``L = lam * (Wq + 1/mu)``.
    """

    lam: float
    mu: float
    c: int
    rho: float
    p_wait: float
    mean_wait: float
    mean_response: float
    mean_queue_length: float
    mean_in_system: float

    @property
    def stable(self) -> bool:
        """True when ``rho < 1`` (the queue has a steady state)."""
        return self.rho < 1.0


def _core(lam: float, mu: float, c: int) -> tuple[float, float, int, float, float]:
    """Validate and return ``(lam, mu, c, C, theta)``; ``theta <= 0`` means unstable."""
    lam_f, mu_f = _check_rates(lam, mu)
    c_i = _check_int("servers c", c)
    theta = c_i * mu_f - lam_f
    if theta <= 0.0:
        return lam_f, mu_f, c_i, 1.0, theta
    return lam_f, mu_f, c_i, _erlang_c_unchecked(c_i, lam_f / mu_f), theta


def mmc(lam: float, mu: float, c: int) -> MMc:
    """Steady-state metrics of an M/M/c queue.

    ``rho = lam/(c*mu)``, ``C = erlang_c(c, lam/mu)``, ``Wq = C/(c*mu - lam)``,
    ``W = Wq + 1/mu``, ``Lq = lam*Wq``, ``L = lam*W``. When ``rho >= 1`` the queue has no
    steady state: ``p_wait`` is 1 and the wait/length fields are ``math.inf`` (not an error).
    """
    lam_f, mu_f, c_i, cw, theta = _core(lam, mu, c)
    rho = lam_f / (c_i * mu_f)
    if theta <= 0.0:
        inf = math.inf
        return MMc(lam_f, mu_f, c_i, rho, 1.0, inf, inf, inf, inf)
    wq = cw / theta
    w = wq + 1.0 / mu_f
    return MMc(lam_f, mu_f, c_i, rho, cw, wq, w, lam_f * wq, lam_f * w)


def wait_tail(lam: float, mu: float, c: int, t: float) -> float:
    """``P(W > t) = C * exp(-(c*mu - lam) * t)`` for the M/M/c waiting time (1.0 if unstable)."""
    _, _, _, cw, theta = _core(lam, mu, c)
    t_f = _check_real("time t", t, allow_inf=True, hint="pass seconds")
    if theta <= 0.0:
        return 1.0
    return cw * math.exp(-theta * t_f)


def wait_percentile(lam: float, mu: float, c: int, q: float) -> float:
    """The ``q``-quantile of the M/M/c waiting time, in seconds.

    ``t_q = ln(C / (1 - q)) / (c*mu - lam)`` when ``q > 1 - C``, else 0 (that share of
    arrivals does not wait at all); ``inf`` when the queue is unstable.
    """
    _, _, _, cw, theta = _core(lam, mu, c)
    q_f = _check_quantile(q)
    if theta <= 0.0:
        return math.inf
    if q_f <= 1.0 - cw:
        return 0.0
    return max(0.0, math.log(cw / (1.0 - q_f)) / theta)


def _response_tail_unchecked(mu: float, cw: float, theta: float, t: float) -> float:
    """``P(W + S > t)`` with ``W`` = (0 w.p. 1-C, Exp(theta) w.p. C) and ``S ~ Exp(mu)``.

    ``P(E_theta + E_mu > t) = (mu*e^{-theta t} - theta*e^{-mu t}) / (mu - theta)``
    ``= e^{-mu t} + mu * (e^{-theta t} - e^{-mu t}) / (mu - theta)``, evaluated with expm1 so
    that ``theta -> mu`` (where it becomes the Erlang-2 tail ``(1 + mu t) e^{-mu t}``) is exact
    and nothing overflows. Mixing with the no-wait branch gives
    ``P(T > t) = e^{-mu t} + C * mu * (e^{-theta t} - e^{-mu t}) / (mu - theta)``.
    """
    if t <= 0.0:
        return 1.0
    if math.isinf(t):
        return 0.0
    d = mu - theta
    x = d * t
    if x == 0.0:
        term = t * math.exp(-mu * t)
    elif d > 0.0:
        term = t * math.exp(-theta * t) * (-math.expm1(-x) / x)
    else:
        term = t * math.exp(-mu * t) * (math.expm1(x) / x)
    return min(1.0, math.exp(-mu * t) + cw * mu * term)


def response_tail(lam: float, mu: float, c: int, t: float) -> float:
    """``P(T > t)`` for the M/M/c response time ``T = W + S`` (exact; 1.0 if unstable).

    With ``theta = c*mu - lam`` and ``C = erlang_c``::

        P(T > t) = e^{-mu t} + C * mu * (e^{-theta t} - e^{-mu t}) / (mu - theta)   (theta != mu)
        P(T > t) = e^{-mu t} + C * mu * t * e^{-mu t}                               (theta == mu)

    (a mixture of ``Exp(mu)`` for arrivals that do not wait and the hypoexponential
    ``Exp(theta) + Exp(mu)`` for those that do).
    """
    _, mu_f, _, cw, theta = _core(lam, mu, c)
    t_f = _check_real("time t", t, allow_inf=True, hint="pass seconds")
    if theta <= 0.0:
        return 1.0
    return _response_tail_unchecked(mu_f, cw, theta, t_f)


def _response_percentile_unchecked(mu: float, cw: float, theta: float, q: float) -> float:
    target = 1.0 - q
    lo = -math.log(target) / mu  # the service-time percentile: T >= S
    if cw == 0.0:
        return lo
    if _response_tail_unchecked(mu, cw, theta, lo) <= target:
        return lo
    hi = lo + max(math.log(max(cw, 1e-300) / target), 1.0) / theta + 1.0 / mu
    while _response_tail_unchecked(mu, cw, theta, hi) > target:
        hi *= 2.0
    return float(
        brentq(
            lambda s: _response_tail_unchecked(mu, cw, theta, s) - target,
            lo,
            hi,
            xtol=1e-14,
            rtol=1e-13,
            maxiter=500,
        )
    )


def response_percentile(lam: float, mu: float, c: int, q: float) -> float:
    """The ``q``-quantile of the M/M/c response time (wait + service), in seconds.

    Solves ``response_tail(t) = 1 - q`` with :func:`scipy.optimize.brentq` on a bracket
    that starts at the service-time quantile ``-ln(1-q)/mu`` (``T >= S``); ``inf`` when the
    queue is unstable.
    """
    _, mu_f, _, cw, theta = _core(lam, mu, c)
    q_f = _check_quantile(q)
    if theta <= 0.0:
        return math.inf
    return _response_percentile_unchecked(mu_f, cw, theta, q_f)


# --------------------------------------------------------------------------- sizing

_METRICS = ("response", "wait")


def min_servers(lam: float, mu: float, slo_s: float, q: float = 0.99, metric: str = "response") -> int:
    """Smallest ``c`` with ``c*mu > lam`` and ``P(metric <= slo_s) >= q`` in an M/M/c queue.

    ``metric`` is ``"response"`` (wait + service) or ``"wait"`` (time in queue only).
    Walks ``c`` upward from the smallest stable value, carrying the Erlang B recursion
    along, and checks the exact tail at ``slo_s`` (no root finding needed).

    Raises:
        ConfigError: on invalid parameters, or when no number of servers can meet the
            SLO (a response-time SLO at or below the service time's own ``q``-quantile
            ``-ln(1-q)/mu``: extra consumers shorten the wait, never the service).
    """
    lam_f, mu_f = _check_rates(lam, mu)
    slo = _check_real("slo_s", slo_s, hint="pass the latency objective in seconds")
    q_f = _check_quantile(q)
    if metric not in _METRICS:
        raise ConfigError(f"metric must be 'response' or 'wait', got {metric!r}.")
    target = 1.0 - q_f
    service_q = -math.log(target) / mu_f
    impossible = ConfigError(
        f"No number of servers meets a response-time SLO of {slo:g} s at q={q_f:g}: the "
        f"service time alone has a {q_f:g}-quantile of {service_q:g} s (mu={mu_f:g}/s), and "
        "adding consumers only shortens the wait. Raise the SLO above that or make "
        "service faster."
    )
    if metric == "response" and (slo < service_q or (lam_f > 0.0 and slo <= service_q)):
        raise impossible
    if lam_f == 0.0:
        return 1
    a = lam_f / mu_f
    c = int(math.floor(a)) + 1
    while c * mu_f <= lam_f:
        c += 1
    b = _erlang_b_unchecked(c, a)
    while True:
        theta = c * mu_f - lam_f
        cw = _c_from_b(c, a, b)
        if metric == "wait":
            tail = cw * math.exp(-theta * slo)
        else:
            tail = _response_tail_unchecked(mu_f, cw, theta, slo)
        if tail <= target:
            return c
        if b == 0.0:
            # C has underflowed: the SLO sits within rounding of the service-time quantile.
            raise impossible
        c += 1
        ab = a * b
        b = ab / (c + ab)
