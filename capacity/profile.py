"""Run settings: one table of options shared by the CLI, the TOML profile and Locust's parser.

Command-line values win over the profile, the profile over the defaults. Everything is validated
here, before any load is sent.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from capacity import shapes
from capacity.errors import ConfigError
from capacity.redact import redact_url


@dataclass(frozen=True)
class Option:
    name: str  # python name; the flag is --name-with-dashes
    kind: type | str  # float, int, str, "list", or "choice"
    default: Any
    help: str
    scenarios: tuple[str, ...] = ()  # shape option of these scenarios only (empty: every scenario)
    choices: tuple[str, ...] = ()
    web_ui: bool = True  # shown in Locust's start form
    native: bool = False  # Locust's own option (passed through, not registered by the plugin)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


COMMON: tuple[Option, ...] = (
    Option("target", str, None, "Endpoint to send messages to (http://, amqp://, redis://, nats://). "
           "Default: start the built-in demo service."),
    Option("source", "list", [], "Queue-depth source spec, repeatable (prometheus+http://..., rabbitmq://..., "
           "redis://..., nats://..., demo). Default: the target's own queue."),
    Option("out", str, "reports", "Folder for run folders.", web_ui=False),
    Option("run_id", str, None, "Run id (default: UTC time + scenario, e.g. 20261203-141502-surge).", web_ui=False),
    Option("seed", int, None, "Random seed for arrivals (default: random)."),
    Option("slo_p99_ms", float, 500.0, "Latency SLO: p99 delivery (or request) latency in ms."),
    Option("slo_error_rate", float, 0.01, "SLO: largest acceptable error ratio."),
    Option("min_headroom", float, None, "Fail the run when capacity / observed peak - 1 is below this "
           "(e.g. 0.5 for 50% headroom)."),
    Option("fail_on", "choice", "fail", "Exit non-zero on this verdict or worse: fail (SLO missed) or at_risk "
           "(a planned 3x surge or thin headroom would hurt).", choices=("fail", "at_risk"), web_ui=False),
    Option("plan_surge_duration", float, 300.0, "How long a surge the projections plan for, in seconds "
           "(surge table, largest absorbed surge, the 3x sizing).", web_ui=False),
    Option("queue_limit", int, None, "The target's queue limit, for surge projections (demo: its queue limit)."),
    Option("interval", float, 1.0, "Sampling interval in seconds."),
    Option("arrivals", "choice", "poisson", "Arrival process: poisson or uniform (evenly spaced).",
           choices=("poisson", "uniform")),
    Option("late_threshold_ms", float, 20.0, "A send that leaves this much later than scheduled counts as late."),
    Option("max_in_flight", int, 1000, "Most outstanding sends per load-generator process."),
    Option("message_size", int, 0, "Extra payload bytes per message.", web_ui=False),
    Option("processes", int, None, "Load-generator processes (Locust's --processes; the collector runs on the "
           "master).", web_ui=False, native=True),
)

DEMO: tuple[Option, ...] = (
    Option("demo_workers", int, 4, "Demo service: consumers (C).", web_ui=False),
    Option("demo_service_time_ms", float, 40.0, "Demo service: mean service time S in ms (capacity C/S).",
           web_ui=False),
    Option("demo_service_dist", "choice", "exp", "Demo service: service-time distribution.",
           choices=("exp", "const", "lognormal"), web_ui=False),
    Option("demo_service_scv", float, 1.0, "Demo service: service-time SCV (lognormal).", web_ui=False),
    Option("demo_queue_limit", int, 5000, "Demo service: queue limit (503 when full).", web_ui=False),
)

SHAPE_OPTIONS: tuple[Option, ...] = (
    Option("baseline_rate", float, 50.0, "Baseline rate, messages/s.", ("surge", "spike")),
    Option("surge_multiplier", float, 3.0, "Surge rate as a multiple of the baseline.", ("surge",)),
    Option("baseline_duration", float, 20.0, "Seconds at baseline before the ramp.", ("surge", "spike")),
    Option("ramp", float, 5.0, "Seconds to ramp up to (and down from) the surge; between steps for step.",
           ("surge",)),
    Option("surge_duration", float, 20.0, "Seconds at the surge rate.", ("surge",)),
    Option("recovery_duration", float, 40.0, "Seconds at baseline after the surge.", ("surge", "spike")),
    Option("start_rate", float, 20.0, "First step's rate, messages/s.", ("step",)),
    Option("step_rate", float, 20.0, "Rate added at each step.", ("step",)),
    Option("steps", int, 8, "Number of steps.", ("step",)),
    Option("step_duration", float, 15.0, "Seconds per step.", ("step",)),
    Option("spike_multiplier", float, 5.0, "Spike rate as a multiple of the baseline.", ("spike",)),
    Option("spike_duration", float, 5.0, "Seconds at the spike rate.", ("spike",)),
    Option("soak_rate", float, 50.0, "Constant rate, messages/s.", ("soak",)),
    Option("soak_duration", float, 600.0, "Seconds at that rate.", ("soak",)),
)

SCENARIOS = ("surge", "step", "spike", "soak")
ALL_OPTIONS: tuple[Option, ...] = COMMON + DEMO + SHAPE_OPTIONS
ALL_BY_NAME = {o.name: o for o in ALL_OPTIONS}
_BY_NAME = ALL_BY_NAME


def options_for(scenario: str) -> tuple[Option, ...]:
    return COMMON + tuple(o for o in SHAPE_OPTIONS if scenario in o.scenarios) + DEMO


@dataclass(frozen=True)
class RunSettings:
    scenario: str
    shape: shapes.Shape
    target: str | None
    sources: tuple[str, ...]
    out: Path
    run_id: str | None
    seed: int | None
    slo_p99_ms: float
    slo_error_rate: float
    min_headroom: float | None
    fail_on: str
    queue_limit: int | None
    interval_s: float
    arrivals: str
    late_threshold_ms: float
    max_in_flight: int
    message_size: int
    demo: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # every resolved option, for re-serialising

    @property
    def uses_demo(self) -> bool:
        return self.target is None

    def redacted(self) -> dict[str, Any]:
        """The settings as they may be written to run.json and reports."""
        out = {k: v for k, v in self.values.items() if not k.startswith("demo_") or self.uses_demo}
        out["target"] = redact_url(self.target) if self.target else "demo"
        out["source"] = [redact_url(s) for s in self.sources]
        out["scenario"] = self.scenario
        return out

    def secret_env(self) -> dict[str, str]:
        """Target and sources that carry credentials, for the child's environment instead of its
        command line (which any local user can read with ps)."""
        secret = {k: v for k, v in (("target", self.target), ("source", list(self.sources)))
                  if v and (redact_url(v) != v if isinstance(v, str) else any(redact_url(x) != x for x in v))}
        return {SECRET_ENV: json.dumps(secret)} if secret else {}

    def to_argv(self) -> list[str]:
        """Locust command-line arguments carrying these settings to the plugin (secrets: see secret_env)."""
        argv = ["--scenario", self.scenario]
        hidden = set(json.loads(self.secret_env().get(SECRET_ENV, "{}")))
        for name, value in self.values.items():
            opt = _BY_NAME[name]
            if value is None or (opt.kind == "list" and not value) or name in hidden:
                continue
            if opt.kind == "list":
                for v in value:
                    argv += [opt.flag, str(v)]
            else:
                argv += [opt.flag, str(value)]
        return argv


#: environment variable that carries credential-bearing target/source URLs to Locust (see secret_env)
SECRET_ENV = "CAPPLAN_SECRET_OPTIONS"


def secret_options() -> dict[str, Any]:
    """The options a parent capplan process passed through :data:`SECRET_ENV` (empty if none)."""
    raw = os.environ.get(SECRET_ENV)
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigError(f"{SECRET_ENV} is not valid JSON; unset it.") from None
    return {k: v for k, v in doc.items() if k in ("target", "source")}


def load_profile(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"Profile {str(p)!r} does not exist; check the --profile path.") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"Profile {str(p)!r} is not valid TOML ({e}); fix the file or drop --profile.") from None
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):  # [surge] / [demo] tables: keys inside are option names
            for k2, v2 in value.items():
                name = k2.replace("-", "_")
                flat[name if name in _BY_NAME else f"{key}_{name}"] = v2
        else:
            flat[key.replace("-", "_")] = value
    if "sources" in flat:
        flat["source"] = flat.pop("sources")
    unknown = sorted(k for k in flat if k not in _BY_NAME and k != "scenario")
    if unknown:
        raise ConfigError(f"Profile {str(p)!r} has unknown setting(s) {unknown}; see `capplan run surge --help`.")
    return flat


def _coerce(opt: Option, value: Any) -> Any:
    if value is None:
        return None
    try:
        if opt.kind is float:
            v = float(value)
            if math.isnan(v) or math.isinf(v):
                raise ValueError
            return v
        if opt.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if opt.kind == "list":
            if isinstance(value, str):
                return [value]
            return [str(v) for v in value]
        if opt.kind == "choice":
            if str(value) not in opt.choices:
                raise ConfigError(f"{opt.flag} must be one of {', '.join(opt.choices)}, got {value!r}.")
            return str(value)
        return str(value)
    except (TypeError, ValueError):
        kind = opt.kind if isinstance(opt.kind, str) else opt.kind.__name__
        raise ConfigError(f"{opt.flag} must be a {kind}, got {value!r}.") from None


def _check_url(what: str, url: str, schemes: Sequence[str]) -> None:
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as e:
        raise ConfigError(f"{what} {redact_url(url)!r} is not a valid URL ({e}).") from None
    if parts.scheme.lower() not in schemes:
        raise ConfigError(
            f"{what} {redact_url(url)!r} has unsupported scheme {parts.scheme!r}; use one of {', '.join(schemes)}."
        )
    if not parts.hostname:
        raise ConfigError(f"{what} {redact_url(url)!r} has no host; write it like http://127.0.0.1:8080.")


TARGET_SCHEMES = ("http", "https", "amqp", "amqps", "redis", "rediss", "nats")


def resolve(scenario: str, given: Mapping[str, Any], profile: str | Path | None = None) -> RunSettings:
    """Merge defaults, the profile and explicitly given options; validate; build the shape."""
    merged: dict[str, Any] = {o.name: o.default for o in ALL_OPTIONS}
    prof = load_profile(profile) if profile else {}
    if "scenario" in prof and prof["scenario"] != scenario and "scenario_from_cli" not in given:
        scenario = str(prof.pop("scenario"))
    prof.pop("scenario", None)
    if scenario not in SCENARIOS:
        raise ConfigError(f"Unknown scenario {scenario!r}; use one of: {', '.join(SCENARIOS)}.")
    for src in (prof, given):
        for name, value in src.items():
            if name == "scenario_from_cli":
                continue
            if name not in _BY_NAME:
                raise ConfigError(f"Unknown option {name!r}.")
            if value is None or (_BY_NAME[name].kind == "list" and value == []):
                continue
            merged[name] = _coerce(_BY_NAME[name], value)

    for name in ("slo_p99_ms", "interval", "late_threshold_ms", "demo_service_time_ms", "demo_service_scv",
                 "plan_surge_duration"):
        if merged[name] is None or merged[name] <= 0:
            raise ConfigError(f"{_BY_NAME[name].flag} must be greater than zero, got {merged[name]!r}.")
    if merged["processes"] is not None and (merged["processes"] == 0 or merged["processes"] < -1):
        raise ConfigError(f"--processes must be at least 1 (or -1: one per core), got {merged['processes']!r}.")
    for name in ("max_in_flight", "demo_workers", "demo_queue_limit"):
        if merged[name] is None or merged[name] < 1:
            raise ConfigError(f"{_BY_NAME[name].flag} must be at least 1, got {merged[name]!r}.")
    if merged["queue_limit"] is not None and merged["queue_limit"] < 1:
        raise ConfigError(f"--queue-limit must be at least 1, got {merged['queue_limit']!r}.")
    if not 0 <= merged["slo_error_rate"] < 1:
        raise ConfigError(f"--slo-error-rate must be a ratio in [0, 1), got {merged['slo_error_rate']!r}.")
    if merged["message_size"] < 0:
        raise ConfigError(f"--message-size must be 0 or more, got {merged['message_size']!r}.")

    shape_kwargs = {o.name: merged[o.name] for o in SHAPE_OPTIONS if scenario in o.scenarios}
    shape = shapes.SCENARIOS[scenario](**shape_kwargs)

    target = merged["target"]
    if target:
        _check_url("Target", target, TARGET_SCHEMES)
    sources = tuple(merged["source"])
    for s in sources:
        if s != "demo":
            from capacity.sources import known_schemes
            from capacity.sources.base import scheme_of

            if scheme_of(s) not in known_schemes():
                raise ConfigError(
                    f"Source {redact_url(s)!r} has unknown scheme {scheme_of(s)!r}; use one of "
                    f"{', '.join(sorted(known_schemes()))}."
                )
    values = {k: merged[k] for k in (o.name for o in options_for(scenario))}
    demo = {k[len("demo_"):]: merged[k] for k in merged if k.startswith("demo_")}
    queue_limit = merged["queue_limit"] if merged["queue_limit"] is not None else (
        demo["queue_limit"] if target is None else None
    )
    return RunSettings(
        scenario=scenario,
        shape=shape,
        target=target,
        sources=sources,
        out=Path(merged["out"]),
        run_id=merged["run_id"],
        seed=merged["seed"],
        slo_p99_ms=merged["slo_p99_ms"],
        slo_error_rate=merged["slo_error_rate"],
        min_headroom=merged["min_headroom"],
        fail_on=merged["fail_on"],
        queue_limit=queue_limit,
        interval_s=merged["interval"],
        arrivals=merged["arrivals"],
        late_threshold_ms=merged["late_threshold_ms"],
        max_in_flight=merged["max_in_flight"],
        message_size=merged["message_size"],
        demo=demo,
        values=values,
    )
