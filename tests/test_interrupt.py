"""Ctrl-C and a dying target: every measured interval is kept, the run can be fitted and reported."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capacity.launch import start_demo
from capacity.runs import read_run
from tests.conftest import ROOT, demo_settings

pytestmark = pytest.mark.integration


def start_run(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, COLUMNS="200", TERM="dumb")
    return subprocess.Popen([sys.executable, "-m", "capacity", "run", "surge", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_rows(folder: Path, n: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    ts = folder / "timeseries.csv"
    while time.monotonic() < end:
        if ts.exists() and len(ts.read_text().splitlines()) > n:
            return
        time.sleep(0.3)
    raise AssertionError(f"{ts} did not reach {n} rows")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_keeps_intervals_reports_and_stops_the_demo(tmp_path) -> None:
    proc = start_run("--out", str(tmp_path), "--run-id", "int", "--baseline-rate", "40", "--baseline-duration", "5",
                     "--surge-duration", "60", "--recovery-duration", "30", "--demo-workers", "2",
                     "--demo-service-time-ms", "40")
    folder = tmp_path / "int"
    try:
        wait_rows(folder, 20)  # well into the surge: the queue has grown for about 12 intervals
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    demo_pid = int(re.search(r"demo service at \S+ \(pid (\d+)\)", err).group(1))
    assert not pid_alive(demo_pid), "the demo capplan started is still running"
    run = read_run(folder)
    assert run.meta["ended"] == "interrupted"
    assert len(run.timeseries) >= 20
    assert run.timeseries["sent_rate"].notna().all()
    assert (folder / "report.html").exists()
    assert json.loads((folder / "model.json").read_text())["capacity_msgs_per_s"]["value"] == pytest.approx(
        50, rel=0.15)
    assert f"report: {folder / 'report.html'}" in out


def test_target_dies_mid_run(tmp_path) -> None:
    demo = start_demo(demo_settings(workers=2, service_time_ms=40), seed=3)
    try:
        proc = start_run("--out", str(tmp_path), "--run-id", "dies", "--target", demo.url, "--source", "demo",
                         "--baseline-rate", "30", "--baseline-duration", "6", "--ramp", "1", "--surge-duration", "8",
                         "--recovery-duration", "12", "--surge-multiplier", "2.5")
        folder = tmp_path / "dies"
        wait_rows(folder, 11)
        demo.stop()  # the target dies with a backlog in its queue
        out, err = proc.communicate(timeout=120)
    finally:
        demo.stop()
    run = read_run(folder)
    assert proc.returncode == 1, err
    assert run.meta["ended"] == "target_failed"
    ts = run.timeseries
    sending = ts[ts["sent_rate"] > 0]
    assert sending["error_rate"].iloc[-3:].gt(0).all() and sending["ok_rate"].iloc[-3:].eq(0).all()
    before = ts[ts["t"] <= 10]
    assert before["ok_rate"].gt(0).all() and before["queue_depth"].notna().all()
    assert len(run.gaps) >= 3 and run.gaps["reason"].str.contains("failed|refused", case=False).all()
    assert ts["queue_depth"].iloc[-3:].isna().all()  # a dead source is a gap, never a zero
    assert (folder / "report.html").exists() and "report:" in out
