"""A surge run driven from Locust's web UI in a real browser (Playwright + Debian's chromium).

`capplan ui` starts Locust and the demo (3 consumers x 50 ms = 60 msg/s); the test fills the start form
with a time-compressed surge to 75 msg/s, starts it, watches the queue grow in the Capacity tab, opens
the live page, stops the test once capacity is measured, and downloads the report and the CSV.
Screenshots go to test-artifacts/webui-*.png.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from capacity.runs import COLUMNS
from tests.test_webui_server import UiProcess, start_ui

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FORM = {"baselineRate": "30", "surgeMultiplier": "2.5", "baselineDuration": "6", "ramp": "2",
        "surgeDuration": "10", "recoveryDuration": "10", "sloP99Ms": "300", "seed": "5"}
C, S_MS = 3, 50.0  # demo capacity C/S = 60 msg/s


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (it apt-installs Debian's chromium).")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def ui(tmp_path: Path) -> Iterator[UiProcess]:
    proc = start_ui(tmp_path, "--demo-workers", str(C), "--demo-service-time-ms", str(S_MS), "--arrivals", "uniform")
    try:
        yield proc
    finally:
        proc.stop()


def cell(page: Page, metric: str) -> str:
    row = page.locator("tr").filter(has=page.locator("td", has_text=re.compile(f"^{re.escape(metric)}$")))
    return row.locator("td").nth(1).inner_text(timeout=5000)


def number(text: str) -> float | None:
    m = re.match(r"[+-]?[\d,]+(\.\d+)?", text)
    return float(m.group(0).replace(",", "")) if m else None


def test_surge_from_the_web_ui(browser: Browser, ui: UiProcess, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(ui.url)

    # the start form: the demo the plugin started is the host; capplan's parameters are in the form
    host = page.locator("input[name=host]")
    assert re.match(r"http://127\.0\.0\.1:\d+$", host.input_value())
    page.get_by_text("Custom parameters").click()
    for name, value in FORM.items():
        page.fill(f"input[name={name}]", value)
    page.screenshot(path=artifacts / "webui-1-form.png", full_page=True)
    page.get_by_role("button", name="Start").click()

    # the Capacity tab while the surge runs: the queue grows, then capacity is measured
    page.get_by_role("tab", name="Capacity").click()
    depths: list[float] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        d = number(cell(page, "Queue depth"))
        if d is not None:
            depths.append(d)
        if depths and depths[-1] >= 60 and not cell(page, "Capacity estimate").startswith("—"):
            break
        page.wait_for_timeout(1000)
    else:
        page.screenshot(path=artifacts / "webui-2-capacity-timeout.png")
        pytest.fail(f"the Capacity tab never showed a growing queue and an estimate; depths {depths}\n"
                    f"{ui.log_tail()}")
    assert max(depths) >= depths[0] + 50, depths
    assert cell(page, "Phase").startswith("surge"), cell(page, "Phase")
    assert number(cell(page, "Queue growth")) > 0  # type: ignore[operator]
    assert cell(page, "Time to queue limit").endswith("msg/s")
    page.screenshot(path=artifacts / "webui-2-capacity.png", full_page=True)

    # the live page, from the tab's button: plots drawn from /capplan/series
    with context.expect_page() as live_info:
        page.get_by_role("link", name=re.compile("Open live capacity plots")).click()
    live = live_info.value
    errors: list[str] = []
    live.on("pageerror", lambda e: errors.append(str(e)))
    live.wait_for_selector("svg#depth polyline.series-queue_depth", timeout=10000)
    live.wait_for_selector("svg#rates polyline.series-sent_rate", timeout=10000)
    live.wait_for_timeout(1500)
    live.screenshot(path=artifacts / "webui-3-live.png", full_page=True)
    assert not errors, errors
    live.close()

    # stop the test from the UI: the plugin finalises the run folder, fits and writes the report
    page.get_by_role("button", name="Stop").click()
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        summary = page.request.get(ui.url + "capplan/summary").json()
        status = next(r["value"] for r in summary if r["metric"] == "Status")
        if not status.startswith(("running", "stopped")):
            break
        page.wait_for_timeout(1000)
    assert status.startswith("finished: report written"), f"{status}\n{ui.log_tail()}"
    page.reload()
    page.get_by_role("tab", name="Capacity").click()
    page.wait_for_timeout(2500)
    page.screenshot(path=artifacts / "webui-4-stopped.png", full_page=True)

    # Download Data: the report and the run's CSV
    page.get_by_role("tab", name="Download Data").click()
    page.screenshot(path=artifacts / "webui-5-download.png", full_page=True)
    with page.expect_download() as dl:
        page.get_by_role("link", name=re.compile("Download capacity report HTML")).click()
    report = artifacts / "webui-report.html"
    dl.value.save_as(report)
    html = report.read_text()
    assert html.lstrip().lower().startswith("<!doctype html>") and "<svg" in html
    with page.expect_download() as dl:
        page.get_by_role("link", name=re.compile("Download capacity timeseries CSV")).click()
    csv_path = artifacts / "webui-timeseries.csv"
    dl.value.save_as(csv_path)
    assert csv_path.read_text().splitlines()[0].split(",") == list(COLUMNS)
    context.close()

    # what was typed in the form is what ran
    folder = next((ui.out).iterdir())
    meta = json.loads((folder / "run.json").read_text())
    assert meta["shape"]["params"] == {"baseline_rate": 30.0, "surge_multiplier": 2.5, "baseline_duration": 6.0,
                                       "ramp": 2.0, "surge_duration": 10.0, "recovery_duration": 10.0}
    assert meta["slo"]["p99_ms"] == 300.0 and meta["settings"]["seed"] == 5
    assert meta["ended"] == "interrupted"  # stopped before the shape's end
    model = json.loads((folder / "model.json").read_text())
    assert model["capacity_msgs_per_s"]["value"] == pytest.approx(C / (S_MS / 1000), rel=0.25)
