"""The web UI's numbers and checks without Locust: the Capacity tab, the live series, the start form,
credentials, and how ``capplan ui`` starts Locust."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from werkzeug.datastructures import MultiDict

from capacity import fit, profile, ui
from capacity.errors import ConfigError, LaunchError
from loadtests import webui


def rows(depths: list[float | None], sent: float = 75.0, processed: float | None = 60.0,
         phase: str = "surge") -> list[dict[str, Any]]:
    return [{"t": float(i + 1), "time": "", "phase": phase, "target_rate": 75.0, "sent_rate": sent,
             "ok_rate": sent, "error_rate": 0.0, "late_sends": 1, "queue_depth": d,
             "processed_rate": processed} for i, d in enumerate(depths)]


def live(depths: list[float | None], tmp_path: Path, **kw: Any) -> webui.Live:
    lv = webui.Live()
    lv.start(tmp_path / "20261203-141502-surge", "http://127.0.0.1:9", 1.0, 30.0, 5000,
             [("baseline", 0.0, 6.0), ("surge", 6.0, 30.0)])
    for r in rows(depths, **kw):
        lv.add(r)
    return lv


def value(summary: list[dict[str, str]], metric: str) -> str:
    return next(r["value"] for r in summary if r["metric"] == metric)


def test_growth_rate_over_the_last_intervals() -> None:
    ts = webui.frame(rows([0, 10, 25, 40, 55]))
    assert webui.growth_rate(ts) == pytest.approx(15.0)
    assert webui.growth_rate(webui.frame(rows([3]))) is None
    assert webui.growth_rate(webui.frame(rows([None, None, 4]))) is None


def test_capacity_matches_the_fitter_once_saturated(tmp_path: Path) -> None:
    depths = [0, 2, 10, 25, 40, 55, 70, 85, 100, 115]  # saturated once the queue holds half a second's work
    lv = live(depths, tmp_path, processed=60.0)
    cap = lv.capacity()
    ts = webui.frame(lv.rows)
    mask = fit.saturated_mask(ts)
    expected = fit.block_bootstrap_mean(fit.departures(ts, 1.0)[mask].to_numpy())
    assert cap.saturated == int(mask.sum()) >= fit.MIN_SATURATED_INTERVALS
    assert cap.estimate is not None and cap.estimate.value == pytest.approx(expected.value)
    s = lv.summary("running")
    assert value(s, "Capacity estimate").startswith("60.0 msg/s  (95% interval")
    assert value(s, "Headroom").startswith("-20% vs the peak target rate 75.0 msg/s")
    assert value(s, "Queue growth") == "+15.0 msg/s"
    assert value(s, "Time to queue limit") == "5.4 min at +15.0 msg/s"
    assert value(s, "Late sends") == "10 so far (1 in the last interval)"


def test_dash_until_saturated_and_departures_without_a_counter(tmp_path: Path) -> None:
    lv = live([0, 1, 8, 20], tmp_path, processed=None)
    s = lv.summary("running")
    assert value(s, "Capacity estimate").startswith("—  (needs 4 saturated intervals, 0 so far")
    assert value(s, "Headroom") == "—"
    assert value(s, "Processed rate") == "—"
    more = live([0, 1, 8, 20, 32, 44, 56, 68, 80, 92], tmp_path, processed=None)
    est = more.capacity().estimate
    assert est is not None and est.value == pytest.approx(75.0 - 12.0)  # arrivals minus queue growth


def test_summary_rows_keep_their_order_and_report_status(tmp_path: Path) -> None:
    assert webui.Live().summary()[0]["value"].startswith("no capplan run yet")
    lv = live([0, 5, 10], tmp_path)
    s = lv.summary("running")
    assert [r["name"] for r in s] == sorted(r["name"] for r in s)  # Locust's table sorts by name
    assert [r["metric"] for r in s][:4] == ["Status", "Run", "Target", "Phase"]
    assert value(s, "Phase") == "surge  (t = 3 s of 30 s)"
    stopped = lv.summary("stopped")
    assert value(stopped, "Status").startswith("stopped: fitting")
    assert value(stopped, "Phase") == "stopped during surge  (at t = 3 s of 30 s)"
    assert value(stopped, "Time to queue limit") == "—  (the test has stopped)"
    lv.finalized = True
    assert "no report was written" in value(lv.summary("stopped"), "Status")
    lv.run_dir.mkdir(parents=True)  # type: ignore[union-attr]
    (lv.run_dir / "report.html").write_text("<!doctype html>")  # type: ignore[operator]
    assert value(lv.summary("stopped"), "Status").startswith("finished: report written")


def test_time_to_limit_cases(tmp_path: Path) -> None:
    assert value(live([10, 10, 10], tmp_path).summary(), "Time to queue limit") == "not growing"
    assert value(live([4990, 5000], tmp_path).summary(), "Time to queue limit").startswith("reached")
    lv = live([0, 10], tmp_path)
    lv.queue_limit = None
    assert "queue limit unknown" in value(lv.summary(), "Time to queue limit")


def test_series_is_incremental_and_json_safe(tmp_path: Path) -> None:
    lv = live([0, 10, float("nan"), 40], tmp_path)
    doc = lv.series()
    assert doc["total"] == 4 and len(doc["rows"]) == 4 and doc["rows"][2]["queue_depth"] is None
    assert doc["phases"] == [["baseline", 0.0, 6.0], ["surge", 6.0, 30.0]]
    tail = lv.series(since=3)
    assert tail["since"] == 3 and [r["queue_depth"] for r in tail["rows"]] == [40.0]
    assert lv.series(since=99)["rows"] == []
    assert doc["capacity"] is None and doc["run_id"] == "20261203-141502-surge"


def test_form_field_names_come_back_from_locusts_camelcase() -> None:
    assert webui.form_option_name("slo_p9_9ms") == "slo_p99_ms"  # what Locust's UI posts for slo_p99_ms
    assert webui.form_option_name("baseline_rate") == "baseline_rate"
    assert webui.form_option_name("scenario") == "scenario"
    assert webui.form_option_name("user_count") is None
    assert webui.form_option_name("demo_workers") is None  # not in the form


def test_form_values_empty_means_unset_and_types_are_checked() -> None:
    form = MultiDict([("baseline_rate", "30"), ("seed", ""), ("source", "demo, prometheus+http://h:1/m"),
                      ("target", " "), ("slo_p9_9ms", "250"), ("user_count", "0")])
    values, keys = webui.form_values(form)
    assert values == {"baseline_rate": 30.0, "seed": None, "source": ["demo", "prometheus+http://h:1/m"],
                      "target": None, "slo_p99_ms": 250.0}
    assert "user_count" not in keys and "slo_p9_9ms" in keys
    with pytest.raises(ConfigError, match="--seed must be a whole number, got '1.5'"):
        webui.form_values(MultiDict([("seed", "1.5")]))
    with pytest.raises(ConfigError, match="--baseline-rate must be a number"):
        webui.typed_value(profile.ALL_BY_NAME["baseline_rate"], "fast")


def test_credentials() -> None:
    assert webui.parse_credentials("alice:pa:ss") == ("alice", "pa:ss")
    for bad in (None, "", "alice", ":pw", "alice:"):
        with pytest.raises(ConfigError, match="--web-auth user:password"):
            webui.parse_credentials(bad)


def test_no_numpy_nan_leaks_into_the_tab(tmp_path: Path) -> None:
    lv = live([None, None], tmp_path, sent=np.nan)
    for r in lv.summary("running"):
        if r["metric"] not in ("Run", "Status"):  # they hold the folder name
            assert "nan" not in r["value"].lower(), r


# -- capplan ui's command line ------------------------------------------------------------------

def settings() -> profile.RunSettings:
    return profile.resolve("surge", {"baseline_rate": 30.0})


def test_locust_argv_binds_loopback_by_default_and_passes_options_through() -> None:
    argv = ui.locust_argv(settings(), ui.WebOptions())
    assert argv[:4] == ["--web-host", "127.0.0.1", "--web-port", "8089"]
    assert "--headless" not in argv and "--web-login" not in argv and "--processes" not in argv
    assert argv[argv.index("--baseline-rate") + 1] == "30.0"
    argv = ui.locust_argv(settings(), ui.WebOptions(host="0.0.0.0", port=9000, auth="u:p", processes=2))
    assert argv[:4] == ["--web-host", "0.0.0.0", "--web-port", "9000"]
    assert "--web-login" in argv and argv[argv.index("--processes") + 1] == "2"
    assert not any("u:p" in a for a in argv)  # the password travels in the environment, not in `ps`


def test_web_auth_goes_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = ui.child_env(ui.WebOptions(auth="alice:pw"), base={})
    assert env[ui.AUTH_ENV] == "alice:pw"
    assert ui.AUTH_ENV == webui.AUTH_ENV
    monkeypatch.delenv(ui.AUTH_ENV, raising=False)
    with pytest.raises(ConfigError, match="--web-login needs a username and password"):
        ui.WebOptions(login=True)
    monkeypatch.setenv(ui.AUTH_ENV, "bob:pw")
    assert ui.WebOptions(login=True).login


@pytest.mark.parametrize("kwargs, match", [
    ({"port": 0}, "--web-port"), ({"port": 70000}, "--web-port"), ({"processes": 0}, "--processes"),
    ({"auth": "nopassword"}, "--web-auth"), ({"auth": "user:"}, "--web-auth"),
])
def test_web_options_are_validated(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ui.WebOptions(**kwargs)


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(LaunchError, match=f"127.0.0.1:{port} .*pick another --web-port"):
            ui.check_port_free("127.0.0.1", port)
