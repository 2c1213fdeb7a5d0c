"""Shared by the inference tests: the reference loops (tests/reference) and the synthetic study they check.

``tests/reference/inference_loops.py`` is on the import path (``tests/conftest.py`` puts it there), so every test
file imports it the same way: ``import inference_loops as loops``.
"""

from __future__ import annotations

import inference_loops as loops
import pytest

from eventstudy.estimation.models import estimate
from eventstudy.estimation.panel import AlignedData


@pytest.fixture(scope="module")
def study():
    """The loops' synthetic firm-events, fitted by the package, and the loops' own per-firm-event records."""
    y, market, day0, firm = loops.synthetic()
    fit = estimate(AlignedData.build(y, market), day0, firm, loops.ESTIMATION, loops.EVENT)
    records = loops.firm_events(y, market, day0, firm, loops.ESTIMATION, loops.EVENT)
    return fit, records
