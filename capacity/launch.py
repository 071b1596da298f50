"""Start the pieces of a run as child processes: the demo service and Locust on a capplan locustfile.

capplan itself never imports Locust (it monkey-patches the process); it runs
``python -m locust -f loadtests/locustfiles/<scenario>.py --headless ...`` and watches the run folder.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from capacity.errors import LaunchError, TargetError
from capacity.redact import redact_url

_LISTENING = re.compile(r"listening on (http://\S+)")
_DEFAULT_PORTS = {"http": 80, "https": 443, "amqp": 5672, "amqps": 5671, "redis": 6379, "rediss": 6379,
                  "nats": 4222}


def locustfile_path(name: str = "surge") -> Path:
    spec = importlib.util.find_spec("loadtests")
    if spec is None or not spec.submodule_search_locations:
        raise LaunchError("The loadtests package is not installed; reinstall capplan (make run does it).")
    path = Path(list(spec.submodule_search_locations)[0]) / "locustfiles" / f"{name}.py"
    if not path.exists():
        raise LaunchError(f"No locustfile {path}; reinstall capplan.")
    return path


@dataclass
class ChildProcess:
    """A child we started; :meth:`stop` ends it (and only it) by PID."""

    proc: subprocess.Popen[str]
    url: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        return self.proc.returncode


def _pump(stream: IO[str], sink: list[str], on_line: Callable[[str], None] | None = None) -> None:
    for line in stream:
        sink.append(line.rstrip("\n"))
        del sink[:-200]
        if on_line:
            on_line(line)


def start_demo(demo: dict[str, Any], host: str = "127.0.0.1", port: int = 0, seed: int | None = None,
               timeout_s: float = 20.0) -> ChildProcess:
    """Start ``capplan demo serve`` on a free loopback port; returns once it is listening."""
    argv = [sys.executable, "-m", "capacity", "demo", "serve", "--host", host, "--port", str(port),
            "--workers", str(demo["workers"]), "--service-time-ms", str(demo["service_time_ms"]),
            "--service-dist", str(demo["service_dist"]), "--service-scv", str(demo["service_scv"]),
            "--queue-limit", str(demo["queue_limit"])]
    if seed is not None:
        argv += ["--seed", str(seed)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    child = ChildProcess(proc)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        child.lines.append(line.rstrip())
        m = _LISTENING.search(line)
        if m:
            child.url = m.group(1)
            threading.Thread(target=_pump, args=(proc.stdout, child.lines), daemon=True).start()
            return child
    child.stop()
    raise LaunchError("The demo service did not start: " + (" | ".join(child.lines[-3:]) or "no output"))


def check_reachable(url: str, timeout_s: float = 3.0) -> None:
    """Open (and close) a TCP connection to the URL's host and port, or raise TargetError."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as e:
        raise TargetError(
            f"Target {redact_url(url)} is unreachable ({e.strerror or e}); start it or fix --target."
        ) from None


def start_locust(locustfile: Path, argv: Sequence[str], log_path: Path,
                 extra_env: dict[str, str] | None = None) -> ChildProcess:
    """Start headless Locust; its output goes to ``log_path``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(extra_env or {}))
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), *argv]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(log_path, "w")  # noqa: SIM115  (owned by the child's lifetime)
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    return ChildProcess(proc)


def interrupt(child: ChildProcess) -> None:
    """Ask Locust to stop the test and finalise (as Ctrl-C would)."""
    if child.alive():
        try:
            child.proc.send_signal(signal.SIGINT)
        except ProcessLookupError:
            pass
