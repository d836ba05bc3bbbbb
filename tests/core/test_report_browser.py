"""The HTML report opened from disk in a real headless Chromium: what a reader sees and can click."""

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]


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
            # The overview: held, failed and not-run counts at a glance, with the host load.
            row = page.locator("#overview tr[data-paper='fake-paper']")
            assert row.locator(".held-count").inner_text() == "1/4"
            assert row.locator(".failed-count").inner_text() == "2"
            assert row.locator(".not-run-count").inner_text() == "1"
            assert "→" in row.inner_text() and "failed" in (row.get_attribute("class") or "")
            # Claims first, then figures with captions, audio that plays, then key metrics.
            section = page.locator("section#fake-paper")
            headings = section.locator("h3").all_inner_texts()
            assert headings == ["Claims", "Figures", "Pages and files", "Key metrics"]
            assert section.locator("table.claims tr.failed").count() == 2
            assert section.locator("table.claims tr.held").count() == 1
            assert section.locator("table.claims tr.not-run").count() == 1
            images = page.eval_on_selector_all("img", "els => els.map(e => [e.src, e.complete, e.naturalWidth])")
            assert images and all(complete and width > 0 for _, complete, width in images), images
            assert "One value per seed." in section.locator("figure.figure figcaption").inner_text()
            audio = section.locator("figure.audio audio")
            audio.evaluate("a => new Promise(ok => a.readyState >= 1 ? ok() "
                           ": a.addEventListener('loadedmetadata', ok))")
            assert audio.evaluate("a => a.duration") == pytest.approx(0.5, abs=0.01)
            assert "A 440 Hz tone." in section.locator("figure.audio figcaption").inner_text()
            assert section.locator("table.metrics td").first.inner_text() == "value"
            # Everything else is collapsed until asked for.
            for name in ("all-metrics", "config", "environment"):
                assert section.locator(f"details.{name}").get_attribute("open") is None
                assert not section.locator(f"details.{name} pre").is_visible()
            section.locator("details.config summary").click()
            assert '"threshold": 5.0' in section.locator("details.config pre").inner_text()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            # The extra page opens from disk through its link.
            section.locator("a.page").click()
            page.wait_for_load_state()
            assert page.locator("#extra").inner_text() == "an extra page"
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
