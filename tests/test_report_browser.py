"""The report of a real run in headless Chromium: every plot drawn, no errors, no network, readable on a phone.

Needs Debian's chromium at /usr/bin/chromium (``make chromium`` installs it); the tests fail, loudly,
when it is missing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import capplan
from tests.test_report import HOSTILE
from tests.test_report_runs import session_runs

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PLOTS = ["rates", "depth", "latency", "hockey", "consumers"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make chromium` (the browser tests need it)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def run_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return session_runs(tmp_path_factory)["a"]


class Visit:
    """A page opened on a file:// URL, recording console errors, page errors, requests and dialogs."""

    def __init__(self, browser: Any, path: Path, width: int) -> None:
        self.url = path.resolve().as_uri()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(self.url, wait_until="load")

    def close(self) -> None:
        self.page.close()


DRAWN = """() => [...document.querySelectorAll('figure svg.plot')].map(svg => {
  const box = svg.getBoundingClientRect();
  const paths = [...svg.querySelectorAll('path')].filter(p => {
    const d = p.getAttribute('d') || (p.getAttribute('xlink:href') ? 'use' : '');
    if (!d || d.length < 8) return false;
    const b = p.getBBox();
    return b.width > 0 || b.height > 0;
  });
  return {id: svg.closest('figure').id, width: box.width, height: box.height, paths: paths.length};
})"""


def test_report_in_chromium_desktop(browser: Any, run_a: Path, artifacts: Path) -> None:
    v = Visit(browser, run_a / "report.html", 1280)
    try:
        figures = v.page.locator("figure").count()
        drawn = v.page.evaluate(DRAWN)
        assert [d["id"] for d in drawn] == [f"fig-{k}" for k in PLOTS], (
            f"expected all five plots, got {drawn}; missing: "
            f"{v.page.locator('.nofig').all_inner_texts()}")
        assert figures == len(PLOTS)
        for d in drawn:
            assert d["width"] > 300 and d["height"] > 150, d
            assert d["paths"] >= 10, d  # axes, ticks and the data series are paths
        assert v.page.locator("script").count() == 0
        assert v.errors == [], v.errors
        assert v.requests == [v.url], v.requests
        status = v.page.locator("section.verdict .status").inner_text()
        assert any(s in status for s in ("Pass", "At risk", "Fail"))
        assert v.page.locator(".tile").count() == 5
        v.page.screenshot(path=str(artifacts / "report-desktop.png"), full_page=True)
    finally:
        v.close()


def test_report_in_chromium_phone(browser: Any, run_a: Path, artifacts: Path) -> None:
    v = Visit(browser, run_a / "report.html", 390)
    try:
        overflow = v.page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= 390, f"page is {overflow}px wide on a 390px screen"
        widths = v.page.evaluate("() => [...document.querySelectorAll('svg.plot')].map(s => "
                                 "s.getBoundingClientRect().width)")
        assert widths and all(150 < w <= 390 for w in widths), widths
        assert v.errors == [] and v.requests == [v.url]
        v.page.screenshot(path=str(artifacts / "report-phone.png"), full_page=True)
    finally:
        v.close()


def test_print_layout_keeps_every_plot(browser: Any, run_a: Path, artifacts: Path) -> None:
    v = Visit(browser, run_a / "report.html", 1000)
    try:
        v.page.emulate_media(media="print")
        assert v.page.locator("nav.toc").is_hidden()
        heights = v.page.evaluate("() => [...document.querySelectorAll('svg.plot')].map(s => "
                                  "s.getBoundingClientRect().height)")
        assert len(heights) == len(PLOTS) and all(h > 100 for h in heights)
        pdf = v.page.pdf(format="A4")
        assert pdf[:4] == b"%PDF"
        (artifacts / "report-print.pdf").write_bytes(pdf)
    finally:
        v.close()


def hostile_copy(src: Path, dest: Path) -> Path:
    """A copy of a real run folder whose names, settings, warnings and gap reasons are hostile strings."""
    shutil.copytree(src, dest)
    (dest / "report.html").unlink()
    meta = json.loads((dest / "run.json").read_text())
    meta["run_id"] = HOSTILE
    meta["scenario"] = HOSTILE
    meta["target"] = HOSTILE
    meta["sources"] = [HOSTILE]
    meta["shape"]["phases"][0][0] = HOSTILE
    meta["settings"] = {**meta.get("settings", {}), "target": HOSTILE, HOSTILE: HOSTILE, "source": [HOSTILE]}
    (dest / "run.json").write_text(json.dumps(meta))
    model = json.loads((dest / "model.json").read_text())
    model["warnings"] = [*model.get("warnings", []), HOSTILE]
    (dest / "model.json").write_text(json.dumps(model))
    with open(dest / "gaps.csv", "a") as fh:
        fh.write('3.0,2026-12-03T13:06:03Z,demo,"' + HOSTILE.replace('"', '""') + '"\n')
    return dest


def test_hostile_run_renders_as_text(browser: Any, run_a: Path, tmp_path: Path, artifacts: Path) -> None:
    folder = hostile_copy(run_a, tmp_path / "hostile")
    r = capplan("report", str(folder))
    assert r.returncode == 0, r.stderr + r.stdout
    v = Visit(browser, folder / "report.html", 1280)
    try:
        assert v.dialogs == [], v.dialogs
        assert v.errors == [], v.errors
        assert v.requests == [v.url], v.requests
        assert v.page.locator("script").count() == 0
        assert v.page.locator("img").count() == 0
        assert HOSTILE in v.page.locator("h1").inner_text()
        assert HOSTILE in v.page.locator("#warnings").locator("xpath=following-sibling::ul[1]").inner_text()
        # the endpoint name sits in the rates plot's title, as SVG text
        title = v.page.evaluate("() => [...document.querySelectorAll('#fig-rates svg text')]"
                                ".map(t => t.textContent).join(' ')")
        assert "<script>alert('x')</script>" in title
        v.page.screenshot(path=str(artifacts / "report-hostile.png"), full_page=False)
    finally:
        v.close()
