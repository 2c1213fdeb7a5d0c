"""Shared by the inference tests: the reference loops (tests/reference) and the synthetic study they check.

``tests/reference/inference_loops.py`` is put on the import path here so every test file imports it the
same way: ``import inference_loops as loops``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))

import inference_loops as loops  # noqa: E402  (after the path above)

from eventstudy.estimation.models import estimate  # noqa: E402
from eventstudy.estimation.panel import AlignedData  # noqa: E402


@pytest.fixture(scope="module")
def study():
    """The loops' synthetic firm-events, fitted by the package, and the loops' own per-firm-event records."""
    y, market, day0, firm = loops.synthetic()
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    records = loops.firm_events(y, market, day0, firm, loops.ESTIMATION, loops.EVENT)
    return fit, records
