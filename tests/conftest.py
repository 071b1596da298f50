"""Shared fixtures: a demo service process, artifact folder, helpers to run the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from capacity.launch import ChildProcess, start_demo

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def demo_settings(**over: object) -> dict[str, object]:
    d: dict[str, object] = dict(workers=3, service_time_ms=50.0, service_dist="exp", service_scv=1.0,
                                queue_limit=5000)
    d.update(over)
    return d


@pytest.fixture
def demo() -> Iterator[ChildProcess]:
    child = start_demo(demo_settings(), seed=1)
    try:
        yield child
    finally:
        child.stop()


def capplan(*args: str, timeout: float = 240, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the capplan CLI in a child process, as a user would."""
    env = dict(os.environ, COLUMNS="200", TERM="dumb")
    return subprocess.run([sys.executable, "-m", "capacity", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or ROOT, env=env)
