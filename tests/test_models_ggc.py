"""G/G/c: Allen–Cunneen reduces to M/M/c, Kingman at c = 1, P-K for M/D/1, percentiles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from capacity.errors import ConfigError
from capacity.models.erlang import erlang_c, mmc, response_percentile, wait_percentile
from capacity.models.ggc import GGc, ggc, ggc_response_percentile, ggc_wait_percentile

CASES = [(0.5, 1.0, 1), (0.9, 1.0, 1), (3.0, 1.0, 4), (7.5, 0.5, 16), (170.0, 2.0, 100)]


@pytest.mark.parametrize(("lam", "mu", "c"), CASES)
def test_equals_mmc_when_scvs_are_one(lam: float, mu: float, c: int) -> None:
    g, m = ggc(lam, mu, c, 1.0, 1.0), mmc(lam, mu, c)
    assert isinstance(g, GGc)
    assert g.rho == pytest.approx(m.rho, rel=1e-14)
    assert g.p_wait == pytest.approx(m.p_wait, rel=1e-12)
    assert g.mean_wait == pytest.approx(m.mean_wait, rel=1e-12)
    assert g.mean_response == pytest.approx(m.mean_response, rel=1e-12)
    assert g.mean_queue_length == pytest.approx(m.mean_queue_length, rel=1e-12)
    for q in (0.5, 0.95, 0.999):
        assert ggc_wait_percentile(lam, mu, c, q) == pytest.approx(wait_percentile(lam, mu, c, q), rel=1e-12)
        assert ggc_response_percentile(lam, mu, c, q) == pytest.approx(response_percentile(lam, mu, c, q), rel=1e-7)


@pytest.mark.parametrize(("ca2", "cs2"), [(1.0, 0.0), (0.5, 0.5), (2.0, 3.0), (0.0, 0.0), (1.0, 9.0)])
@pytest.mark.parametrize(("lam", "mu"), [(0.3, 1.0), (0.8, 1.0), (45.0, 50.0)])
def test_kingman_at_one_server(lam: float, mu: float, ca2: float, cs2: float) -> None:
    rho = lam / mu
    g = ggc(lam, mu, 1, ca2, cs2)
    assert g.p_wait == rho
    kingman = rho / (mu - lam) * (ca2 + cs2) / 2
    assert g.mean_wait == pytest.approx(kingman, rel=1e-13, abs=0.0)
    assert g.mean_response == pytest.approx(kingman + 1 / mu, rel=1e-13)


def test_md1_matches_pollaczek_khinchine() -> None:
    # M/D/1: Wq = rho / (2 mu (1 - rho)) exactly.
    lam, mu = 0.8, 1.0
    assert ggc(lam, mu, 1, 1.0, 0.0).mean_wait == pytest.approx(0.8 / (2 * 0.2), rel=1e-13)


def test_allen_cunneen_scales_the_mmc_wait() -> None:
    base = mmc(6.0, 1.0, 8).mean_wait
    for ca2, cs2 in [(0.2, 0.4), (1.0, 0.5), (3.0, 1.0)]:
        assert ggc(6.0, 1.0, 8, ca2, cs2).mean_wait == pytest.approx(base * (ca2 + cs2) / 2, rel=1e-13)


def test_wait_percentile_formula() -> None:
    lam, mu, c, ca2, cs2, q = 3.0, 1.0, 4, 1.0, 0.5, 0.95
    g = ggc(lam, mu, c, ca2, cs2)
    expected = g.mean_wait / g.p_wait * math.log(g.p_wait / (1 - q))
    assert ggc_wait_percentile(lam, mu, c, q, ca2, cs2) == pytest.approx(expected, rel=1e-13)
    assert ggc_wait_percentile(lam, mu, c, (1 - g.p_wait) * 0.99, ca2, cs2) == 0.0
    assert ggc_wait_percentile(lam, mu, c, q, 0.0, 0.0) == 0.0  # D/D/c never waits


def test_deterministic_service_response_percentile_closed_form() -> None:
    lam, mu, c, q = 3.0, 1.0, 4, 0.95
    g = ggc(lam, mu, c, 1.0, 0.0)
    theta = g.p_wait / g.mean_wait
    expected = 1 / mu + math.log(g.p_wait / (1 - q)) / theta
    assert ggc_response_percentile(lam, mu, c, q, 1.0, 0.0) == pytest.approx(expected, rel=1e-13)
    # continuity when cs2 -> 0 through the gamma branch
    assert ggc_response_percentile(lam, mu, c, q, 1.0, 1e-4) == pytest.approx(
        ggc_response_percentile(lam, mu, c, q, 1.0, 0.0), rel=0.01
    )
    # below the waiting mass the quantile is the service time itself
    assert ggc_response_percentile(lam, mu, c, 0.1, 1.0, 0.0) == 1.0


@pytest.mark.parametrize("cs2", [0.25, 0.5, 2.0])
def test_response_percentile_matches_monte_carlo_of_its_approximation(cs2: float) -> None:
    """The numerical convolution is right: compare with sampling the same W + S model."""
    lam, mu, c = 3.2, 1.0, 4
    g = ggc(lam, mu, c, 1.0, cs2)
    rng = np.random.default_rng(20240601)
    n = 400_000
    waits = np.where(rng.random(n) < g.p_wait, rng.exponential(g.mean_wait / g.p_wait, n), 0.0)
    k = 1 / cs2
    service = rng.gamma(k, 1 / (k * mu), n)
    for q in (0.5, 0.9, 0.99):
        mc = float(np.quantile(waits + service, q))
        assert ggc_response_percentile(lam, mu, c, q, 1.0, cs2) == pytest.approx(mc, rel=0.015)


def test_response_percentile_grows_with_variability_and_quantile() -> None:
    lam, mu, c = 3.0, 1.0, 4
    by_cs2 = [ggc_response_percentile(lam, mu, c, 0.99, 1.0, cs2) for cs2 in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert by_cs2 == sorted(by_cs2) and len(set(by_cs2)) == 5
    by_q = [ggc_response_percentile(lam, mu, c, q, 1.0, 0.5) for q in (0.5, 0.9, 0.99, 0.999)]
    assert by_q == sorted(by_q) and len(set(by_q)) == 4


def test_unstable_is_infinite() -> None:
    g = ggc(5.0, 1.0, 4, 0.5, 0.5)
    assert not g.stable and g.p_wait == 1.0
    assert math.isinf(g.mean_wait) and math.isinf(g.mean_response)
    assert math.isinf(ggc_wait_percentile(5.0, 1.0, 4, 0.9))
    assert math.isinf(ggc_response_percentile(4.0, 1.0, 4, 0.9, 1.0, 0.5))


def test_c1_uses_rho_as_wait_probability() -> None:
    assert ggc(0.7, 1.0, 1).p_wait == 0.7
    assert ggc(0.7, 1.0, 1).p_wait == pytest.approx(erlang_c(1, 0.7), rel=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ca2": -0.1}, "arrival SCV ca2 must be a finite number >= 0, got -0.1"),
        ({"cs2": math.nan}, "service SCV cs2 must be a finite number >= 0, got nan"),
        ({"c": 0}, "servers c must be a positive integer, got 0"),
        ({"mu": -1.0}, "service rate mu must be a finite number > 0, got -1.0"),
    ],
)
def test_invalid_parameters(kwargs: dict[str, float], message: str) -> None:
    args: dict[str, float] = {"lam": 1.0, "mu": 1.0, "c": 2, "ca2": 1.0, "cs2": 1.0} | kwargs
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        ggc(**args)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        ggc_response_percentile(q=0.9, **args)  # type: ignore[arg-type]
