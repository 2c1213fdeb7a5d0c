"""The report's figures: written once laid out, pixel for pixel what ``savefig`` gives."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from eventstudy.report.figures import DPI, save_png


def _figure() -> Figure:
    fig = Figure(layout="constrained", figsize=(6, 3))
    left, right = fig.subplots(1, 2)
    left.plot(np.arange(10), np.arange(10) ** 2, label="a long legend entry")
    left.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    image = right.imshow(np.arange(12.0).reshape(3, 4))
    fig.colorbar(image, ax=right, label="colour bar")
    right.set_title("a title\non two lines")
    fig.suptitle("suptitle")
    return fig


def test_save_png_writes_the_bytes_savefig_writes(tmp_path):
    _figure().savefig(tmp_path / "savefig.png", dpi=DPI)
    save_png(_figure(), tmp_path / "once.png")
    assert (tmp_path / "once.png").read_bytes() == (tmp_path / "savefig.png").read_bytes()
