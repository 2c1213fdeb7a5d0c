"""The notebooks in ``notebooks/`` run from top to bottom on the shared real data, offline.

Each notebook is executed in memory by nbclient with a kernel of this interpreter (a kernelspec written to a
temporary folder and found through ``JUPYTER_PATH``), with the notebook folder as working directory so that
its relative paths work; the executed copy is written to ``tmp_path`` for inspection and the committed file
is never touched.  Prices come from ``EVENTSTUDY_PRICES_DIR`` (the shared prices folder), other shared files
from ``EVENTSTUDY_SHARED_DIR``; ``EVENTSTUDY_OFFLINE=1`` makes any attempt to reach the network fail.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = [
    "01_rescission_case_study.ipynb",
    "02_all_export_control_events.ipynb",
    "03_your_own_events.ipynb",
    "04_size_and_power.ipynb",
    "05_intraday.ipynb",
    "06_volume_volatility_garch.ipynb",
    "07_global_listings.ipynb",
]
KERNEL = "eventstudy-test-python"
CELL_TIMEOUT = 300  # seconds per cell


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernelspec that starts this interpreter (the venv's), whatever ``python`` is on the PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "eventstudy tests",
                "language": "python",
            }
        )
    )
    return root


def test_committed_notebooks_have_no_outputs():
    """Notebooks are committed clean: no outputs (raw data tables stay out of the repository)."""
    for name in NOTEBOOKS:
        nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
        dirty = [
            i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and (cell.outputs or cell.execution_count)
        ]
        assert not dirty, f"{name}: cells {dirty} have outputs; clear them before committing"
        assert nb.cells[0].cell_type == "markdown", f"{name} should open with a markdown introduction"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, prices_dir, kernel_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("EVENTSTUDY_PRICES_DIR", str(prices_dir))
    monkeypatch.setenv("EVENTSTUDY_SHARED_DIR", str(prices_dir.parents[1]))
    monkeypatch.setenv("EVENTSTUDY_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")

    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    started = time.perf_counter()
    try:
        client.execute()
    finally:
        nbformat.write(nb, tmp_path / name)  # the executed copy, for a look after a failure
    elapsed = time.perf_counter() - started
    print(f"{name}: {elapsed:.1f} s")

    errors = [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs if out.output_type == "error"
    ]
    assert not errors
    assert any(cell.cell_type == "code" and cell.outputs for cell in nb.cells), f"{name} produced no output"
