"""The demo service over real HTTP: accepts, rejects when full, exposes metrics, has capacity C/S."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from capacity.launch import start_demo
from capacity.sources import open_source
from capacity.sources.prometheus import demo_source_spec
from tests.conftest import demo_settings

pytestmark = pytest.mark.integration


def post(url: str) -> int:
    req = urllib.request.Request(url + "/messages", data=b'{"seq":1}', method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            json.loads(r.read())
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_accepts_rejects_and_reports() -> None:
    d = start_demo(demo_settings(workers=1, service_time_ms=2000, service_dist="const", queue_limit=3))
    try:
        codes = [post(d.url) for _ in range(6)]
        # one in service, three queued, the rest rejected with 503
        assert codes.count(202) == 4 and codes.count(503) == 2
        s = open_source(demo_source_spec(d.url)).sample()
        assert s.depth == 3 and s.processed_total == 0 and s.consumers == 1
        with urllib.request.urlopen(d.url + "/metrics") as r:
            text = r.read().decode()
        assert "capplan_messages_rejected_total 2.0" in text
        with urllib.request.urlopen(d.url + "/healthz") as r:
            assert json.loads(r.read())["status"] == "ok"
    finally:
        d.stop()


def test_drains_a_backlog_at_capacity_c_over_s() -> None:
    # 4 workers x 20 ms const = 200 msg/s; 600 messages take 3 s once queued
    d = start_demo(demo_settings(workers=4, service_time_ms=20, service_dist="const"))
    try:
        src = open_source(demo_source_spec(d.url))
        for _ in range(600):
            post(d.url)
        first = src.sample()
        t1 = time.monotonic()
        time.sleep(1.5)
        second = src.sample()
        rate = (second.processed_total - first.processed_total) / (time.monotonic() - t1)
        assert second.depth > 0, "the backlog drained before the second sample; enlarge it"
        assert rate == pytest.approx(200, rel=0.08)
    finally:
        d.stop()


def test_bad_settings_fail_with_one_line() -> None:
    from tests.conftest import capplan

    r = capplan("demo", "serve", "--workers", "0", "--port", "0")
    assert r.returncode != 0
    assert "--workers must be at least 1, got 0" in r.stderr
