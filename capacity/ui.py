"""``capplan ui``: Locust's web UI on capplan's locustfile, with the plugin and its Capacity tab.

capplan never imports Locust: it runs ``python -m locust -f loadtests/locustfiles/surge.py`` in the
foreground with the run's settings as arguments (they become the start form's defaults). Without a
target the plugin starts the demo service itself, exactly as for a plain ``locust -f``. Ctrl-C (or
SIGTERM) stops Locust with SIGTERM, so it finalises a running test's folder, writes the report and
stops the demo it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from capacity import launch
from capacity.errors import ConfigError, LaunchError
from capacity.profile import RunSettings

#: the environment variable carrying --web-auth to the plugin (kept out of the process list)
AUTH_ENV = "CAPPLAN_WEB_AUTH"
DEFAULT_WEB_HOST = "127.0.0.1"
DEFAULT_WEB_PORT = 8089


@dataclass(frozen=True)
class WebOptions:
    """How the web UI is served; validated where it is built."""

    host: str = DEFAULT_WEB_HOST
    port: int = DEFAULT_WEB_PORT
    login: bool = False
    auth: str | None = None  # "user:password"; implies login
    processes: int | None = None  # Locust's --processes: N load-generator processes, -1 one per core

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"--web-port must be a port number from 1 to 65535, got {self.port!r}.")
        if self.processes is not None and self.processes != -1 and self.processes < 1:
            raise ConfigError(
                f"--processes must be at least 1 (or -1 for one per core), got {self.processes!r}.")
        if self.auth is not None:
            user, sep, password = self.auth.partition(":")
            if not (user and sep and password):
                raise ConfigError("--web-auth must look like user:password (both parts non-empty).")
        if self.login and self.auth is None and not os.environ.get(AUTH_ENV):
            raise ConfigError(f"--web-login needs a username and password: pass --web-auth user:password "
                              f"(or set {AUTH_ENV}=user:password).")

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "*", "0.0.0.0") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/"


def locust_argv(settings: RunSettings, web: WebOptions) -> list[str]:
    """Locust's command line (after ``-f locustfile``) for the web UI on these settings."""
    argv = ["--web-host", web.host, "--web-port", str(web.port)]
    if web.login or web.auth is not None:
        argv.append("--web-login")
    if web.processes is not None:
        argv += ["--processes", str(web.processes)]
    return argv + settings.to_argv()


def child_env(web: WebOptions, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base, PYTHONUNBUFFERED="1")
    if web.auth is not None:
        env[AUTH_ENV] = web.auth
    return env


def check_port_free(host: str, port: int) -> None:
    """Raise LaunchError when the web UI's address is taken (Locust would only log it and exit)."""
    bind_host = "" if host in ("*", "") else host
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((bind_host, port))
        except OSError as e:
            raise LaunchError(
                f"Cannot serve the web UI on {host or '*'}:{port} ({e.strerror or e}); "
                "pick another --web-port."
            ) from None


class _Terminate(Exception):
    pass


def _raise_terminate(signum: int, frame: FrameType | None) -> None:
    raise _Terminate


def serve(settings: RunSettings, web: WebOptions, status: Callable[[str], None] = print) -> int:
    """Run Locust's web UI in the foreground until Ctrl-C, SIGTERM or Locust exits; returns its exit code."""
    if settings.target:
        launch.check_reachable(settings.target)
    check_port_free(web.host, web.port)
    locustfile = launch.locustfile_path("surge")
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), *locust_argv(settings, web)]
    proc = subprocess.Popen(cmd, env=child_env(web) | settings.secret_env(), start_new_session=True, text=True)
    child = launch.ChildProcess(proc, url=web.url)
    status(f"capplan ui: Locust's web UI at {web.url} (pid {child.pid}); the Capacity tab shows the run "
           "live. Ctrl-C stops it.")
    previous = signal.signal(signal.SIGTERM, _raise_terminate)
    try:
        return proc.wait()
    except (KeyboardInterrupt, _Terminate):
        status("stopping Locust: a running test is finalised and its report written")
        code = child.stop(timeout_s=90)
        return 0 if code in (None, 0, -signal.SIGTERM) else code
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.alive():
            child.stop(timeout_s=30)
