"""The capplan Locust plugin: Locust events -> driver, sampler, run folder; fit and report at test stop.

Loaded by every capplan locustfile (``from loadtests import plugin``). The same code runs headless
(``capplan run``) and in the web UI (``capplan ui``, ``locust -f ...``), in one process or many:
the collector (sampler) runs on the master or the only process; workers ship per-interval
statistics to the master through Locust's worker reports.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import locust.runners
from locust import User, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from capacity import pipeline, profile
from capacity.errors import CapacityError
from capacity.intervals import IntervalStats
from capacity.runs import RunWriter, new_run_id, utc_iso
from capacity.sampler import Sampler
from capacity.sources import open_source
from capacity.sources.prometheus import demo_source_spec
from capacity.versions import tool_versions
from loadtests import webui
from loadtests.driver import ArrivalDriver
from loadtests.publishers import open_publisher

log = logging.getLogger("capplan")

# Workers report every second (Locust's default is 3 s), so the master's rows lag less.
locust.runners.WORKER_REPORT_INTERVAL = 1.0


@dataclass
class PluginState:
    settings: profile.RunSettings | None = None
    env: Environment | None = None
    t0: float | None = None
    stats: IntervalStats | None = None
    writer: RunWriter | None = None
    sampler: Sampler | None = None
    sampler_glet: Any = None
    run_dir: Path | None = None
    target: str | None = None
    demo: Any = None  # a DemoProcess the plugin started itself (plain `locust -f` without a target)
    finalized: bool = True
    drivers: list[ArrivalDriver] = field(default_factory=list)
    user_seq: int = 0
    listeners: list[Any] = field(default_factory=list)  # callables(row) for live displays


STATE = PluginState()


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    group = parser  # Locust's include_in_web_ui only works on the parser itself, not on a group
    group.add_argument("--scenario", choices=profile.SCENARIOS, default="surge", help="Load shape to run.")
    group.add_argument("--capplan-profile", default=None, help="TOML profile with capplan settings.",
                       include_in_web_ui=False)
    group.add_argument("--capplan-t0", type=float, default=None, help="(internal) run start epoch",
                       include_in_web_ui=False)
    group.add_argument("--capplan-demo", action="store_true", default=False,
                       help="(internal) the target is a demo service capplan started", include_in_web_ui=False)
    group.add_argument("--capplan-users", type=int, default=None, help="(internal) driver users in the run",
                       include_in_web_ui=False)
    for opt in profile.ALL_OPTIONS:
        if opt.native:
            continue
        kwargs: dict[str, Any] = {"help": opt.help, "include_in_web_ui": opt.web_ui}
        if opt.kind == "list":
            kwargs.update(action="append", default=None)
        elif opt.kind == "choice":
            kwargs.update(choices=opt.choices, default=opt.default)
        else:
            kwargs.update(type=opt.kind, default=opt.default)
        if opt.name == "target":
            kwargs["is_secret"] = False
        group.add_argument(opt.flag, dest=opt.name, **kwargs)
    webui.add_arguments(parser)


def settings_from_options(options: Any) -> profile.RunSettings:
    given = {o.name: getattr(options, o.name, None) for o in profile.ALL_OPTIONS}
    # argparse fills defaults; only non-defaults should override a profile
    given = {k: v for k, v in given.items() if v is not None and v != profile.ALL_BY_NAME[k].default}
    for k, v in profile.secret_options().items():  # credentials came through the environment, not argv
        given.setdefault(k, v)
    given["scenario_from_cli"] = True
    return profile.resolve(getattr(options, "scenario", "surge"), given, getattr(options, "capplan_profile", None))


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    STATE.env = environment
    if environment.parsed_options is None:
        return
    try:
        STATE.settings = settings_from_options(environment.parsed_options)
    except CapacityError as e:
        log.error("capplan: %s", e)
        raise SystemExit(2) from None
    if isinstance(environment.runner, WorkerRunner):
        return
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message("capplan_worker_error", _on_worker_error)
    if STATE.settings.target is None and not environment.host:
        from capacity.launch import start_demo

        STATE.demo = start_demo(STATE.settings.demo)
        log.info("capplan: started the demo service at %s", STATE.demo.url)
    if environment.web_ui is not None:
        webui.setup(environment)


def _target(environment: Environment, settings: profile.RunSettings) -> str:
    if settings.target:
        return settings.target
    if environment.host:
        return environment.host
    if STATE.demo is not None:
        return str(STATE.demo.url)
    raise CapacityError("No target: pass --target URL (or --host), or let capplan start the demo.")


def _source_specs(settings: profile.RunSettings, target: str) -> list[str]:
    specs = []
    for s in settings.sources or (["demo"] if target.startswith("http") and settings.target is None else []):
        specs.append(demo_source_spec(target) if s == "demo" else s)
    if not specs and not target.startswith("http"):
        specs = [target]  # a broker target: watch the same queue
    return specs


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        opts = environment.parsed_options
        try:
            STATE.settings = settings_from_options(opts)
            STATE.t0 = float(opts.capplan_t0)
            STATE.stats = IntervalStats(STATE.t0, STATE.settings.interval_s)
            STATE.target = _target(environment, STATE.settings)
        except Exception as e:  # tell the master: a worker that cannot send must not look like a quiet run
            log.error("capplan worker: %s", e)
            environment.runner.send_message("capplan_worker_error", f"{type(e).__name__}: {e}")
        return
    opts = environment.parsed_options
    settings = settings_from_options(opts)  # the web UI may have changed the form since init
    STATE.settings = settings
    target = _target(environment, settings)
    STATE.target = target
    distributed = isinstance(environment.runner, MasterRunner)
    t0 = time.time() + (1.0 if distributed else 0.2)  # let drivers start before the first interval
    STATE.t0 = t0
    opts.capplan_t0 = t0
    opts.capplan_users = max(1, environment.runner.worker_count) if distributed else 1
    STATE.stats = IntervalStats(t0, settings.interval_s)
    run_id = settings.run_id or new_run_id(settings.scenario)
    run_dir = settings.out / run_id
    n = 1
    while (run_dir / "timeseries.csv").exists():  # a second test in one web-UI session, same --run-id
        n += 1
        run_dir = settings.out / f"{run_id}-{n}"
    run_id = run_dir.name
    is_demo = settings.target is None or bool(getattr(opts, "capplan_demo", False))
    specs = _source_specs(settings, target)
    sources = []
    for spec in specs:
        try:
            sources.append(open_source(spec))
        except CapacityError as e:
            log.error("capplan: %s", e)
            raise
    from capacity.redact import redact_url

    meta = {
        "run_id": run_id,
        "scenario": settings.scenario,
        "shape": {"name": settings.shape.name, "params": settings.shape.params,
                  "duration_s": settings.shape.duration_s,
                  "phases": [list(p) for p in settings.shape.phase_spans()]},
        "target": redact_url(target),
        "sources": [s.spec for s in sources],
        "slo": {"p99_ms": settings.slo_p99_ms, "error_rate": settings.slo_error_rate,
                "min_headroom": settings.min_headroom},
        "queue_limit": settings.queue_limit or (settings.demo["queue_limit"] if is_demo else None),
        "interval_s": settings.interval_s,
        "arrivals": settings.arrivals,
        "demo": (dict(settings.demo, capacity_msgs_per_s=settings.demo["workers"]
                      / (settings.demo["service_time_ms"] / 1000.0))
                 if is_demo else None),
        "settings": settings.redacted(),
        "start": utc_iso(t0),
        "start_epoch": t0,
        "load_processes": opts.capplan_users,
        "versions": tool_versions(),
    }
    STATE.writer = RunWriter(run_dir, meta)
    STATE.run_dir = run_dir
    STATE.finalized = False
    lag = 0 if not distributed else 3
    STATE.sampler = Sampler(STATE.writer, sources, STATE.stats, settings.shape, lag_intervals=lag,
                            on_row=_broadcast)
    STATE.sampler_glet = gevent.spawn(STATE.sampler.run, gevent.sleep)
    log.info("capplan: run folder %s", run_dir)


def _on_worker_error(environment: Environment, msg: Any, **_: Any) -> None:
    """A worker could not start sending: record why and stop the test (the run ends interrupted)."""
    reason = str(msg.data)[:500]
    log.error("capplan: a worker failed to start: %s", reason)
    if STATE.writer is not None:
        errors = [*STATE.writer.meta.get("errors", []), f"worker: {reason}"]
        STATE.writer.update(errors=errors)
    gevent.spawn(environment.runner.stop)


def _broadcast(row: dict[str, Any]) -> None:
    for fn in list(STATE.listeners):
        fn(row)


@events.report_to_master.add_listener
def _on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
    if STATE.stats is not None:
        data["capplan"] = STATE.stats.export()


@events.worker_report.add_listener
def _on_worker_report(client_id: str, data: dict[str, Any]) -> None:
    if STATE.stats is not None and "capplan" in data:
        STATE.stats.merge(data["capplan"])


def _end_state(settings: profile.RunSettings, rows: list[dict[str, Any]], t0: float, t_end: float) -> str:
    """completed, interrupted (stopped before the shape's end) or target_failed (the last three
    intervals that sent anything all failed every send)."""
    sending = [r for r in rows if (r.get("sent_rate") or 0) > 0][-3:]
    if len(sending) == 3 and all((r.get("ok_rate") or 0) == 0 and (r.get("error_rate") or 0) > 0 for r in sending):
        return "target_failed"
    if t_end - t0 < settings.shape.duration_s - settings.interval_s:
        return "interrupted"
    return "completed"


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    for d in STATE.drivers:
        d.stop()
    STATE.drivers.clear()
    if isinstance(environment.runner, WorkerRunner):
        return
    finalize(environment)


def finalize(environment: Environment | None = None) -> Path | None:
    """Write the last rows, close the run folder, fit and report. Safe to call twice."""
    if STATE.finalized or STATE.sampler is None or STATE.writer is None or STATE.settings is None:
        return None
    STATE.finalized = True
    if isinstance(environment and environment.runner, MasterRunner):
        gevent.sleep(1.5)  # the workers' final reports
    now = time.time()
    sampler, writer = STATE.sampler, STATE.writer
    sampler.stop()
    if STATE.sampler_glet is not None:
        STATE.sampler_glet.join(timeout=2)
    ended = "interrupted"
    try:
        sampler.finish(now)
        assert STATE.t0 is not None
        ended = _end_state(STATE.settings, sampler.recent_rows, STATE.t0, now)
    finally:
        writer.close(ended, now)
    run_dir = writer.folder
    try:
        out = pipeline.finalize(run_dir)
        log.info("capplan: report %s", out.report)
    except CapacityError as e:
        log.error("capplan: could not fit or report %s: %s", run_dir, e)
    return run_dir


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):
        finalize(environment)
    if STATE.demo is not None:
        STATE.demo.stop()
        STATE.demo = None


class MessagePublisher(User):
    """One open-model driver per load-generator process; it sends its share of the shape's rate."""

    # the driver runs the whole schedule inside one task; Locust's wait_time is never reached
    wait_time = staticmethod(lambda: 1.0)  # type: ignore[assignment]

    def on_start(self) -> None:
        assert STATE.settings is not None and STATE.target is not None
        self.publisher = open_publisher(STATE.target)

    def on_stop(self) -> None:
        pub = getattr(self, "publisher", None)
        if pub is not None:
            pub.close()

    @task
    def drive(self) -> None:
        settings, stats, t0 = STATE.settings, STATE.stats, STATE.t0
        assert settings is not None and stats is not None and t0 is not None
        opts = self.environment.parsed_options
        users = max(1, int(getattr(opts, "capplan_users", None) or 1))
        runner = self.environment.runner
        index = getattr(runner, "worker_index", 0) if isinstance(runner, WorkerRunner) else 0
        STATE.user_seq += 1
        seed = None if settings.seed is None else settings.seed * 1000 + index * 100 + STATE.user_seq
        driver = ArrivalDriver(
            rate_at=settings.shape.rate_at,
            peak_rate=settings.shape.peak_rate,
            duration_s=settings.shape.duration_s,
            publisher=self.publisher,
            stats=stats,
            fire=self.environment.events.request.fire,
            share=1.0 / users,
            arrivals=settings.arrivals,
            seed=seed,
            max_in_flight=settings.max_in_flight,
            late_threshold_s=settings.late_threshold_ms / 1000.0,
            message_size=settings.message_size,
        )
        STATE.drivers.append(driver)
        driver.run(t0)
        gevent.sleep(3600)  # the shape ends the test; a driver sends its schedule once
