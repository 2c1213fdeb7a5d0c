"""The documentation site builds with warnings as errors, and every notebook is executed in that build.

The build is the one place the notebooks run: ``docs/hooks.py`` points their kernels at the shared data and
forbids the network, and a cell that raises fails the build. It takes about a minute, so it is slow: the
README's test command (``python -m pytest -m "not live"``, which .ci/run runs) includes it, plain ``pytest``
does not.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
def test_the_site_builds_with_every_notebook_executed(docs_site):
    site = docs_site.path
    assert docs_site.checkout_unchanged, "the docs build wrote into the checkout"
    for path in NOTEBOOKS:
        html = (site / "notebooks" / f"{path.stem}.html").read_text()
        outputs = re.findall(r'class="[^"]*\bjp-OutputArea-output\b', html)
        assert outputs, f"{path.name} has no outputs in the site: the build did not execute it"


@pytest.mark.slow
def test_math_is_served_from_the_site(docs_site):
    """MathJax comes from the site itself (no CDN), and the pages hold math for it: arithmatex's spans in the
    guide and the API reference (the docstrings' reST math), the notebooks' own $...$ with their MathJax."""
    site = docs_site.path
    assert (site / "assets" / "mathjax" / "tex-svg.js").is_file()
    for page in ("guide/models.html", "api/inference.html", "notebooks/03_your_own_events.html"):
        html = (site / page).read_text()
        scripts = re.findall(r'<script[^>]*\bsrc="([^"]*)"', html)
        assert "" not in scripts, f"{page} has a <script src=''>"
        assert not [s for s in scripts if s.startswith(("http:", "https:", "//"))], (page, scripts)
        assert any(s.endswith("assets/mathjax/tex-svg.js") for s in scripts), page
    for page in ("guide/models.html", "api/inference.html"):
        html = (site / page).read_text()
        assert 'class="arithmatex"' in html, page
        assert ".. math::" not in html and ":math:<code>" not in html, page


def test_the_readme_test_command_is_the_one_ci_runs():
    """The README opens with two commands; the second, the tests, is word for word a line of .ci/run."""
    readme = (REPO / "README.md").read_text()
    setup = readme.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert len(setup) == 2 and "pytest" in setup[1], setup
    assert setup[1] in (REPO / ".ci" / "run").read_text().splitlines()
