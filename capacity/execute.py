"""Run a scenario end to end: start the demo if needed, run Locust, follow progress, collect outputs."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capacity import launch, pipeline
from capacity.errors import LaunchError, RunFolderError
from capacity.profile import RunSettings
from capacity.runs import MODEL_JSON, REPORT_HTML, RUN_JSON, TIMESERIES_CSV, new_run_id

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class RunResult:
    folder: Path
    report: Path | None
    model: dict[str, Any] | None
    ended: str
    fit_error: str | None


class _Tail:
    """Reads rows appended to timeseries.csv since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.header: list[str] | None = None

    def new_rows(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        with open(self.path, newline="") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        self.offset += len(complete.encode())
        rows = list(csv.reader(complete.splitlines()))
        if self.header is None and rows:
            self.header, rows = rows[0], rows[1:]
        return [dict(zip(self.header or [], r, strict=False)) for r in rows]


def execute(settings: RunSettings, on_row: Progress | None = None,
            on_status: Callable[[str], None] | None = None) -> RunResult:
    """Run ``settings`` and return the run folder, report and model. Ctrl-C stops the test cleanly:
    Locust finalises the run folder (every measured interval kept), the demo is stopped."""
    status = on_status or (lambda _msg: None)
    demo = None
    if settings.uses_demo:
        demo = launch.start_demo(settings.demo, seed=settings.seed)
        status(f"demo service at {demo.url} (pid {demo.pid}), capacity "
               f"{settings.demo['workers'] / (settings.demo['service_time_ms'] / 1000):.1f} msg/s")
        target = demo.url
    else:
        assert settings.target is not None
        target = settings.target
    locust = None
    try:
        launch.check_reachable(target)
        run_id = settings.run_id or new_run_id(settings.scenario)
        folder = settings.out / run_id
        if (folder / TIMESERIES_CSV).exists():
            raise RunFolderError(f"Run folder {folder} already exists; pass another --run-id.")
        folder.mkdir(parents=True, exist_ok=True)
        argv = ["--headless", "--exit-code-on-error", "0", "--loglevel", "INFO", "--only-summary",
                *_override(settings.to_argv(), "--run-id", run_id)]
        if demo is not None:
            argv += ["--target", target, "--capplan-demo"]
            if not settings.sources:
                argv += ["--source", "demo"]
        locust = launch.start_locust(launch.locustfile_path("surge"), argv, folder / "locust.log",
                                     extra_env=settings.secret_env())
        status(f"locust pid {locust.pid}, run folder {folder}")
        tail = _Tail(folder / TIMESERIES_CSV)
        deadline = time.monotonic() + settings.shape.duration_s + 120
        announced = False
        try:
            while locust.alive():
                for row in tail.new_rows():
                    if on_row:
                        on_row(row)
                    if row.get("phase") == "done" and not announced:
                        announced = True
                        status("the shape has ended: finishing the last intervals, fitting the model, "
                               "writing the report")
                if demo is not None and not demo.alive():
                    status("the demo service died; stopping the test")
                    launch.interrupt(locust)
                if time.monotonic() > deadline:
                    status("Locust ran past the shape's end; stopping it")
                    launch.interrupt(locust)
                    deadline += 60
                time.sleep(0.25)
        except KeyboardInterrupt:
            status("interrupted: stopping the test and keeping every measured interval")
            launch.interrupt(locust)
            _wait(locust, 60)
        for row in tail.new_rows():
            if on_row:
                on_row(row)
        code = locust.proc.wait()
        if not (folder / RUN_JSON).exists():
            log = "\n".join((folder / "locust.log").read_text().splitlines()[-5:]) if (
                folder / "locust.log").exists() else ""
            raise LaunchError(f"Locust exited with code {code} before the run started; see {folder}/locust.log:\n"
                              f"{log}")
        return _collect(folder)
    finally:
        if locust is not None and locust.alive():
            launch.interrupt(locust)
            _wait(locust, 30)
            locust.stop()
        if demo is not None:
            demo.stop()


def _override(argv: list[str], flag: str, value: str) -> list[str]:
    out, skip = [], False
    for i, a in enumerate(argv):
        if skip:
            skip = False
            continue
        if a == flag and i + 1 < len(argv):
            skip = True
            continue
        out.append(a)
    return out + [flag, value]


def _wait(child: launch.ChildProcess, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while child.alive() and time.monotonic() < end:
        try:
            time.sleep(0.2)
        except KeyboardInterrupt:
            continue


def _collect(folder: Path) -> RunResult:
    """Outputs of a finished run; fits and reports here if Locust could not (e.g. it was killed)."""
    meta = json.loads((folder / RUN_JSON).read_text())
    ended = meta.get("ended", "running")
    fit_error = None
    if not (folder / REPORT_HTML).exists():
        if ended == "running":
            from capacity.runs import utc_iso, write_json_atomic

            meta["ended"] = "interrupted"
            meta.setdefault("end", utc_iso(time.time()))
            write_json_atomic(folder / RUN_JSON, meta)
            ended = "interrupted"
        fit_error = pipeline.finalize(folder).fit_error
    model_path = folder / MODEL_JSON
    model = json.loads(model_path.read_text()) if model_path.exists() else None
    if model is None and fit_error is None:
        fit_error = "the fit did not produce a model; see locust.log"
    report = folder / REPORT_HTML
    return RunResult(folder, report if report.exists() else None, model, ended, fit_error)
