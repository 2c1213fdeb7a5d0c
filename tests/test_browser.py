"""A real browser reads the report and the documentation: Chromium, headless, driven by Playwright.

The committed report (``results/ai-diffusion-rescission/report.html``) and three pages of the built site (the
guide's models page, a notebook, the API reference of the tests) are loaded from disk with no network: every
image loads, the console shows no error and no request fails, MathJax leaves no raw TeX in the rendered text,
and the report prints on at most 12 A4 or Letter pages (counted by ``pdfinfo`` on the printed PDF).

Skips, with the reason, where Chromium (Debian's ``chromium``), ``pdfinfo`` (``poppler-utils``) or Playwright is
absent; ``.ci/run`` installs them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "results" / "ai-diffusion-rescission" / "report.html"
MAX_PAGES = 12
DOC_PAGES = ["guide/models.html", "notebooks/03_your_own_events.html", "api/inference.html"]
#: TeX left as text: \( \) or \[ \] delimiters, or $...$ around a backslash, ^ or _
RAW_TEX = re.compile(r"\\\(|\\\[|\$[^$\n]*[\\^_][^$\n]*\$")

#: the page's text outside code, scripts and styles (where TeX would be left if MathJax did not run)
VISIBLE_TEXT = """() => {
  const skip = new Set(["CODE", "PRE", "SCRIPT", "STYLE", "NOSCRIPT", "TEXTAREA"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let p = node.parentElement; p; p = p.parentElement) {
        if (skip.has(p.tagName) || p.tagName === "MJX-CONTAINER") return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  const parts = [];
  while (walker.nextNode()) parts.push(walker.currentNode.textContent);
  return parts.join(" ");
}"""
BROKEN_IMAGES = "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
#: MathJax 3 has typeset the page (or the page has no MathJax)
MATHJAX_DONE = """() => !(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)
  || window.MathJax.startup.promise.then(() => true)"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")
    return found


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class Loaded:
    """A page opened from disk, with what went wrong while it loaded."""

    def __init__(self, browser, path: Path) -> None:
        self.page = browser.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} ({r.failure})"))
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_function(MATHJAX_DONE, timeout=60_000)

    def check(self, name: str) -> str:
        """The page's visible text, after checking its images, console and requests."""
        broken = self.page.evaluate(BROKEN_IMAGES)
        assert not broken, f"{name}: images that did not load: {broken}"
        assert not self.errors, f"{name}: {self.errors}"
        text = self.page.evaluate(VISIBLE_TEXT)
        raw = RAW_TEX.findall(text)
        assert not raw, f"{name}: TeX left unrendered: {raw[:5]}"
        return text


def _printed_pages(page, tmp_path: Path, paper: str) -> int:
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo is not installed (apt-get install poppler-utils; .ci/run installs it)")
    pdf = tmp_path / f"report-{paper}.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format=paper)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


@pytest.mark.slow
def test_the_report_loads_and_prints_on_at_most_twelve_pages(browser, tmp_path):
    if not REPORT.exists():
        pytest.fail(f"{REPORT.relative_to(REPO)} is missing: run the README's first command")
    loaded = Loaded(browser, REPORT)
    text = loaded.check("report.html")
    assert "Contents" in text
    images = loaded.page.evaluate("document.images.length")
    assert images >= 5, f"the report shows {images} figures"
    closed = loaded.page.evaluate("Array.from(document.querySelectorAll('details')).filter(d => !d.open).length")
    assert closed >= 4, "the exhaustive tables are not folded"
    for paper in ("A4", "Letter"):
        pages = _printed_pages(loaded.page, tmp_path, paper)
        assert pages <= MAX_PAGES, f"the report prints on {pages} {paper} pages (at most {MAX_PAGES})"
    loaded.page.close()


@pytest.mark.slow
@pytest.mark.parametrize("page", DOC_PAGES)
def test_docs_pages_load_and_render_their_math(browser, docs_site, page):
    _chromium()
    loaded = Loaded(browser, docs_site.path / page)
    loaded.check(page)
    typeset = loaded.page.evaluate("document.querySelectorAll('mjx-container').length")
    assert typeset > 0, f"{page}: MathJax typeset nothing"
    loaded.page.close()
