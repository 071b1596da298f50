"""G/G/c queues: Allen–Cunneen (Kingman for c = 1) and approximate percentiles.

Arrivals and service are described by their rates and squared coefficients of variation
(SCV = variance / mean**2): ``ca2`` for inter-arrival times, ``cs2`` for service times
(1 for Poisson/exponential, 0 for deterministic).

Mean wait (Allen–Cunneen)::

    Wq ~= C(c, a) / (c*mu - lam) * (ca2 + cs2) / 2          a = lam/mu

which is the M/M/c mean wait scaled by ``(ca2 + cs2)/2``: exact for M/M/c, exact for
M/G/1 (Pollaczek–Khinchine), and for ``c == 1`` it is Kingman's formula
``Wq ~= rho/(mu - lam) * (ca2 + cs2)/2`` (``C(1, a) = rho``).

Percentiles (an approximation, documented on each function): the probability of waiting
is taken from M/M/c, ``P(W > 0) ~= C``, and the conditional wait ``W | W > 0`` is
exponential with mean ``Wq / C`` so that the mean wait matches Allen–Cunneen.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from scipy import integrate, special
from scipy.optimize import brentq

from capacity.models.erlang import (
    _check_int,
    _check_quantile,
    _check_rates,
    _check_real,
    _erlang_c_unchecked,
)

__all__ = ["GGc", "ggc", "ggc_response_percentile", "ggc_wait_percentile"]


@dataclass(frozen=True)
class GGc:
    """Approximate steady-state metrics of a G/G/c queue (seconds, per second).

    Attributes:
        lam, mu, c, ca2, cs2: the inputs.
        rho: utilisation ``lam / (c*mu)``.
        p_wait: ``P(W > 0)`` approximated by Erlang C (``rho`` when ``c == 1``).
        mean_wait: Allen–Cunneen ``Wq`` (``inf`` when ``rho >= 1``).
        mean_response: ``Wq + 1/mu``.
        mean_queue_length: ``lam * Wq`` (Little's law).
        mean_in_system: ``lam * (Wq + 1/mu)``.
    """

    lam: float
    mu: float
    c: int
    ca2: float
    cs2: float
    rho: float
    p_wait: float
    mean_wait: float
    mean_response: float
    mean_queue_length: float
    mean_in_system: float

    @property
    def stable(self) -> bool:
        """True when ``rho < 1``."""
        return self.rho < 1.0


def _check_scv(name: str, value: float) -> float:
    return _check_real(name, value, hint="a squared coefficient of variation (1 = Poisson/exponential)")


def ggc(lam: float, mu: float, c: int, ca2: float = 1.0, cs2: float = 1.0) -> GGc:
    """Allen–Cunneen approximation of a G/G/c queue (Kingman when ``c == 1``).

    ``Wq = C(c, lam/mu) / (c*mu - lam) * (ca2 + cs2) / 2`` with ``C = rho`` for ``c == 1``;
    ``W = Wq + 1/mu``. When ``rho >= 1`` the wait fields are ``math.inf`` (not an error).
    """
    lam_f, mu_f = _check_rates(lam, mu)
    c_i = _check_int("servers c", c)
    ca2_f = _check_scv("arrival SCV ca2", ca2)
    cs2_f = _check_scv("service SCV cs2", cs2)
    rho = lam_f / (c_i * mu_f)
    theta = c_i * mu_f - lam_f
    if theta <= 0.0:
        inf = math.inf
        return GGc(lam_f, mu_f, c_i, ca2_f, cs2_f, rho, 1.0, inf, inf, inf, inf)
    p_wait = rho if c_i == 1 else _erlang_c_unchecked(c_i, lam_f / mu_f)
    wq = p_wait / theta * (ca2_f + cs2_f) / 2.0
    w = wq + 1.0 / mu_f
    return GGc(lam_f, mu_f, c_i, ca2_f, cs2_f, rho, p_wait, wq, w, lam_f * wq, lam_f * w)


def ggc_wait_percentile(lam: float, mu: float, c: int, q: float, ca2: float = 1.0, cs2: float = 1.0) -> float:
    """Approximate ``q``-quantile of the G/G/c waiting time, in seconds.

    ``P(W > t) ~= C * exp(-t * C / Wq)`` (``C`` from :func:`ggc`, ``Wq`` Allen–Cunneen), so
    ``t_q = (Wq / C) * ln(C / (1 - q))`` when ``q > 1 - C``, else 0; ``inf`` if unstable.
    Exact for M/M/c (``ca2 = cs2 = 1``).
    """
    m = ggc(lam, mu, c, ca2, cs2)
    q_f = _check_quantile(q)
    if not m.stable:
        return math.inf
    if q_f <= 1.0 - m.p_wait or m.mean_wait == 0.0:
        return 0.0
    return max(0.0, m.mean_wait / m.p_wait * math.log(m.p_wait / (1.0 - q_f)))


# Service SCVs below this are treated as deterministic service (gamma shape > 1e6).
_DETERMINISTIC_SCV = 1e-6


def _gamma_survival(k: float, beta: float, x: float) -> float:
    if x <= 0.0:
        return 1.0
    return float(special.gammaincc(k, beta * x))


def _ggc_response_tail(mu: float, cs2: float, p_wait: float, theta: float, t: float) -> float:
    """``P(W + S > t)`` for ``W`` = (0 w.p. 1-p, Exp(theta) w.p. p), ``S ~ Gamma(mean 1/mu, SCV cs2)``.

    ``P(T > t) = (1-p) Sbar(t) + p * [e^{-theta t} + int_0^t theta e^{-theta r} Sbar(t-r) dr]``,
    conditioning on the exponential wait so that the integrand is bounded and smooth for
    every gamma shape (no singularity at 0 when ``cs2 > 1``).
    """
    if t <= 0.0:
        return 1.0
    k = 1.0 / cs2
    beta = k * mu
    sbar_t = _gamma_survival(k, beta, t)
    if p_wait == 0.0:
        return sbar_t
    mean_s = 1.0 / mu

    def integrand(r: float) -> float:
        return theta * math.exp(-theta * r) * _gamma_survival(k, beta, t - r)

    points = [p for p in (t - mean_s, min(t, 1.0 / theta)) if 0.0 < p < t]
    with warnings.catch_warnings():
        # The integrand is bounded by theta*e^{-theta r}; a tolerance warning only means the
        # last digits are uncertain, which is far below the accuracy of the approximation.
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        conv, _ = integrate.quad(integrand, 0.0, t, points=points or None, limit=200, epsabs=1e-13)
    tail = (1.0 - p_wait) * sbar_t + p_wait * (math.exp(-theta * t) + conv)
    return min(1.0, max(0.0, tail))


def ggc_response_percentile(lam: float, mu: float, c: int, q: float, ca2: float = 1.0, cs2: float = 1.0) -> float:
    """Approximate ``q``-quantile of the G/G/c response time (wait + service), in seconds.

    Approximation: ``T = W + S`` with ``W`` and ``S`` independent, ``W`` as in
    :func:`ggc_wait_percentile` (no wait w.p. ``1 - C``, else exponential with rate
    ``theta = C / Wq``), and the service time ``S`` a gamma distribution with mean ``1/mu``
    and SCV ``cs2`` (shape ``1/cs2``; ``cs2 == 0`` is deterministic service). The tail is
    the exact convolution of these two::

        P(T > t) = (1 - C) * Sbar(t) + C * [e^{-theta t} + int_0^t theta e^{-theta r} Sbar(t - r) dr]

    (numerical quadrature; closed form ``d + ln(C/(1-q))/theta`` for deterministic service
    time ``d``) and the quantile is found with :func:`scipy.optimize.brentq`. For
    ``ca2 = cs2 = 1`` this is exactly the M/M/c response-time quantile. ``inf`` if unstable.
    """
    m = ggc(lam, mu, c, ca2, cs2)
    q_f = _check_quantile(q)
    if not m.stable:
        return math.inf
    target = 1.0 - q_f
    mu_f = m.mu
    p_wait = m.p_wait if m.mean_wait > 0.0 else 0.0
    theta = p_wait / m.mean_wait if p_wait > 0.0 else math.inf
    if m.cs2 < _DETERMINISTIC_SCV:
        d = 1.0 / mu_f
        if p_wait <= target:
            return d
        return d + math.log(p_wait / target) / theta
    k = 1.0 / m.cs2
    service_q = float(special.gammainccinv(k, target)) / (k * mu_f)
    if p_wait == 0.0:
        return service_q

    def f(s: float) -> float:
        return _ggc_response_tail(mu_f, m.cs2, p_wait, theta, s) - target

    lo = service_q  # T >= S
    if f(lo) <= 0.0:
        return lo
    hi = lo + max(math.log(p_wait / target), 1.0) / theta + 1.0 / mu_f
    while f(hi) > 0.0:
        hi *= 2.0
    return float(brentq(f, lo, hi, xtol=1e-12, rtol=1e-10, maxiter=500))
