"""The report's figures: written once laid out, pixel for pixel what ``savefig`` gives."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
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


def _text_outside(fig: Figure) -> list[str]:
    """Every visible, non-empty text of ``fig`` whose drawn extent leaves the canvas (1 px tolerance)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    # an axis keeps tick labels for ticks outside its view limits and does not draw them: only the drawn count
    ticks, drawn = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                ticks |= {tick.label1, tick.label2}
            for tick in axis._update_ticks():
                drawn |= {tick.label1, tick.label2}
    width, height = fig.bbox.width, fig.bbox.height
    outside = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip() or (text in ticks and text not in drawn):
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
            outside.append(f"{text.get_text()!r} at {box.bounds}")
    return outside


def test_text_outside_the_canvas_is_found():
    fig = _figure()
    fig.text(0.98, 0.5, "a label that runs off the right edge")
    assert any("runs off" in t for t in _text_outside(fig))


@pytest.mark.slow
def test_every_report_figure_keeps_its_text_on_the_canvas(tmp_path, monkeypatch, prices_dir, events_dir):
    """Every figure the default report writes, drawn: each Text artist's window extent lies inside the canvas."""
    import eventstudy.report.figures as figures
    import eventstudy.report.global_listings as global_listings
    import eventstudy.report.intraday as intraday
    from eventstudy.report import DEFAULT_REPORT, build_report, with_overrides

    checked: dict[str, list[str]] = {}
    original = figures.save_png

    def checking(fig: Figure, path) -> None:
        original(fig, path)
        checked[path.name] = _text_outside(fig)

    for module in (figures, global_listings, intraday):
        monkeypatch.setattr(module, "save_png", checking)
    config = with_overrides(
        DEFAULT_REPORT,
        prices_dir=str(prices_dir),
        reported_moves=str(events_dir / "reported_moves.csv"),
        out=str(tmp_path / "study"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_report(config, progress=False)
    written = sorted(p.name for p in (tmp_path / "study" / "figures").glob("*.png"))
    assert "prices.png" in written and len(written) >= 5  # the default report's figures were written
    assert sorted(checked) == written  # every figure written went through the check
    assert {name: found for name, found in checked.items() if found} == {}


def test_a_one_panel_car_figure_keeps_its_title_on_the_canvas(tmp_path, monkeypatch, prices_dir):
    """A firm-event of unknown release session whose firm is no focus stock: its CAR figure has the average
    panel alone at both candidate day 0s, and the long title still fits the narrower canvas."""
    import eventstudy.report.figures as figures
    from eventstudy.cli import main

    checked: dict[str, list[str]] = {}
    original = figures.save_png

    def checking(fig: Figure, path) -> None:
        original(fig, path)
        checked[path.name] = _text_outside(fig)

    monkeypatch.setattr(figures, "save_png", checking)
    events = tmp_path / "firms.csv"
    events.write_text("id,date,session,ticker\nunknown-mu,2024-08-07,unknown,MU\n")
    code = main(["report", "--catalog", str(events), "--market", "SPY", "--focus", "NVDA", "--prices-dir",
                 str(prices_dir), "--out", str(tmp_path / "out"), "--no-progress"])  # fmt: skip
    assert code == 0
    assert "car_unknown-mu.png" in checked
    assert {name: found for name, found in checked.items() if found} == {}
