"""End to end: `capplan run surge` against the demo, checked through the run folder."""

from __future__ import annotations

import json

import pytest

from capacity.runs import COLUMNS, read_run
from tests.conftest import capplan

pytestmark = pytest.mark.integration

C, S_MS = 3, 50.0  # true capacity C/S = 60 msg/s


@pytest.fixture(scope="module")
def surge_run(tmp_path_factory) -> tuple:
    out = tmp_path_factory.mktemp("runs")
    r = capplan(
        "run", "surge", "--out", str(out), "--run-id", "e2e-surge", "--seed", "11", "--arrivals", "uniform",
        "--baseline-rate", "30", "--surge-multiplier", "2.5", "--baseline-duration", "8", "--ramp", "2",
        "--surge-duration", "12", "--recovery-duration", "14",
        "--demo-workers", str(C), "--demo-service-time-ms", str(S_MS), "--slo-p99-ms", "300",
    )
    return r, out / "e2e-surge"


def test_run_exits_0_and_prints_the_report(surge_run) -> None:
    r, folder = surge_run
    assert r.returncode == 0, r.stderr + r.stdout
    assert f"report: {folder / 'report.html'}" in r.stdout.replace("\n", "")
    assert (folder / "report.html").read_text().startswith("<!doctype html>")


def test_every_contract_column_and_metadata(surge_run) -> None:
    _, folder = surge_run
    run = read_run(folder)
    ts = run.timeseries
    assert tuple(ts.columns) == COLUMNS
    measured = ts.iloc[1:-1]  # the first interval has no counter pair; the last may be partial
    for col in COLUMNS:
        if col in ("t", "time", "phase"):
            continue
        assert measured[col].notna().any(), f"column {col} never measured"
    assert run.meta["ended"] == "completed"
    assert run.meta["target"].startswith("http://127.0.0.1:")
    assert run.meta["demo"]["capacity_msgs_per_s"] == pytest.approx(C / (S_MS / 1000))


def test_sent_rate_on_target_in_steady_phases(surge_run) -> None:
    _, folder = surge_run
    ts = read_run(folder).timeseries
    for phase in ("baseline", "surge", "recovery"):
        rows = ts[ts["phase"] == phase].iloc[1:]  # skip the interval that straddles the phase change
        sent, target = rows["sent_rate"].mean(), rows["target_rate"].mean()
        assert sent == pytest.approx(target, rel=0.05), phase


def test_queue_rises_in_the_surge_and_falls_after(surge_run) -> None:
    _, folder = surge_run
    ts = read_run(folder).timeseries
    base = ts[ts["phase"] == "baseline"]["queue_depth"].max()
    surge_depth = ts[ts["phase"] == "surge"]["queue_depth"]
    assert surge_depth.iloc[-1] > surge_depth.iloc[0] + 100 > base
    peak_t = ts.loc[ts["queue_depth"].idxmax(), "t"]
    after = ts[ts["t"] > peak_t]["queue_depth"]
    assert after.iloc[-1] < 0.2 * ts["queue_depth"].max()


def test_capacity_estimate_near_c_over_s(surge_run) -> None:
    _, folder = surge_run
    model = json.loads((folder / "model.json").read_text())
    cap = model["capacity_msgs_per_s"]
    truth = C / (S_MS / 1000)
    assert cap["value"] == pytest.approx(truth, rel=0.05)
    assert cap["ci_low"] <= truth <= cap["ci_high"]
