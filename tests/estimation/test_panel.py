"""Reading firm-event windows from the calendar-aligned matrices (``gather``), against a plain loop."""

from __future__ import annotations

import numpy as np
import pytest

from eventstudy.estimation.panel import gather


@pytest.mark.parametrize("layout", ["C", "F"])
def test_gather_reads_each_firm_event_window_as_a_plain_loop_does(layout):
    rng = np.random.default_rng(11)
    y = rng.standard_normal((120, 7))
    y[rng.random(y.shape) < 0.05] = np.nan
    y = np.asfortranarray(y) if layout == "F" else y
    z = rng.standard_normal((120, 3))
    usable = np.isfinite(y)
    # day 0 in the middle and at both edges, so that some windows leave the matrix
    day0 = np.array([0, 3, 40, 60, 60, 110, 119, 20])
    firm = np.array([0, 6, 2, 3, 3, 1, 5, 4])

    def loop(matrix, offsets, columns, fill):
        rows = []
        for i, d in enumerate(day0):
            cells = []
            for t in offsets:
                p = d + t
                inside = 0 <= p < matrix.shape[0]
                if columns is None:
                    cells.append(matrix[p] if inside else np.full(matrix.shape[1], fill))
                else:
                    cells.append(matrix[p, columns[i]] if inside else fill)
            rows.append(cells)
        return np.array(rows, dtype=matrix.dtype)

    for offsets in (np.arange(-10, 6), np.arange(0, 1), np.array([-5, -2, 0, 3]), np.arange(-30, -20)):
        got = gather(y, day0, offsets, firm)
        np.testing.assert_array_equal(got, loop(y, offsets, firm, np.nan))
        assert got.flags.c_contiguous
        got = gather(z, day0, offsets)
        np.testing.assert_array_equal(got, loop(z, offsets, None, np.nan))
        assert got.shape == (len(day0), len(offsets), 3) and got.flags.c_contiguous
        np.testing.assert_array_equal(
            gather(usable, day0, offsets, firm, fill=False), loop(usable, offsets, firm, False)
        )
    series = z[:, 0].copy()
    np.testing.assert_array_equal(
        gather(series, day0, np.arange(-10, 6)), loop(z, np.arange(-10, 6), np.zeros(8, int), np.nan)
    )
    assert gather(z[:, :0], day0, np.arange(-3, 4)).shape == (len(day0), 7, 0)
    assert gather(y, day0, np.arange(-200, 10), firm).shape == (len(day0), 210)  # longer than the matrix
    assert np.isnan(gather(y, day0, np.arange(-200, 10), firm)[:, :80]).all()
