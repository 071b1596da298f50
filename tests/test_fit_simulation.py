"""The fitter against Ciw simulations with known consumers, service time and distribution."""

from __future__ import annotations

import pytest

from capacity.errors import FitError
from capacity.fit import fit_run
from capacity.runs import RunWriter, read_run
from tests.simrun import simulated_run

pytestmark = pytest.mark.simulation

STEPS = [(30, 30), (30, 45), (30, 60), (30, 75), (30, 90), (30, 130), (40, 40)]


@pytest.mark.parametrize("servers, mean_s, kind, scv, seed", [
    (4, 0.040, "exp", 1.0, 5),
    (4, 0.040, "lognormal", 0.5, 3),
    (2, 0.025, "const", 0.0, 8),
])
def test_recovers_capacity_servers_and_service_time(tmp_path, servers, mean_s, kind, scv, seed) -> None:
    run = read_run(simulated_run(tmp_path / "r", servers, mean_s, STEPS if servers == 4 else
                                 [(d, r * 0.8) for d, r in STEPS], kind, scv, seed))
    model = fit_run(run)
    truth = servers / mean_s
    cap = model["capacity_msgs_per_s"]
    assert cap["value"] == pytest.approx(truth, rel=0.05)
    assert cap["ci_low"] <= truth <= cap["ci_high"]
    assert model["servers"]["ci_low"] <= servers <= model["servers"]["ci_high"]
    assert model["service_time_s"]["value"] == pytest.approx(mean_s, rel=0.15)
    assert model["slo"]["metric"] == "e2e"
    # the SLO capacity sits below capacity and its prediction holds the SLO by construction
    assert 0 < model["slo_capacity_msgs_per_s"]["value"] < cap["value"]
    assert model["fit_quality"]["validation"]["mape"] < 0.35
    assert model["surge"] and model["sizing"]["consumers_needed"] >= 1


def test_warns_about_extrapolation(tmp_path) -> None:
    model = fit_run(read_run(simulated_run(tmp_path / "r", 4, 0.04, STEPS, seed=2)))
    assert model["fit_quality"]["extrapolation_ratio"] > 1.5
    assert any("extrapolated" in w for w in model["warnings"])


def test_never_saturated_extrapolates_with_a_warning(tmp_path) -> None:
    # loads up to rho = 0.85: the queue never stays deep, capacity must come from the latency curve
    steps = [(40, 20), (40, 40), (40, 60), (40, 75), (40, 85)]
    model = fit_run(read_run(simulated_run(tmp_path / "r", 4, 0.04, steps, seed=4)))
    cap = model["capacity_msgs_per_s"]
    assert model["fit_quality"]["saturated_intervals"] == 0
    assert cap["value"] == pytest.approx(100, rel=0.25)
    assert cap["ci_low"] <= 100 <= cap["ci_high"]
    assert any("never saturated" in w and "extrapolated" in w for w in model["warnings"])


def test_never_saturated_without_latency_says_which_scenario_to_run(tmp_path) -> None:
    run = read_run(simulated_run(tmp_path / "r", 4, 0.04, [(30, 30), (30, 50)], seed=4))
    run.timeseries[["e2e_p50_ms", "e2e_p95_ms", "e2e_p99_ms", "req_p50_ms", "req_p95_ms", "req_p99_ms"]] = None
    with pytest.raises(FitError, match="capplan run step"):
        fit_run(run)


def test_too_short_a_run(tmp_path) -> None:
    w = RunWriter(tmp_path / "r", {"interval_s": 1.0})
    w.append({"t": 1, "sent_rate": 1})
    w.close("interrupted", 1)
    with pytest.raises(FitError, match="only 1 interval"):
        fit_run(read_run(tmp_path / "r"))
