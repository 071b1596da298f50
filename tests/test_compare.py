"""capplan compare: a regression only when the intervals say so; real runs with fewer consumers are flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from capacity.compare import EXIT_REGRESSION, capacity_drop_interval, compare_runs
from capacity.runs import read_run
from tests.conftest import capplan
from tests.test_report import est, full_model, synthetic_rows, write_run
from tests.test_report_runs import session_runs


def model(capacity: float, lo: float, hi: float) -> dict:
    m = full_model(capacity)
    m["capacity_msgs_per_s"] = est(capacity, lo, hi)
    m["slo_capacity_msgs_per_s"] = est(capacity * 0.85, lo * 0.85, hi * 0.85)
    return m


# -- unit: synthetic runs -----------------------------------------------------------------------------------

def test_same_service_is_not_a_regression(tmp_path: Path) -> None:
    a = read_run(write_run(tmp_path / "a", synthetic_rows(60.0, seed=1)))
    b = read_run(write_run(tmp_path / "b", synthetic_rows(60.0, seed=2)))
    cmp = compare_runs(a, b, model(60, 57, 63), model(59, 56, 62))
    assert not cmp.regressed and cmp.exit_code == 0
    assert cmp.summary().startswith("no regression: b vs a: capacity 60.0 -> 59.0 msg/s (-2%)")
    assert cmp.latency.bins and not cmp.latency.regressed


def test_separated_intervals_are_a_regression(tmp_path: Path) -> None:
    a = read_run(write_run(tmp_path / "a", synthetic_rows(60.0, seed=1)))
    b = read_run(write_run(tmp_path / "b", synthetic_rows(40.0, seed=2)))
    cmp = compare_runs(a, b, model(60, 57, 63), model(40, 37, 43))
    assert cmp.capacity.regressed and cmp.slo_capacity.regressed
    assert cmp.exit_code == EXIT_REGRESSION == 3
    assert "lies below A's" in cmp.capacity.why
    assert cmp.summary().startswith("REGRESSION")


def test_overlapping_intervals_need_the_bootstrap(tmp_path: Path) -> None:
    # wide, overlapping model intervals: the decision falls to the bootstrap of the departures
    a = read_run(write_run(tmp_path / "a", synthetic_rows(60.0, seed=1)))
    b = read_run(write_run(tmp_path / "b", synthetic_rows(45.0, seed=2)))
    cmp = compare_runs(a, b, model(60, 40, 80), model(45, 30, 62))
    assert cmp.capacity.drop_ci is not None and cmp.capacity.drop_ci[0] > 0.05
    assert cmp.capacity.regressed and "bootstrap" in cmp.capacity.why


def test_capacity_drop_interval_needs_enough_samples() -> None:
    import numpy as np

    assert capacity_drop_interval(np.array([60.0, 61.0]), np.array([40.0] * 10)) is None
    lo, hi = capacity_drop_interval(np.full(12, 60.0), np.full(12, 45.0))  # type: ignore[misc]
    assert lo == pytest.approx(0.25) and hi == pytest.approx(0.25)


def test_missing_estimates_compare_latency_only(tmp_path: Path) -> None:
    a = read_run(write_run(tmp_path / "a", synthetic_rows(60.0, base_p99=150, seed=1)))
    b = read_run(write_run(tmp_path / "b", synthetic_rows(60.0, base_p99=400, seed=2)))
    cmp = compare_runs(a, b, {"capacity_msgs_per_s": None}, {})
    assert not cmp.capacity.regressed and "not estimated in both runs" in cmp.capacity.why
    assert cmp.latency.regressed and cmp.latency.ratio is not None and cmp.latency.ratio > 2
    doc = cmp.as_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["regressed"] is True and doc["latency"]["bins"][0]["ratio"] > 1


# -- integration: real runs through the CLI --------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return session_runs(tmp_path_factory)


@pytest.mark.integration
def test_fewer_consumers_is_flagged(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "a-vs-b.html"
    r = capplan("compare", str(runs["a"]), str(runs["b"]), "--out", str(out))
    assert r.returncode == 3, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("REGRESSION: b vs a: capacity"), lines
    assert lines[-1] == f"report: {out}"
    doc = out.read_text()
    assert doc.startswith("<!doctype html>") and doc.count("<svg") == 2 and "Regression" in doc


@pytest.mark.integration
def test_same_settings_are_not_flagged(runs: dict[str, Path]) -> None:
    r = capplan("compare", str(runs["a"]), str(runs["a2"]), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["regressed"] is False, doc["reasons"]
    assert doc["capacity"]["a"] and doc["capacity"]["b"]
    assert Path(doc["html"]).exists() and Path(doc["html"]).parent == runs["a2"]


@pytest.mark.integration
def test_compare_reports_a_bad_folder(tmp_path: Path) -> None:
    r = capplan("compare", str(tmp_path / "nope"), str(tmp_path / "nope2"))
    assert r.returncode == 2
    assert "does not exist" in r.stderr
