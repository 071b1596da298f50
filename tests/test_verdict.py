"""SLO verdict rules (capacity.verdict): each rule fires alone, and steady vs surge intervals are told apart."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from capacity.report import observed
from capacity.runs import COLUMNS, NUMERIC_COLUMNS
from capacity.verdict import EXIT_CODES, Verdict, planned_surge, verdict
from tests.test_report import est, full_model, synthetic_rows


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    for c in NUMERIC_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["phase"] = df["phase"].astype("string")
    return df


def healthy_model(**over: Any) -> dict[str, Any]:
    """Plenty of headroom, a 3x surge that the queue absorbs."""
    m = full_model(capacity=200.0)
    m.update(observed_peak_rate=80.0, headroom_ratio=200 / 80 - 1, surge=[
        {"multiplier": 3.0, "rate": 87.0, "duration_s": 300.0, "exhausted": False, "time_to_exhaust_s": None}])
    m.update(over)
    return m


@pytest.fixture(scope="module")
def ts() -> pd.DataFrame:
    return frame(synthetic_rows(capacity=60.0))


def test_pass_with_headroom(ts: pd.DataFrame) -> None:
    v = verdict(healthy_model(), ts, 500, 0.01, None)
    assert v == Verdict("pass", v.reasons, [])
    assert v.exit_code == EXIT_CODES["pass"] == 0
    assert any("within the 500 ms SLO" in r for r in v.reasons)


def test_surge_and_drain_latency_do_not_fail_the_run(ts: pd.DataFrame) -> None:
    # the surge's backlog pushes p99 far above the SLO, but only in surge and drain intervals
    assert ts.loc[observed.surge_mask(ts), "e2e_p99_ms"].max() > 500
    assert ts.loc[observed.drain_mask(ts), "e2e_p99_ms"].max() > 500
    steady = observed.steady_mask(ts)
    assert set(ts.loc[steady, "phase"]) == {"baseline", "recovery"}
    assert ts.loc[steady, "e2e_p99_ms"].max() < 500
    assert verdict(healthy_model(), ts, 500, 0.01, None).status == "pass"


def test_fail_when_steady_p99_exceeds_slo(ts: pd.DataFrame) -> None:
    v = verdict(healthy_model(), ts, 100, 0.01, None)
    assert v.status == "fail"
    assert "above the 100 ms SLO" in v.reasons[0]


def test_one_noisy_interval_does_not_fail(ts: pd.DataFrame) -> None:
    noisy = ts.copy()
    first = noisy.index[observed.steady_mask(noisy)][2]
    noisy.loc[first, "e2e_p99_ms"] = 5000.0
    assert verdict(healthy_model(), noisy, 500, 0.01, None).status == "pass"


def test_request_latency_when_delivery_not_measured(ts: pd.DataFrame) -> None:
    req_only = ts.assign(e2e_p50_ms=float("nan"), e2e_p95_ms=float("nan"), e2e_p99_ms=float("nan"))
    v = verdict(healthy_model(), req_only, 5, 0.01, None)  # request p99 is 9 ms
    assert v.status == "fail" and "request p99" in v.reasons[0]


def test_fail_on_errors_in_steady_phases() -> None:
    df = frame(synthetic_rows(capacity=60.0, errors=0.05))
    v = verdict(healthy_model(), df, 500, 0.01, None)
    assert v.status == "fail"
    assert any("Error ratio in steady phases is 5.00%" in r for r in v.reasons)
    assert any("during the surge" in r for r in v.reasons)


def test_fail_below_min_headroom(ts: pd.DataFrame) -> None:
    v = verdict(healthy_model(headroom_ratio=0.5), ts, 500, 0.01, 0.6)
    assert v.status == "fail" and "below the required 60%" in v.reasons[0]
    assert verdict(healthy_model(headroom_ratio=0.5), ts, 500, 0.01, 0.4).status == "pass"


@pytest.mark.parametrize("headroom, words", [(-0.3, "exceeded capacity"), (0.1, "only 10%")])
def test_at_risk_on_thin_headroom(ts: pd.DataFrame, headroom: float, words: str) -> None:
    v = verdict(healthy_model(headroom_ratio=headroom), ts, 500, 0.01, None)
    assert v.status == "at_risk"
    assert any(words in r for r in v.reasons)


def test_at_risk_when_capacity_interval_reaches_below_peak(ts: pd.DataFrame) -> None:
    m = healthy_model(capacity_msgs_per_s=est(100.0, 70.0, 130.0), observed_peak_rate=80.0, headroom_ratio=0.25)
    v = verdict(m, ts, 500, 0.01, None)
    assert v.status == "at_risk"
    assert "starts at 70.0 msg/s, below the observed peak of 80.0 msg/s" in v.reasons[0]


def test_at_risk_when_planned_surge_fills_the_queue(ts: pd.DataFrame) -> None:
    m = healthy_model(surge=[{"multiplier": 3.0, "rate": 300.0, "duration_s": 600.0, "exhausted": True,
                              "time_to_exhaust_s": 50.0}])
    v = verdict(m, ts, 500, 0.01, None)
    assert v.status == "at_risk"
    assert v.reasons == ["A planned 3x surge lasting 600 s fills the queue limit after 50 s."]


def test_planned_surge_projected_when_the_model_has_none(ts: pd.DataFrame) -> None:
    # capacity 200, baseline 100: 3x = 300 msg/s grows the queue 100 msg/s, a 5000 limit fills in 50 s
    m = healthy_model(surge=[], baseline_rate=100.0, surge_duration_s=300.0, queue_limit=None)
    row = planned_surge(m, queue_limit=5000)
    assert row is not None and row["exhausted"] and row["time_to_exhaust_s"] == pytest.approx(50.0)
    assert verdict(m, ts, 500, 0.01, None, queue_limit=5000).status == "at_risk"
    assert verdict(m, ts, 500, 0.01, None).status == "pass"  # no queue limit anywhere: nothing to exhaust


def test_no_model_judges_observed_data_only(ts: pd.DataFrame) -> None:
    v = verdict(None, ts, 500, 0.01, None)
    assert v.status == "pass"
    assert any("No fitted model" in r for r in v.reasons)
    assert verdict(None, ts, 100, 0.01, None).status == "fail"


def test_sparse_model_keys(ts: pd.DataFrame) -> None:
    m = {"capacity_msgs_per_s": None, "headroom_ratio": None, "surge": None, "sizing": None}
    assert verdict(m, ts, 500, 0.01, 0.3).status == "pass"
