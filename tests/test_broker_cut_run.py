"""A whole run whose broker source loses its connection mid-run: the run completes, the gap is
recorded with its reason, and sampling resumes when the broker is reachable again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from capacity.runs import read_run
from tests.conftest import ROOT
from tests.test_brokers import Case, TcpProxy, _port

pytestmark = [pytest.mark.integration, pytest.mark.broker]


def test_run_survives_a_cut_source_connection(tmp_path) -> None:
    case = Case("rabbitmq", f"capplan-cut-{uuid.uuid4().hex[:10]}", _port("rabbitmq"))
    proxy = TcpProxy(_port("rabbitmq"))
    folder = tmp_path / "cut"
    env = dict(os.environ, COLUMNS="200", TERM="dumb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "capacity", "run", "surge", "--out", str(tmp_path), "--run-id", "cut",
         "--target", case.target, "--source", case.source_at(proxy.port),
         "--baseline-rate", "20", "--surge-multiplier", "2", "--baseline-duration", "4", "--ramp", "1",
         "--surge-duration", "6", "--recovery-duration", "8"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ts_path = folder / "timeseries.csv"
        end = time.monotonic() + 60
        while time.monotonic() < end and not (ts_path.exists() and len(ts_path.read_text().splitlines()) > 5):
            time.sleep(0.2)
        proxy.cut()
        time.sleep(3.5)
        proxy.start()  # the same port again
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        proxy.close()
        case.cleanup()
    run = read_run(folder)
    assert run.meta["ended"] == "completed", err
    assert "guest:guest" not in (folder / "run.json").read_text() + (folder / "gaps.csv").read_text() + out + err
    ts = run.timeseries
    assert len(run.gaps) >= 2, "the cut left no recorded gap"
    assert run.gaps["reason"].str.len().gt(10).all()
    gap_t = run.gaps["t"].astype(float)
    cut_rows = ts[ts["t"].round(0).isin(gap_t.round(0))]
    assert cut_rows["queue_depth"].isna().all(), "a failed sample must be empty, never 0"
    after = ts[ts["t"] > gap_t.max() + 1]
    assert after["queue_depth"].notna().sum() >= 3, "sampling did not resume after the broker came back"
    assert after["queue_depth"].max() > 0  # nobody consumes: the queue holds what was published
    assert ts["sent_rate"].iloc[1:-2].gt(0).all()  # publishing never stopped
