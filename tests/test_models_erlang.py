"""M/M/c: Erlang B/C against closed forms and tables, tail formulas, sizing, validation."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import gammaln, logsumexp

from capacity.errors import CapacityError, ConfigError
from capacity.models.erlang import (
    MMc,
    erlang_b,
    erlang_c,
    min_servers,
    mmc,
    response_percentile,
    response_tail,
    wait_percentile,
    wait_tail,
)

PROPS = settings(derandomize=True, database=None, deadline=None, max_examples=150)


def exact_b(c: int, a: Fraction) -> Fraction:
    """Erlang B from its definition (a^c/c!) / sum_k a^k/k!, in exact rational arithmetic."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def exact_c(c: int, a: Fraction) -> Fraction:
    """Erlang C from its definition, exact: (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + same)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


# --------------------------------------------------------------------------- Erlang B / C


def test_erlang_b_published_table_values() -> None:
    # Erlang B tables: 10 trunks offered 5 E block 1.8385 %; 5 trunks at 2 E block 3.67 %.
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=5e-7)
    assert erlang_b(5, 2.0) == pytest.approx(0.0367, abs=5e-5)
    assert erlang_b(1, 1.0) == 0.5
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(4, 0.0) == 0.0


def test_erlang_c_textbook_values() -> None:
    # M/M/2 with a = 1 (rho = 1/2): C = 1/3.  M/M/3 with a = 2: C = 4/9.  M/M/1: C = rho.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-14)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-14)
    assert erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-14)
    assert erlang_c(5, 0.0) == 0.0


@pytest.mark.parametrize("c", [1, 2, 3, 5, 8, 13, 25, 40])
@pytest.mark.parametrize("load", [Fraction(1, 10), Fraction(1, 2), Fraction(4, 5), Fraction(19, 20)])
def test_erlang_b_and_c_match_exact_closed_forms(c: int, load: Fraction) -> None:
    a = load * c  # utilisation `load`
    assert erlang_b(c, float(a)) == pytest.approx(float(exact_b(c, a)), rel=1e-12)
    assert erlang_c(c, float(a)) == pytest.approx(float(exact_c(c, a)), rel=1e-12)


@pytest.mark.parametrize("a", [3.0, 7.0, 10.0])
def test_erlang_c_is_one_when_load_reaches_servers(a: float) -> None:
    assert erlang_c(3, a) == 1.0


@pytest.mark.parametrize(("c", "a"), [(500, 480.0), (500, 499.9), (500, 350.0), (2000, 1990.0)])
def test_large_c_is_numerically_stable(c: int, a: float) -> None:
    # Reference in log space: log(a^k/k!) = k log a - lgamma(k+1), summed with logsumexp.
    k = np.arange(c + 1)
    logs = k * math.log(a) - gammaln(k + 1)
    b_ref = math.exp(logs[-1] - logsumexp(logs))
    b = erlang_b(c, a)
    assert 0.0 < b < 1.0
    assert b == pytest.approx(b_ref, rel=1e-9)
    c_ref = b_ref / (1 - (a / c) * (1 - b_ref))
    assert erlang_c(c, a) == pytest.approx(c_ref, rel=1e-9)
    m = mmc(a, 1.0, c)
    assert math.isfinite(m.mean_wait) and m.mean_wait > 0


# --------------------------------------------------------------------------- M/M/1 reduction


@pytest.mark.parametrize(("lam", "mu"), [(0.5, 1.0), (8.0, 10.0), (0.99, 1.0), (30.0, 200.0)])
def test_c1_reduces_exactly_to_mm1(lam: float, mu: float) -> None:
    rho = lam / mu
    m = mmc(lam, mu, 1)
    assert m.rho == pytest.approx(rho, rel=1e-14)
    assert m.p_wait == pytest.approx(rho, rel=1e-13)
    assert m.mean_wait == pytest.approx(rho / (mu - lam), rel=1e-12)
    assert m.mean_response == pytest.approx(1 / (mu - lam), rel=1e-12)
    assert m.mean_queue_length == pytest.approx(rho**2 / (1 - rho), rel=1e-12)
    assert m.mean_in_system == pytest.approx(rho / (1 - rho), rel=1e-12)
    for t in (0.0, 0.3 / mu, 2.0 / mu, 25.0 / mu):
        assert wait_tail(lam, mu, 1, t) == pytest.approx(rho * math.exp(-(mu - lam) * t), rel=1e-12)
        # M/M/1 sojourn time is exponential with rate mu - lam.
        assert response_tail(lam, mu, 1, t) == pytest.approx(math.exp(-(mu - lam) * t), rel=1e-11)
    for q in (0.5, 0.9, 0.99, 0.999):
        assert response_percentile(lam, mu, 1, q) == pytest.approx(-math.log(1 - q) / (mu - lam), rel=1e-10)
        expected_w = max(0.0, math.log(rho / (1 - q)) / (mu - lam))
        assert wait_percentile(lam, mu, 1, q) == pytest.approx(expected_w, rel=1e-12, abs=1e-15)


def test_mmc_fields_and_littles_law() -> None:
    m = mmc(3.0, 1.0, 4)
    assert isinstance(m, MMc)
    c = erlang_c(4, 3.0)
    assert m.p_wait == pytest.approx(c)
    assert m.mean_wait == pytest.approx(c / (4 - 3))
    assert m.mean_response == pytest.approx(m.mean_wait + 1.0)
    assert m.mean_queue_length == pytest.approx(3.0 * m.mean_wait)
    assert m.mean_in_system == pytest.approx(3.0 * m.mean_response)
    assert m.stable
    with pytest.raises(AttributeError):
        m.c = 5  # type: ignore[misc]


@pytest.mark.parametrize(("lam", "c"), [(4.0, 4), (10.0, 4)])
def test_unstable_queue_reports_infinity_not_an_error(lam: float, c: int) -> None:
    m = mmc(lam, 1.0, c)
    assert m.rho >= 1.0 and not m.stable
    assert m.p_wait == 1.0
    assert math.isinf(m.mean_wait) and math.isinf(m.mean_response)
    assert math.isinf(m.mean_queue_length) and math.isinf(m.mean_in_system)
    assert wait_tail(lam, 1.0, c, 100.0) == 1.0
    assert response_tail(lam, 1.0, c, 100.0) == 1.0
    assert math.isinf(wait_percentile(lam, 1.0, c, 0.5))
    assert math.isinf(response_percentile(lam, 1.0, c, 0.5))


def test_zero_traffic_has_no_wait() -> None:
    m = mmc(0.0, 2.0, 3)
    assert (m.p_wait, m.mean_wait, m.mean_queue_length) == (0.0, 0.0, 0.0)
    assert m.mean_response == 0.5
    assert response_percentile(0.0, 2.0, 3, 0.99) == pytest.approx(-math.log(0.01) / 2.0)


# --------------------------------------------------------------------------- response distribution


def _convolution_tail(lam: float, mu: float, c: int, t: float) -> float:
    """P(W + S > t) by numerical integration over the service time (independent reference)."""
    cw = erlang_c(c, lam / mu)
    theta = c * mu - lam

    def wait_survival(x: float) -> float:
        return cw * math.exp(-theta * x) if x >= 0 else 1.0

    inside, _ = integrate.quad(lambda s: mu * math.exp(-mu * s) * wait_survival(t - s), 0.0, t)
    return math.exp(-mu * t) + inside


@pytest.mark.parametrize(
    ("lam", "mu", "c"),
    [(0.8, 1.0, 1), (3.0, 1.0, 4), (4.0, 2.0, 3), (9.5, 1.0, 10), (1.0, 5.0, 2), (45.0, 1.0, 50)],
)
def test_response_tail_matches_numerical_convolution(lam: float, mu: float, c: int) -> None:
    for t in (0.05, 0.5, 1.0, 3.0, 10.0):
        expected = _convolution_tail(lam, mu, c, t)
        assert response_tail(lam, mu, c, t) == pytest.approx(expected, rel=1e-7, abs=1e-13)


def test_response_tail_special_case_theta_equals_mu() -> None:
    # c*mu - lam == mu: W|W>0 and S are both Exp(mu), their sum is Erlang-2.
    lam, mu, c = 4.0, 2.0, 3
    cw = erlang_c(c, lam / mu)
    for t in (0.0, 0.1, 1.0, 4.0, 30.0):
        expected = (1 - cw) * math.exp(-mu * t) + cw * (1 + mu * t) * math.exp(-mu * t)
        assert response_tail(lam, mu, c, t) == pytest.approx(expected, rel=1e-13, abs=1e-300)
        # continuous on both sides of the special case (no cancellation blow-up)
        for eps in (1e-12, 1e-9, 1e-6):
            near = response_tail(lam * (1 + eps), mu, c, t)
            assert near == pytest.approx(expected, rel=1e-4, abs=1e-300)


def test_response_tail_extreme_arguments_do_not_overflow() -> None:
    # theta >> mu and theta << mu with large t: terms like e^{(theta-mu)t} must not overflow.
    assert 0.0 <= response_tail(1.0, 0.001, 5000, 1e6) <= 1.0
    assert 0.0 <= response_tail(0.999999, 1.0, 1, 1e6) <= 1.0
    assert response_tail(0.5, 1.0, 1, math.inf) == 0.0
    assert response_tail(0.5, 1.0, 1, 0.0) == 1.0


@PROPS
@given(
    c=st.integers(min_value=1, max_value=60),
    rho=st.floats(min_value=0.01, max_value=0.99),
    mu=st.floats(min_value=0.01, max_value=1000.0),
    q=st.floats(min_value=0.01, max_value=0.9999),
)
def test_percentiles_round_trip_through_tails(c: int, rho: float, mu: float, q: float) -> None:
    lam = rho * c * mu
    cw = erlang_c(c, lam / mu)
    tw = wait_percentile(lam, mu, c, q)
    if q <= 1 - cw:
        assert tw == 0.0
    else:
        assert wait_tail(lam, mu, c, tw) == pytest.approx(1 - q, rel=1e-9)
    tr = response_percentile(lam, mu, c, q)
    assert tr >= -math.log(1 - q) / mu * (1 - 1e-12)  # never below the service-time quantile
    assert response_tail(lam, mu, c, tr) == pytest.approx(1 - q, rel=1e-8)


# --------------------------------------------------------------------------- properties of C


@PROPS
@given(c=st.integers(min_value=1, max_value=300), a=st.floats(min_value=0.0, max_value=400.0))
def test_erlang_c_in_unit_interval_and_decreasing_in_servers(c: int, a: float) -> None:
    now, more = erlang_c(c, a), erlang_c(c + 1, a)
    assert 0.0 <= more <= now <= 1.0
    if 0 < a < c and now > 1e-290:  # strictly, until C underflows
        assert more < now
    assert 0.0 <= erlang_b(c, a) <= now  # waiting is always at least as likely as blocking


@PROPS
@given(
    c=st.integers(min_value=1, max_value=200),
    a1=st.floats(min_value=0.0, max_value=250.0),
    a2=st.floats(min_value=0.0, max_value=250.0),
)
def test_erlang_c_increases_with_load(c: int, a1: float, a2: float) -> None:
    lo, hi = sorted((a1, a2))
    assert erlang_c(c, lo) <= erlang_c(c, hi)
    assert erlang_b(c, lo) <= erlang_b(c, hi)


# --------------------------------------------------------------------------- sizing


@pytest.mark.parametrize(
    ("lam", "mu", "slo", "q", "metric"),
    [
        (100.0, 1.0, 6.0, 0.99, "response"),
        (100.0, 1.0, 0.5, 0.99, "wait"),
        (100.0, 1.0, 0.0, 0.95, "wait"),
        (0.5, 1.0, 10.0, 0.9, "response"),
        (1200.0, 50.0, 0.2, 0.999, "response"),
        (2.0, 10.0, 0.05, 0.5, "wait"),
    ],
)
def test_min_servers_is_the_smallest_that_meets_the_slo(
    lam: float, mu: float, slo: float, q: float, metric: str
) -> None:
    c = min_servers(lam, mu, slo, q, metric)
    pct = response_percentile if metric == "response" else wait_percentile
    assert c * mu > lam
    assert pct(lam, mu, c, q) <= slo * (1 + 1e-9)
    if (c - 1) * mu > lam:
        assert pct(lam, mu, c - 1, q) > slo


def test_min_servers_known_value() -> None:
    # 100 msg/s, 1 s service, p99 wait <= 0.5 s: a = 100 E. c=108 gives C*e^{-8*0.5} <= 0.01.
    c = min_servers(100.0, 1.0, 0.5, 0.99, "wait")
    assert c == 108
    assert wait_tail(100.0, 1.0, 108, 0.5) <= 0.01 < wait_tail(100.0, 1.0, 107, 0.5)


def test_min_servers_impossible_slo_says_why() -> None:
    # p99 of a 1 s exponential service alone is 4.6 s; no number of consumers beats it.
    with pytest.raises(ConfigError, match=r"service time alone has a 0\.99-quantile of 4\.60517 s"):
        min_servers(100.0, 1.0, 2.0, 0.99)
    with pytest.raises(ConfigError, match="No number of servers"):
        min_servers(1.0, 1.0, -math.log(1 - 0.99), 0.99)  # exactly the service quantile: never met


@PROPS
@given(
    lam1=st.floats(min_value=0.0, max_value=500.0),
    lam2=st.floats(min_value=0.0, max_value=500.0),
    slo=st.floats(min_value=0.5, max_value=20.0),
    metric=st.sampled_from(["response", "wait"]),
)
def test_min_servers_is_monotone_in_arrival_rate(lam1: float, lam2: float, slo: float, metric: str) -> None:
    lo, hi = sorted((lam1, lam2))
    mu, q = 1.0, 0.9  # service p90 is 2.3 s
    if metric == "response" and slo <= -math.log(1 - q) / mu:
        with pytest.raises(ConfigError):
            min_servers(hi, mu, slo, q, metric)
        return
    assert min_servers(lo, mu, slo, q, metric) <= min_servers(hi, mu, slo, q, metric)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mmc(1.0, 1.0, 0), "servers c must be a positive integer, got 0"),
        (lambda: mmc(1.0, 1.0, 2.5), "servers c must be a positive integer, got 2.5"),
        (lambda: mmc(1.0, 1.0, True), "servers c must be a positive integer, got True"),
        (lambda: mmc(-1.0, 1.0, 2), "arrival rate lam must be a finite number >= 0, got -1.0"),
        (lambda: mmc(math.nan, 1.0, 2), "arrival rate lam must be a finite number"),
        (lambda: mmc(1.0, 0.0, 2), "service rate mu must be a finite number > 0, got 0.0"),
        (lambda: mmc(1.0, math.inf, 2), "service rate mu must be a finite number > 0, got inf"),
        (lambda: erlang_b(-1, 1.0), "servers c must be an integer >= 0, got -1"),
        (lambda: erlang_c(3, -0.5), "offered load a must be a finite number >= 0, got -0.5"),
        (lambda: wait_percentile(1.0, 2.0, 1, 1.0), "quantile q must be strictly between 0 and 1, got 1.0"),
        (lambda: response_percentile(1.0, 2.0, 1, 0.0), "quantile q must be strictly between 0 and 1"),
        (lambda: wait_tail(1.0, 2.0, 1, -1.0), "time t must be a number >= 0, got -1.0"),
        (lambda: min_servers(1.0, 2.0, 1.0, 0.9, "latency"), "metric must be 'response' or 'wait'"),
        (lambda: min_servers(1.0, 2.0, -1.0), "slo_s must be a finite number >= 0, got -1.0"),
    ],
)
def test_invalid_parameters_raise_config_error_naming_the_value(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=f"^{_escape(message)}"):
        call()


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def test_config_error_is_a_capacity_error() -> None:
    with pytest.raises(CapacityError):
        mmc(1.0, 1.0, 0)
