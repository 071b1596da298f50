"""Real run folders for the report, compare and notebook tests, made once per test session.

Three short surge runs against the demo service, started in parallel (about as long as one):

* ``a``  — 3 consumers x 50 ms (capacity 60 msg/s)
* ``a2`` — the same settings, another seed (must not count as a regression against ``a``)
* ``b``  — 2 consumers x 50 ms (capacity 40 msg/s; a real regression against ``a``)

Every run writes its own model.json and report.html at the end, as ``capplan run`` always does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

SHAPE = ["--baseline-duration", "8", "--ramp", "2", "--surge-duration", "12", "--recovery-duration", "14",
         "--baseline-rate", "30", "--surge-multiplier", "2.5", "--demo-service-time-ms", "50"]
RUNS = {"a": ("3", "11"), "a2": ("3", "12"), "b": ("2", "13")}  # name: (demo workers, seed)

_made: dict[str, Path] = {}
_failed: list[str] = []


def session_runs(factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three run folders (made on first use in this pytest session, then reused by every module)."""
    if _made:
        return _made
    assert not _failed, "capplan run failed earlier in this session:\n" + "\n".join(_failed)
    out = factory.getbasetemp() / "report-runs"
    out.mkdir(exist_ok=True)
    env = dict(os.environ, COLUMNS="200", TERM="dumb")
    procs = {}
    for name, (workers, seed) in RUNS.items():
        argv = [sys.executable, "-m", "capacity", "run", "surge", "--out", str(out), "--run-id", name,
                "--seed", seed, "--demo-workers", workers, *SHAPE]
        procs[name] = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
    failed = []
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=240)
        if p.returncode != 0:
            failed.append(f"{name}: exit {p.returncode}\n{stdout}\n{stderr}")
    _failed.extend(failed)
    assert not failed, "capplan run failed:\n" + "\n".join(failed)
    _made.update({name: out / name for name in RUNS})
    return _made


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return session_runs(tmp_path_factory)


def test_every_run_wrote_model_and_report(runs: dict[str, Path]) -> None:
    for name, folder in runs.items():
        model = json.loads((folder / "model.json").read_text())
        assert model["capacity_msgs_per_s"]["value"] > 0, name
        doc = (folder / "report.html").read_text()
        assert doc.startswith("<!doctype html>") and doc.count("<svg") >= 4, name


def test_report_headline_matches_model(runs: dict[str, Path]) -> None:
    folder = runs["a"]
    model = json.loads((folder / "model.json").read_text())
    doc = (folder / "report.html").read_text()
    assert f"{model['capacity_msgs_per_s']['value']:.1f} msg/s" in doc
    assert any(f'class="verdict {s}"' in doc for s in ("pass", "at_risk", "fail"))
