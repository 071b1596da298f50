"""End to end behind real brokers: reference consumers of known capacity C/S, then `capplan run surge`.

For each of RabbitMQ, a Redis list, a Redis stream and NATS JetStream: start the reference consumers
(`python -m capacity.demo.consume`), drive a short time-compressed surge above C/S at the broker, read
queue depth from the broker and latency from the consumers' /metrics, and check the run folder.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from capacity.runs import read_run
from tests.conftest import capplan
from tests.test_brokers import _NC, KINDS, Case, Consumer, _port

pytestmark = [pytest.mark.broker, pytest.mark.integration]

C, S_MS = 3, 50.0  # true capacity C/S = 60 msg/s
BASELINE, MULTIPLIER = 30.0, 2.5  # surge at 75 msg/s: the backlog grows ~15 msg/s for 12 s


@pytest.fixture(scope="module", autouse=True)
def _nats_helper() -> Iterator[None]:
    yield
    _NC.close()


@dataclass
class BrokerRun:
    case: Case
    result: object
    folder: Path

    @property
    def timeseries(self) -> pd.DataFrame:
        return read_run(self.folder).timeseries


@pytest.fixture(scope="module", params=KINDS)
def broker_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerRun]:
    kind = request.param
    case = Case(kind, f"capplan-e2e-{uuid.uuid4().hex[:10]}", _port(kind))
    if kind == "nats":
        case.name = case.name.replace("-", "_").upper()
    out = tmp_path_factory.mktemp(f"runs-{kind}")
    consumer = Consumer(
        case.target,
        "--workers", str(C),
        "--service-time-ms", str(S_MS),
        "--service-dist", "lognormal",
        "--service-scv", "0.25",  # variable, yet ~2% sampling noise on the capacity over one surge
        "--seed", "5",
        "--stop-after", "240",
    )  # fmt: skip
    try:
        r = capplan(
            "run", "surge", "--out", str(out), "--run-id", kind, "--seed", "11", "--arrivals", "uniform",
            "--target", case.target,
            "--source", case.source,
            "--source", f"prometheus+http://127.0.0.1:{consumer.port}/metrics",
            "--baseline-rate", str(BASELINE), "--surge-multiplier", str(MULTIPLIER),
            "--baseline-duration", "6", "--ramp", "2", "--surge-duration", "12", "--recovery-duration", "10",
            "--slo-p99-ms", "300",
            timeout=240,
        )  # fmt: skip
        yield BrokerRun(case, r, out / kind)
    finally:
        consumer.stop()
        case.cleanup()


def test_run_completes(broker_run: BrokerRun) -> None:
    r = broker_run.result
    # 5 is the SLO verdict "fail": expected here, the surge is meant to exceed capacity
    assert r.returncode in (0, 5), r.stderr[-3000:] + r.stdout[-3000:]  # type: ignore[attr-defined]
    meta = read_run(broker_run.folder).meta
    assert meta["ended"] == "completed"
    assert "guest:guest" not in json.dumps(meta)  # credentials redacted in run.json


def test_broker_queue_rises_in_the_surge_and_falls_after(broker_run: BrokerRun) -> None:
    ts = broker_run.timeseries
    depth = ts["queue_depth"]
    assert depth.notna().mean() > 0.9, "the broker source left too many gaps"
    base = ts[ts["phase"] == "baseline"]["queue_depth"].max()
    surge = ts[ts["phase"] == "surge"]["queue_depth"].dropna()
    assert base <= 10
    assert surge.iloc[-1] > surge.iloc[0] + 60, surge.tolist()  # ~15 msg/s x 12 s expected
    peak_t = ts.loc[depth.idxmax(), "t"]
    after = ts[ts["t"] > peak_t]["queue_depth"].dropna()
    assert after.iloc[-1] < 0.2 * depth.max(), after.tolist()
    assert ts["processed_rate"].notna().sum() > 0.8 * len(ts)


def test_capacity_estimate_within_10_percent_of_c_over_s(broker_run: BrokerRun) -> None:
    model = json.loads((broker_run.folder / "model.json").read_text())
    truth = C / (S_MS / 1000)
    assert model["capacity_msgs_per_s"]["value"] == pytest.approx(truth, rel=0.10), model["capacity_msgs_per_s"]
