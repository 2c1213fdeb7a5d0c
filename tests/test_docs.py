"""The documentation site builds with warnings as errors, and every notebook is executed in that build.

The build is the one place the notebooks run: ``docs/hooks.py`` points their kernels at the shared data and
forbids the network, and a cell that raises fails the build. It takes about a minute, so it is slow: the
README's test command (``python -m pytest -m "not live"``, which .ci/run runs) includes it, plain ``pytest``
does not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
PRUNE = {".git", ".venv", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "__pycache__"}


def checkout_files() -> set[Path]:
    """Every path in the checkout, apart from version control, the venv and the tools' own caches."""
    found = set()
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in PRUNE]
        found.update(Path(root, name) for name in dirs + files)
    return found


@pytest.mark.slow
def test_the_site_builds_with_every_notebook_executed(prices_dir, tmp_path):
    pytest.importorskip("mkdocs_jupyter", reason="the docs extra is not installed: pip install -e '.[docs]'")
    env = {**os.environ, "EVENTSTUDY_SHARED_DIR": str(prices_dir.parents[1]), "NO_MKDOCS_2_WARNING": "1"}
    env.pop("EVENTSTUDY_DOCS_EXECUTE", None)
    site = tmp_path / "site"
    before = checkout_files()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if done.returncode:
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        pytest.fail("\n".join(["mkdocs build failed:", *errors, "", done.stderr[-6000:]]), pytrace=False)
    assert checkout_files() == before, "the docs build wrote into the checkout"
    for path in NOTEBOOKS:
        html = (site / "notebooks" / f"{path.stem}.html").read_text()
        outputs = re.findall(r'class="[^"]*\bjp-OutputArea-output\b', html)
        assert outputs, f"{path.name} has no outputs in the site: the build did not execute it"


def test_the_readme_test_command_is_the_one_ci_runs():
    """The README opens with two commands; the second, the tests, is word for word a line of .ci/run."""
    readme = (REPO / "README.md").read_text()
    setup = readme.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert len(setup) == 2 and "pytest" in setup[1], setup
    assert setup[1] in (REPO / ".ci" / "run").read_text().splitlines()
