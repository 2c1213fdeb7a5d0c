"""The notebooks in ``notebooks/`` are committed clean and are all published.

They are executed in one place: the documentation build (``python -m mkdocs build --strict``, see
``mkdocs.yml`` and ``docs/hooks.py``), on the shared data and offline, where a cell that raises fails the build.
``tests/test_docs.py`` runs that build; running the notebooks here as well would pay for them twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_have_no_outputs(path):
    """Notebooks are committed clean: no outputs (raw data tables stay out of the repository)."""
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (cell.outputs or cell.execution_count)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"
    assert nb.cells[0].cell_type == "markdown", f"{path.name} should open with a markdown introduction"


def test_every_notebook_is_in_the_site_and_the_notebook_index():
    """The docs build executes what it publishes: a notebook missing from the nav would be run but not listed."""
    nav = re.findall(r"notebooks/([\w.-]+\.ipynb)", (REPO / "mkdocs.yml").read_text())
    index = (REPO / "notebooks" / "README.md").read_text()
    for path in NOTEBOOKS:
        assert path.name in nav, f"{path.name} is not in the nav of mkdocs.yml"
        assert f"`{path.name}`" in index, f"{path.name} is not in notebooks/README.md"
