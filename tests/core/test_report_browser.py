"""The HTML report opened from disk in a real headless Chromium: images load, claims table present."""

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
def test_report_renders_in_chromium(paperzoo, tmp_path):
    from playwright.sync_api import sync_playwright

    proc = paperzoo("reproduce", "fake-paper", "--out", "out")
    assert proc.returncode == 0, proc.stderr
    index = tmp_path / "out" / "index.html"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(index.as_uri())
            images = page.eval_on_selector_all("img", "els => els.map(e => [e.src, e.complete, e.naturalWidth])")
            assert images, "the report shows no figure"
            assert all(complete and width > 0 for _, complete, width in images), images
            assert page.locator("table.claims tr.failed").count() == 2
            assert page.locator("table.claims tr.held").count() == 1
            assert page.locator("#overview").is_visible()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
