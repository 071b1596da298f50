"""`capplan ui` as a user starts it: bound to loopback, behind --web-auth, with two load processes.

One Locust web UI (master + 2 workers + the demo it starts) serves every test in this module; the
surge is started through the same /swarm form post the browser sends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from capacity.runs import read_run

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
AUTH = ("alice", "s3cret")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class UiProcess:
    """A `capplan ui` child process (it starts Locust, which starts the demo)."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    out: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:]) if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM to capplan (only the process we started); it stops Locust, which stops the demo."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_ui(out: Path, *args: str, env: dict[str, str] | None = None, timeout_s: float = 60) -> UiProcess:
    port = free_port()
    log = out / "capplan-ui.log"
    cmd = [sys.executable, "-m", "capacity", "ui", "--web-port", str(port), "--out", str(out / "runs"), *args]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=dict(os.environ, **(env or {})))
    ui = UiProcess(proc, port, log, out / "runs")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"capplan ui exited with {proc.returncode}:\n{ui.log_tail()}")
        try:
            requests.get(ui.url + "login", timeout=2, allow_redirects=False)
            return ui
        except requests.ConnectionError:
            time.sleep(0.3)
    ui.stop()
    pytest.fail(f"capplan ui did not serve {ui.url} within {timeout_s} s:\n{ui.log_tail()}")


def wait_for(what: str, check: Any, timeout_s: float, ui: UiProcess, every_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every_s)
    pytest.fail(f"timed out waiting for {what}:\n{ui.log_tail()}")


def summary_value(doc: list[dict[str, str]], metric: str) -> str:
    return next(r["value"] for r in doc if r["metric"] == metric)


SURGE_FORM = {  # what Locust's start form posts (fields renamed by its camelCase round trip included)
    "user_count": "0", "spawn_rate": "0", "host": "", "run_time": "", "profile": "",
    "scenario": "surge", "arrivals": "uniform", "seed": "3", "target": "", "source": "", "queue_limit": "",
    "baseline_rate": "40", "surge_multiplier": "1.5", "baseline_duration": "4", "ramp": "1",
    "surge_duration": "5", "recovery_duration": "4", "slo_p9_9ms": "400", "interval": "1",
}


@pytest.fixture(scope="module")
def two_process_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiProcess]:
    out = tmp_path_factory.mktemp("webui-2proc")
    ui = start_ui(out, "--processes", "2", "--web-auth", ":".join(AUTH),
                  "--demo-workers", "4", "--demo-service-time-ms", "40")
    try:
        yield ui
    finally:
        ui.stop()


def test_binds_loopback_only_by_default(two_process_ui: UiProcess) -> None:
    tree = [psutil.Process(two_process_ui.proc.pid), *psutil.Process(two_process_ui.proc.pid).children(True)]
    listening = [c.laddr for p in tree for c in p.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == two_process_ui.port]
    assert listening, "nothing listens on the web UI port"
    assert {a.ip for a in listening} == {"127.0.0.1"}


def test_unauthenticated_requests_are_sent_to_the_login_page(two_process_ui: UiProcess) -> None:
    url = two_process_ui.url
    for path in ("", "stats/requests", "capplan/series", "capplan/live", "capplan/report"):
        r = requests.get(url + path, timeout=5, allow_redirects=False)
        assert r.status_code == 302 and "/login" in r.headers["Location"], path
    r = requests.post(url + "swarm", data=SURGE_FORM, timeout=5, allow_redirects=False)
    assert r.status_code == 302  # refused: no test started
    assert requests.get(url + "capplan/summary", auth=("alice", "wrong"), timeout=5,
                        allow_redirects=False).status_code == 302
    r = requests.get(url + "capplan/summary", auth=AUTH, timeout=5)
    assert r.status_code == 200 and r.json()[0]["value"].startswith("no capplan run yet")


def test_the_login_form_signs_in(two_process_ui: UiProcess) -> None:
    url = two_process_ui.url
    login = requests.get(url + "login", timeout=5)
    assert '"username_password_callback": "/capplan/login"' in login.text
    s = requests.Session()
    r = s.post(url + "capplan/login", data={"username": "alice", "password": "nope"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    r = s.post(url + "capplan/login", data={"username": "alice", "password": "s3cret"}, allow_redirects=False)
    assert r.status_code == 302 and not r.headers["Location"].endswith("/login")
    page = s.get(url, timeout=5)
    assert page.status_code == 200 and "capplan-live-link" in page.text
    assert '"extendedTabs": [{"key": "capacity", "title": "Capacity"}]' in page.text


def test_a_bad_form_value_is_refused_in_the_form(two_process_ui: UiProcess) -> None:
    r = requests.post(two_process_ui.url + "swarm", data={**SURGE_FORM, "surge_multiplier": "lots"}, auth=AUTH,
                      timeout=5)
    assert r.json() == {"success": False, "message": "--surge-multiplier must be a number, got 'lots'.",
                        "host": r.json()["host"]}


def test_two_processes_write_each_row_once_with_merged_stats(two_process_ui: UiProcess) -> None:
    ui = two_process_ui

    def stats() -> dict[str, Any]:
        return dict(requests.get(ui.url + "stats/requests", auth=AUTH, timeout=5).json())

    wait_for("2 workers", lambda: stats().get("worker_count") == 2, 60, ui)
    r = requests.post(ui.url + "swarm", data=SURGE_FORM, auth=AUTH, timeout=10)
    assert r.json()["success"], r.text

    def finished() -> list[dict[str, str]] | None:
        doc = requests.get(ui.url + "capplan/summary", auth=AUTH, timeout=5).json()
        return doc if summary_value(doc, "Status").startswith("finished") else None

    doc = wait_for("the run to finish and report", finished, 90, ui, every_s=1.0)
    folder = ui.out / summary_value(doc, "Run").split()[0]
    run = read_run(folder)
    ts = run.timeseries
    assert run.meta["load_processes"] == 2
    assert run.meta["ended"] == "completed"
    assert run.meta["shape"]["params"]["baseline_rate"] == 40.0 and run.meta["slo"]["p99_ms"] == 400.0
    assert ts["t"].is_monotonic_increasing and ts["t"].is_unique  # every interval written once ...
    assert ts["t"].diff().dropna().between(0.1, 1.1).all()  # ... and none skipped
    in_shape = ts[ts["phase"] != "done"]
    assert len(in_shape) == pytest.approx(run.meta["shape"]["duration_s"], abs=1)
    for phase in ("baseline", "surge", "recovery"):
        rows = ts[ts["phase"] == phase].iloc[1:]  # skip the interval straddling the phase change
        # both workers' sends are counted: one worker alone would show half the target
        assert rows["sent_rate"].mean() == pytest.approx(rows["target_rate"].mean(), rel=0.1), phase
    assert ts["queue_depth"].notna().sum() >= len(ts) - 2
    assert (folder / "report.html").exists()
    csv = requests.get(ui.url + "capplan/timeseries.csv", auth=AUTH, timeout=5)
    assert csv.status_code == 200 and csv.content == (folder / "timeseries.csv").read_bytes()
