"""capplan in Locust's web UI: the Capacity tab, the live page, downloads, form fixes and login.

:func:`setup` is called by the plugin's init listener when Locust runs with its web UI. It adds

- a **Capacity** tab fed through Locust's stats poll (``extended_stats`` on ``/stats/requests``):
  phase, rates, queue depth and growth, the capacity estimate so far with its interval, headroom,
  time until the queue limit, late sends;
- ``/capplan/live``, a self-contained page plotting queue depth and rates from ``/capplan/series``;
- ``/capplan/report``, ``/capplan/timeseries.csv`` and ``/capplan/model.json`` for the latest run,
  linked from Locust's Download Data tab;
- a check of the start form before Locust applies it: empty fields mean "not set", values are
  validated by :mod:`capacity.profile` and a bad one is shown in the form instead of failing the run;
- a username/password for ``--web-login`` from ``--web-auth user:pass`` / ``CAPPLAN_WEB_AUTH``.

The numbers are pure functions of the rows written so far (:class:`Live`), so they are tested without
Locust; this module imports Locust and Flask only inside :func:`setup`.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from capacity import fit, profile
from capacity.errors import CapacityError, ConfigError, FitError
from capacity.runs import COLUMNS, MODEL_JSON, REPORT_HTML, TIMESERIES_CSV

if TYPE_CHECKING:
    from locust.env import Environment

log = logging.getLogger("capplan")

AUTH_ENV = "CAPPLAN_WEB_AUTH"
TAB_KEY = "capacity"
#: intervals over which the queue's growth rate is measured
GROWTH_WINDOW = 3
DASH = "—"
STOPPED_STATES = ("stopped", "stopping", "cleanup")
SERIES_COLUMNS = ("t", "phase", "target_rate", "sent_rate", "ok_rate", "error_rate", "processed_rate",
                  "queue_depth", "late_sends")


# -- the numbers ----------------------------------------------------------------------------------

def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows seen so far as a DataFrame with the run folder's columns (numbers as floats)."""
    ts = pd.DataFrame(rows, columns=list(COLUMNS))
    for c in COLUMNS:
        if c not in ("time", "phase"):
            ts[c] = pd.to_numeric(ts[c], errors="coerce").astype(float)
    return ts


def growth_rate(ts: pd.DataFrame, window: int = GROWTH_WINDOW) -> float | None:
    """The queue's growth (msgs/s) over the last ``window`` intervals with a depth sample."""
    q = ts[["t", "queue_depth"]].dropna().tail(window + 1)
    if len(q) < 2:
        return None
    dt = float(q["t"].iloc[-1] - q["t"].iloc[0])
    return None if dt <= 0 else float(q["queue_depth"].iloc[-1] - q["queue_depth"].iloc[0]) / dt


@dataclass(frozen=True)
class CapacityNow:
    """The capacity estimate from the saturated intervals seen so far (None until there are enough)."""

    estimate: fit.Estimate | None
    saturated: int


def capacity_so_far(ts: pd.DataFrame, interval_s: float) -> CapacityNow:
    """Capacity as the fitter measures it (same mask, departures and bootstrap), from the rows so far."""
    if ts.empty or ts["queue_depth"].notna().sum() == 0:
        return CapacityNow(None, 0)
    dep = fit.departures(ts, interval_s)
    mask = fit.saturated_mask(ts) & dep.notna()
    n = int(mask.sum())
    if n < fit.MIN_SATURATED_INTERVALS:
        return CapacityNow(None, n)
    try:
        return CapacityNow(fit.block_bootstrap_mean(dep[mask].to_numpy(dtype=float)), n)
    except FitError:
        return CapacityNow(None, n)


def headroom(ts: pd.DataFrame, cap: CapacityNow) -> str:
    """Capacity against the peak offered (target) rate, and against the peak sent rate as model.json
    does (a Poisson run's busiest interval sends more than the target)."""
    if cap.estimate is None:
        return DASH
    target, sent = _num(ts["target_rate"].max()), _num(ts["sent_rate"].max())
    parts = [f"{cap.estimate.value / peak - 1:+.0%} vs the peak {what} rate {peak:,.1f} msg/s"
             for what, peak in (("target", target), ("sent", sent)) if peak]
    if not parts:
        return DASH
    over = cap.estimate.value < (target or sent or 0)
    return "; ".join(parts) + ("  (the peak exceeds capacity: the queue grows)" if over else "")


def _rate(v: float | None) -> str:
    return DASH if v is None else f"{v:,.1f} msg/s"


def _duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


@dataclass
class Live:
    """What the UI shows about the current (or latest) run; fed one row at a time by the sampler."""

    run_id: str | None = None
    run_dir: Path | None = None
    target: str | None = None
    interval_s: float = 1.0
    duration_s: float | None = None
    queue_limit: int | None = None
    phases: list[tuple[str, float, float]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    finalized: bool = False  # the plugin has closed the run folder and tried to fit and report
    _cache: tuple[int, pd.DataFrame, CapacityNow] | None = None

    def start(self, run_dir: Path, target: str | None, interval_s: float, duration_s: float,
              queue_limit: int | None, phases: list[tuple[str, float, float]]) -> None:
        self.run_id, self.run_dir, self.target = run_dir.name, run_dir, target
        self.interval_s, self.duration_s, self.queue_limit = interval_s, duration_s, queue_limit
        self.phases = list(phases)
        self.rows = []
        self.finalized = False
        self._cache = None

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(dict(row))

    def _state(self) -> tuple[pd.DataFrame, CapacityNow]:
        n = len(self.rows)
        if self._cache is None or self._cache[0] != n:
            ts = frame(self.rows)
            self._cache = (n, ts, capacity_so_far(ts, self.interval_s))
        return self._cache[1], self._cache[2]

    def capacity(self) -> CapacityNow:
        return self._state()[1]

    def summary(self, test_state: str | None = None) -> list[dict[str, str]]:
        """The Capacity tab's rows ``{"name", "metric", "value"}``, values as display strings. Locust's
        table sorts by ``name``, so it holds the row's position."""
        out: list[dict[str, str]] = []

        def add(metric: str, value: str) -> None:
            out.append({"name": f"{len(out):02d}", "metric": metric, "value": value})

        if self.run_dir is None:
            add("Status", "no capplan run yet: start a test (scenario settings are under Custom parameters)")
            return out
        ts, cap = self._state()
        add("Status", self._status(test_state))
        add("Run", f"{self.run_id}  (folder {self.run_dir})")
        if self.target:
            add("Target", self.target)
        last = ts.iloc[-1] if len(ts) else None

        def col(name: str) -> float | None:
            return None if last is None else _num(last[name])

        over = self.finalized or test_state in STOPPED_STATES
        of = f" of {_duration(self.duration_s)}" if self.duration_s else ""
        if last is None:
            add("Phase", "starting (the first interval is being measured)")
        elif last["phase"] == "done" and self.duration_s:
            add("Phase", f"done  (the {_duration(self.duration_s)} shape has ended)")
        elif over:
            add("Phase", f"stopped during {last['phase']}  (at t = {last['t']:.0f} s{of})")
        else:
            add("Phase", f"{last['phase']}  (t = {last['t']:.0f} s{of})")
        add("Target rate", _rate(col("target_rate")))
        add("Sent rate", _rate(col("sent_rate")))
        add("Processed rate", _rate(col("processed_rate")))
        depth = col("queue_depth")
        limit = f" (limit {self.queue_limit:,})" if self.queue_limit else ""
        add("Queue depth", DASH if depth is None else f"{depth:,.0f} messages{limit}")
        growth = growth_rate(ts)
        add("Queue growth", DASH if growth is None else f"{growth:+,.1f} msg/s")
        if cap.estimate is None:
            add("Capacity estimate", f"{DASH}  (needs {fit.MIN_SATURATED_INTERVALS} saturated intervals, "
                f"{cap.saturated} so far: the queue must stay at least {fit.MIN_SATURATED_DEPTH:g} deep)")
        else:
            e = cap.estimate
            add("Capacity estimate", f"{e.value:,.1f} msg/s  (95% interval {e.ci_low:,.1f} to "
                f"{e.ci_high:,.1f}; {cap.saturated} saturated intervals)")
        add("Headroom", headroom(ts, cap))
        add("Time to queue limit", "—  (the test has stopped)" if over else self._time_to_limit(depth, growth))
        late = ts["late_sends"].dropna()
        add("Late sends", DASH if late.empty else
            f"{late.sum():,.0f} so far ({late.iloc[-1]:,.0f} in the last interval)")
        add("Error rate", _rate(col("error_rate")))
        add("Live plots", "open /capplan/live (button at the bottom right, or under Download Data)")
        return out

    def _status(self, test_state: str | None) -> str:
        assert self.run_dir is not None
        if (self.run_dir / REPORT_HTML).exists():
            return f"finished: report written to {self.run_dir / REPORT_HTML} (see Download Data)"
        if self.finalized:
            return "finished, but no report was written: see the Logs tab"
        if test_state in STOPPED_STATES:
            return "stopped: fitting the model and writing the report ..."
        return f"running ({len(self.rows)} interval(s) recorded)"

    def _time_to_limit(self, depth: float | None, growth: float | None) -> str:
        if not self.queue_limit:
            return f"{DASH}  (queue limit unknown: pass --queue-limit)"
        if depth is None or growth is None:
            return DASH
        if depth >= self.queue_limit:
            return "reached: the queue is at its limit"
        if growth <= 0.05:
            return "not growing"
        return f"{_duration((self.queue_limit - depth) / growth)} at {growth:+,.1f} msg/s"

    def series(self, since: int = 0, test_state: str | None = None) -> dict[str, Any]:
        """JSON for the live page: rows from index ``since`` on, plus what the plots need."""
        since = max(0, min(since, len(self.rows)))
        rows = [{c: (r.get(c) if c == "phase" else _num(r.get(c))) for c in SERIES_COLUMNS}
                for r in self.rows[since:]]
        cap = self.capacity() if self.rows else CapacityNow(None, 0)
        return {
            "run_id": self.run_id,
            "state": test_state,
            "report": bool(self.run_dir and (self.run_dir / REPORT_HTML).exists()),
            "interval_s": self.interval_s,
            "duration_s": self.duration_s,
            "queue_limit": self.queue_limit,
            "phases": [list(p) for p in self.phases],
            "since": since,
            "total": len(self.rows),
            "rows": rows,
            "capacity": None if cap.estimate is None else cap.estimate.as_dict(),
            "saturated": cap.saturated,
        }


LIVE = Live()


# -- the start form -----------------------------------------------------------------------------

_SCENARIO = profile.Option("scenario", "choice", "surge", "Load shape to run.", choices=profile.SCENARIOS)
#: the capplan fields of Locust's start form (the plugin registers them with include_in_web_ui)
FORM_OPTIONS: dict[str, profile.Option] = {o.name: o for o in profile.ALL_OPTIONS if o.web_ui} | {
    "scenario": _SCENARIO}


def _squash(name: str) -> str:
    return name.replace("_", "").lower()


_BY_SQUASHED = {_squash(n): n for n in FORM_OPTIONS}


def form_option_name(key: str) -> str | None:
    """The capplan option a form field stands for. Locust's UI renames fields through camelCase
    (``slo_p99_ms`` comes back as ``slo_p9_9ms``), so names are compared without underscores."""
    return key if key in FORM_OPTIONS else _BY_SQUASHED.get(_squash(key))


def typed_value(opt: profile.Option, raw: str) -> Any:
    """A form field's text as the option's type; an empty field means "not set" (None)."""
    raw = raw.strip()
    if raw == "":
        return None
    if opt.kind == "list":
        return [s for s in re.split(r"[,\s]+", raw) if s] or None
    if opt.kind in (float, int):
        try:
            return opt.kind(raw)  # type: ignore[operator]
        except ValueError:
            kind = "number" if opt.kind is float else "whole number"
            raise ConfigError(f"{opt.flag} must be a {kind}, got {raw!r}.") from None
    return raw


def form_values(form: Any) -> tuple[dict[str, Any], list[str]]:
    """The capplan options in a start form (typed) and the form keys they came from."""
    values: dict[str, Any] = {}
    keys: list[str] = []
    for key in form.keys():
        name = form_option_name(key)
        if name is None:
            continue
        keys.append(key)
        values[name] = typed_value(FORM_OPTIONS[name], ",".join(form.getlist(key)))
    return values, keys


# -- Locust glue ----------------------------------------------------------------------------------

def add_arguments(parser: Any) -> None:
    """Options of the web UI; the UI binds to loopback unless --web-host says otherwise."""
    parser.add_argument("--capplan-web-auth", default=None, env_var=AUTH_ENV, include_in_web_ui=False,
                        help="user:password for --web-login (or set CAPPLAN_WEB_AUTH).")
    parser.set_defaults(web_host="127.0.0.1")


def _plugin_state() -> Any:
    from loadtests import plugin

    return plugin.STATE


def _test_state(environment: Environment) -> str | None:
    runner = environment.runner
    return None if runner is None else str(runner.state)


def _on_test_start(environment: Environment, **_: Any) -> None:
    state = _plugin_state()
    if state.run_dir is None or state.settings is None or state.writer is None:
        return
    s = state.settings
    LIVE.start(state.run_dir, state.writer.meta.get("target"), s.interval_s, s.shape.duration_s,
               state.writer.meta.get("queue_limit"), s.shape.phase_spans())


def _on_test_stop(environment: Environment, **_: Any) -> None:
    LIVE.finalized = LIVE.run_dir is not None  # runs after the plugin's listener, which finalises the run


def setup(environment: Environment) -> None:
    """Add the Capacity tab, the live page, downloads, the form check and login to Locust's web UI."""
    web_ui = environment.web_ui
    if web_ui is None:
        return
    state = _plugin_state()
    if state.demo is not None and not environment.host:
        environment.host = str(state.demo.url)  # show where the load goes (and tell the workers)
    if LIVE.add not in state.listeners:
        state.listeners.append(LIVE.add)
    environment.events.test_start.add_listener(_on_test_start)
    environment.events.test_stop.add_listener(_on_test_stop)
    base = (getattr(environment.parsed_options, "web_base_path", "") or "").rstrip("/")
    _template_args(web_ui)
    _routes(environment, base)
    if web_ui.web_login:
        _login(environment, base)


def _template_args(web_ui: Any) -> None:
    web_ui.template_args["extendedTabs"] = [{"title": "Capacity", "key": TAB_KEY}]
    web_ui.template_args["extendedTables"] = [{"key": TAB_KEY, "structure": [
        {"key": "metric", "title": "Measure"}, {"key": "value", "title": "Latest"}]}]
    latest = "(latest capplan run)"
    web_ui.template_args["extendedCsvFiles"] = [
        {"href": "./capplan/report?download=1", "title": f"Download capacity report HTML {latest}"},
        {"href": "./capplan/timeseries.csv", "title": f"Download capacity timeseries CSV {latest}"},
        {"href": "./capplan/model.json", "title": f"Download fitted capacity model JSON {latest}"},
        {"href": "./capplan/live", "title": "Open live capacity plots"},
    ]


_LIVE_LINK = (
    '<a id="capplan-live-link" href="./capplan/live" target="_blank" rel="noopener" style="display:none;'
    "position:fixed;right:24px;bottom:48px;z-index:2000;padding:10px 16px;border-radius:4px;"
    "background:#15803d;color:#fff;font:500 14px system-ui,sans-serif;text-decoration:none;"
    'box-shadow:0 2px 6px rgba(0,0,0,.3)">Open live capacity plots &#8599;</a>'
    "<script>setInterval(function(){var a=document.getElementById('capplan-live-link');if(a){"
    "a.style.display=new URLSearchParams(location.search).get('tab')==='" + TAB_KEY + "'?'block':'none';}"
    "},400);</script>"
)


def _routes(environment: Environment, base: str) -> None:
    from flask import Blueprint, Response, jsonify, make_response, request

    web_ui = environment.web_ui
    assert web_ui is not None
    app = web_ui.app
    auth = web_ui.auth_required_if_enabled
    bp = Blueprint("capplan", __name__, url_prefix=f"{base}/capplan")

    def latest(name: str) -> Path | None:
        state = _plugin_state()
        run_dir = state.run_dir or LIVE.run_dir
        return None if run_dir is None else Path(run_dir) / name

    def missing(what: str) -> Response:
        report_path = latest(REPORT_HTML)
        if report_path is None:
            msg = "No capplan run yet in this Locust session: start a test first."
        elif what == MODEL_JSON and report_path.exists():
            msg = "The fit produced no model for the latest run; its report says why."
        elif what in (REPORT_HTML, MODEL_JSON):
            msg = f"{what} is written when the test stops: stop it (or let the shape end), then try again."
        else:
            msg = f"The latest run has no {what}."
        return make_response(msg, 404, {"Content-Type": "text/plain; charset=utf-8"})

    def file_response(name: str, mimetype: str, attachment: bool) -> Response:
        path = latest(name)
        if path is None or not path.exists():
            return missing(name)
        res = make_response(path.read_bytes())
        res.headers["Content-Type"] = mimetype
        res.headers["Cache-Control"] = "no-store"
        if attachment:
            res.headers["Content-Disposition"] = f"attachment; filename={path.parent.name}-{name}"
        return res

    @bp.route("/live")
    @auth
    def live() -> Response:
        return make_response(LIVE_HTML, 200, {"Content-Type": "text/html; charset=utf-8"})

    @bp.route("/series")
    @auth
    def series() -> Response:
        since = request.args.get("since", "0")
        return jsonify(LIVE.series(int(since) if since.isdigit() else 0, _test_state(environment)))

    @bp.route("/summary")
    @auth
    def summary() -> Response:
        return jsonify(LIVE.summary(_test_state(environment)))

    @bp.route("/report")
    @auth
    def report() -> Response:
        return file_response(REPORT_HTML, "text/html; charset=utf-8", bool(request.args.get("download")))

    @bp.route("/timeseries.csv")
    @auth
    def timeseries() -> Response:
        return file_response(TIMESERIES_CSV, "text/csv; charset=utf-8", True)

    @bp.route("/model.json")
    @auth
    def model() -> Response:
        return file_response(MODEL_JSON, "application/json", True)

    app.register_blueprint(bp)

    @app.after_request
    def _extend(response: Response) -> Response:
        if request.endpoint == "locust.request_stats" and response.status_code == 200 and response.is_json:
            doc = dict(response.get_json() or {})
            doc["extended_stats"] = [{"key": TAB_KEY, "data": LIVE.summary(_test_state(environment))}]
            response.set_data(json.dumps(doc))
        elif (request.endpoint == "locust.index" and response.status_code == 200
              and response.mimetype == "text/html" and not response.direct_passthrough):
            html = response.get_data(as_text=True)
            if "capplan-live-link" not in html:
                response.set_data(html.replace("</body>", _LIVE_LINK + "</body>", 1))
        return response

    @app.before_request
    def _check_form() -> Response | None:
        if request.endpoint != "locust.swarm" or request.method != "POST":
            return None
        if web_ui.web_login:
            from flask_login import current_user

            if not current_user.is_authenticated:
                return None  # Locust's own login check refuses it
        return check_swarm_form(environment)


def check_swarm_form(environment: Environment) -> Any:
    """Validate the capplan fields of a /swarm form and apply them to ``parsed_options``; a bad value
    becomes Locust's ``{"success": false, "message": ...}`` answer, shown in the form."""
    from argparse import Namespace

    from flask import jsonify, request
    from werkzeug.datastructures import ImmutableMultiDict

    from loadtests import plugin

    def refuse(msg: str) -> Any:
        return jsonify({"success": False, "message": msg, "host": environment.host})

    opts = environment.parsed_options
    if opts is None:
        return None
    try:
        values, keys = form_values(request.form)
        trial = Namespace(**{**vars(opts), **values})
        settings = plugin.settings_from_options(trial)
    except CapacityError as e:
        return refuse(str(e))
    host = (request.form.get("host") or "").strip()
    demo = _plugin_state().demo
    if settings.target is None and not host:
        if demo is None:
            return refuse("No target: fill in Target (or Host), e.g. http://127.0.0.1:8080.")
        host = str(demo.url)  # an emptied Host field: the load goes to the demo (workers need to know)
    for name, value in values.items():
        setattr(opts, name, value)
    items = [(k, v) for k, v in request.form.items(multi=True) if k not in keys and k != "host"]
    request.form = ImmutableMultiDict([*items, ("host", host)])
    return None


class _User:
    """The one --web-login user (a flask_login user)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, name: str) -> None:
        self.name = name

    def get_id(self) -> str:
        return self.name


def parse_credentials(text: str | None) -> tuple[str, str]:
    if not text or ":" not in text or text.startswith(":") or text.endswith(":"):
        raise ConfigError(
            "--web-login needs a username and password: pass --web-auth user:password to `capplan ui`, "
            f"or set {AUTH_ENV}=user:password (or --capplan-web-auth) for plain locust."
        )
    user, password = text.split(":", 1)
    return user, password


def _login(environment: Environment, base: str) -> None:
    import base64

    from flask import Blueprint, redirect, request, session, url_for
    from flask_login import login_user

    web_ui = environment.web_ui
    assert web_ui is not None
    try:
        user, password = parse_credentials(getattr(environment.parsed_options, "capplan_web_auth", None)
                                           or os.environ.get(AUTH_ENV))
    except ConfigError as e:
        log.error("capplan: %s", e)
        raise SystemExit(2) from None

    def ok(u: str | None, p: str | None) -> bool:
        return (u is not None and p is not None and hmac.compare_digest(u.encode(), user.encode())
                and hmac.compare_digest(p.encode(), password.encode()))

    app = web_ui.app
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = os.environ.get("FLASK_SECRET_KEY") or secrets.token_hex(32)
    manager = web_ui.login_manager
    manager.user_loader(lambda uid: _User(uid) if uid == user else None)

    @manager.request_loader
    def _basic(req: Any) -> _User | None:  # HTTP basic auth, for scripts and curl
        header = req.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            u, _, p = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return _User(user) if ok(u, p) else None

    bp = Blueprint("capplan_auth", __name__, url_prefix=f"{base}/capplan")

    @bp.route("/login", methods=["POST"])
    def login_submit() -> Any:
        if ok(request.form.get("username"), request.form.get("password")):
            login_user(_User(user))
            return redirect(url_for("locust.index"))
        session["auth_error"] = "Invalid username or password"
        return redirect(url_for("locust.login"))

    app.register_blueprint(bp)
    web_ui.auth_args = {"username_password_callback": f"{base}/capplan/login"}


LIVE_HTML = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>capplan live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font: 14px system-ui, sans-serif; margin: 0; color: #1f2937; background: #f8fafc; }
 header { background: #15803d; color: #fff; padding: 10px 20px; display: flex; gap: 24px;
          align-items: baseline; flex-wrap: wrap; }
 header h1 { font-size: 18px; margin: 0; } header a { color: #fff; }
 main { padding: 12px 20px; max-width: 1200px; }
 .cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
 .card { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 12px;
         min-width: 130px; }
 .card b { display: block; font-size: 18px; } .card span { color: #6b7280; font-size: 12px; }
 figure { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; margin: 12px 0; padding: 8px; }
 figcaption { font-weight: 600; margin: 0 0 4px 4px; } svg { width: 100%; height: auto; display: block; }
 .legend span { margin-right: 14px; font-size: 12px; }
 .legend i { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
 #msg { color: #b91c1c; }
</style></head>
<body>
<header><h1>capplan live</h1><span id="run">waiting for a run</span><span id="state"></span>
 <a href="../">back to Locust</a><a href="report" id="report" style="display:none">report</a>
 <a href="timeseries.csv">timeseries.csv</a></header>
<main>
<div class="cards" id="cards"></div><div id="msg"></div>
<figure><figcaption>Queue depth (messages)</figcaption><svg id="depth" viewBox="0 0 1000 280"></svg>
 <div class="legend"><span><i style="background:#2563eb"></i>queue depth</span>
 <span><i style="background:#dc2626"></i>queue limit (when in range)</span></div></figure>
<figure><figcaption>Rates (messages/s)</figcaption><svg id="rates" viewBox="0 0 1000 280"></svg>
 <div class="legend"><span><i style="background:#9ca3af"></i>target</span>
 <span><i style="background:#2563eb"></i>sent</span><span><i style="background:#16a34a"></i>processed</span>
 <span><i style="background:#f59e0b"></i>capacity estimate (band: 95% interval)</span></div></figure>
</main>
<script>
"use strict";
var data = {run: null, rows: [], meta: null};
var PHASE = {baseline: "#f1f5f9", ramp: "#fef9c3", surge: "#fee2e2", "ramp-down": "#fef9c3",
             recovery: "#dcfce7"};
var SVGNS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  var e = document.createElementNS(SVGNS, tag);
  for (var k in attrs) { e.setAttribute(k, attrs[k]); }
  if (text !== undefined) { e.textContent = text; }
  return e;
}
function nice(max) {
  if (!(max > 0)) { return 1; }
  var p = Math.pow(10, Math.floor(Math.log10(max))), m = max / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}
function fmt(v, d) {
  if (v === null || v === undefined) { return "\u2014"; }
  return v.toLocaleString(undefined, {maximumFractionDigits: d === undefined ? 1 : d});
}
function chart(svg, series, opts) {
  while (svg.firstChild) { svg.removeChild(svg.firstChild); }
  var W = 1000, H = 280, L = 60, R = 15, T = 10, B = 30, w = W - L - R, h = H - T - B;
  var meta = data.meta || {}, rows = data.rows;
  var xmax = Math.max(meta.duration_s || 0, rows.length ? rows[rows.length - 1].t : 0, 1);
  var ymax = 0;
  series.forEach(function (s) {
    rows.forEach(function (r) { var v = r[s.key]; if (v !== null && v > ymax) { ymax = v; } });
  });
  (opts.hlines || []).forEach(function (l) {  // show a reference line unless it would flatten the data
    if (l.v !== null && l.v > ymax && l.v < 3 * Math.max(ymax, 1)) { ymax = l.v; }
  });
  ymax = nice(ymax * 1.1);
  function X(t) { return L + w * t / xmax; }
  function Y(v) { return T + h - h * v / ymax; }
  (meta.phases || []).forEach(function (p) {
    var x0 = X(p[1]), x1 = X(Math.min(p[2], xmax));
    svg.appendChild(el("rect", {x: x0, y: T, width: Math.max(0, x1 - x0), height: h,
                                fill: PHASE[p[0]] || "#f8fafc"}));
    if (x1 - x0 > 7 * p[0].length + 8) {
      svg.appendChild(el("text", {x: x0 + 4, y: T + 14, "font-size": 12, fill: "#64748b"}, p[0]));
    }
  });
  for (var i = 0; i <= 4; i++) {
    var v = ymax * i / 4;
    svg.appendChild(el("line", {x1: L, x2: L + w, y1: Y(v), y2: Y(v), stroke: "#e5e7eb"}));
    svg.appendChild(el("text", {x: L - 6, y: Y(v) + 4, "text-anchor": "end", "font-size": 12,
                                fill: "#374151"}, fmt(v, 0)));
  }
  var step = nice(xmax / 8);
  for (var t = 0; t <= xmax + 1e-9; t += step) {
    svg.appendChild(el("text", {x: X(t), y: H - 8, "text-anchor": "middle", "font-size": 12,
                                fill: "#374151"}, fmt(t, 0) + " s"));
  }
  (opts.bands || []).forEach(function (b) {
    var hi = Math.min(b.hi, ymax);
    svg.appendChild(el("rect", {x: L, width: w, y: Y(hi), height: Math.max(0, Y(b.lo) - Y(hi)),
                                fill: b.color, opacity: 0.25}));
  });
  (opts.hlines || []).forEach(function (l) {
    if (l.v === null || l.v > ymax) { return; }
    svg.appendChild(el("line", {x1: L, x2: L + w, y1: Y(l.v), y2: Y(l.v), stroke: l.color,
                                "stroke-width": 2, "stroke-dasharray": "6 4"}));
  });
  series.forEach(function (s) {
    var pts = [], paths = [];
    rows.forEach(function (r) {
      var v = r[s.key];
      if (v === null) { if (pts.length) { paths.push(pts); pts = []; } }
      else { pts.push(X(r.t).toFixed(1) + "," + Y(v).toFixed(1)); }
    });
    if (pts.length) { paths.push(pts); }
    paths.forEach(function (p) {
      svg.appendChild(el("polyline", {points: p.join(" "), fill: "none", stroke: s.color,
                                      "stroke-width": s.width || 2, "class": "series-" + s.key}));
    });
  });
  svg.appendChild(el("rect", {x: L, y: T, width: w, height: h, fill: "none", stroke: "#9ca3af"}));
}
function card(label, value) {
  return '<div class="card"><span>' + label + '</span><b>' + value + '</b></div>';
}
function render() {
  var m = data.meta || {}, rows = data.rows, last = rows.length ? rows[rows.length - 1] : {};
  var cap = m.capacity;
  document.getElementById("run").textContent = m.run_id ? "run " + m.run_id : "waiting for a run";
  document.getElementById("state").textContent = m.state ? "test " + m.state : "";
  document.getElementById("report").style.display = m.report ? "inline" : "none";
  var capText = cap ? fmt(cap.value) + " [" + fmt(cap.ci_low) + ", " + fmt(cap.ci_high) + "]"
                    : "\u2014 (" + (m.saturated || 0) + " saturated intervals)";
  document.getElementById("cards").innerHTML =
    card("phase", last.phase ? String(last.phase).replace(/[<>&]/g, "") : "\u2014") +
    card("target rate", fmt(last.target_rate)) + card("sent rate", fmt(last.sent_rate)) +
    card("processed rate", fmt(last.processed_rate)) + card("queue depth", fmt(last.queue_depth, 0)) +
    card("capacity estimate (msg/s)", capText);
  chart(document.getElementById("depth"), [{key: "queue_depth", color: "#2563eb"}],
        {hlines: [{v: m.queue_limit || null, color: "#dc2626"}]});
  chart(document.getElementById("rates"),
        [{key: "target_rate", color: "#9ca3af", width: 3}, {key: "sent_rate", color: "#2563eb"},
         {key: "processed_rate", color: "#16a34a"}],
        {hlines: [{v: cap ? cap.value : null, color: "#f59e0b"}],
         bands: cap ? [{lo: cap.ci_low, hi: cap.ci_high, color: "#f59e0b"}] : []});
}
function poll() {
  var again = false;
  fetch("series?since=" + data.rows.length, {cache: "no-store", credentials: "same-origin"})
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (j) {
      if (j.run_id !== data.run) {  // a new run: start over from its first row
        data.run = j.run_id; data.rows = [];
        if (j.since !== 0) { again = true; return; }
      }
      data.rows = data.rows.concat(j.rows); data.meta = j;
      document.getElementById("msg").textContent = "";
      render();
    })
    .catch(function (e) { document.getElementById("msg").textContent = "cannot reach Locust: " + e.message; })
    .then(function () { setTimeout(poll, again ? 0 : 1000); });
}
poll();
</script></body></html>
"""
