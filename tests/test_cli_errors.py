"""Bad input exits non-zero with one line naming the problem, before any load is sent."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import capplan

pytestmark = pytest.mark.integration


def one_error_line(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode != 0
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error:")
    return lines[0]


def test_negative_rate(tmp_path) -> None:
    line = one_error_line(capplan("run", "surge", "--baseline-rate", "-5", "--out", str(tmp_path)))
    assert "baseline_rate" in line and "-5" in line
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_unknown_scenario() -> None:
    r = capplan("run", "sruge")
    assert r.returncode != 0 and "sruge" in r.stderr


def test_unreachable_target(tmp_path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = one_error_line(capplan("run", "surge", "--target", f"http://127.0.0.1:{port}", "--out", str(tmp_path)))
    assert f"127.0.0.1:{port}" in line and "unreachable" in line
    assert not any(tmp_path.iterdir())


def test_malformed_profile(tmp_path) -> None:
    p = tmp_path / "p.toml"
    p.write_text("baseline_rate = [\n")
    line = one_error_line(capplan("run", "surge", "--profile", str(p), "--out", str(tmp_path / "o")))
    assert "p.toml" in line and "TOML" in line


def test_password_never_echoed(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = capplan("run", "surge", "--target", f"amqp://u:topsecret@127.0.0.1:{port}/%2F?queue=q",
                "--out", str(tmp_path))
    assert r.returncode != 0 and "topsecret" not in r.stderr + r.stdout


def test_fit_on_missing_folder(tmp_path) -> None:
    line = one_error_line(capplan("fit", str(tmp_path / "nope")))
    assert "does not exist" in line
