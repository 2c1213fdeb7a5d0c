"""Study-file keys checked against each other (issue 21): focus, table windows, name, encoding."""

from __future__ import annotations

import hashlib

import pytest

from eventstudy.report import ReportConfig, load_study
from eventstudy.report.study import DEFAULT_EVENT_WINDOW


def study(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "s.toml"
    path.write_bytes(text.encode(encoding))
    return path


def test_focus_outside_the_tickers_is_refused_naming_both_keys(tmp_path):
    path = study(tmp_path, 'tickers = ["NVDA", "AMD"]\nfocus = ["NVDA", "INTC"]\n')
    with pytest.raises(ValueError, match=r"s\.toml: 'focus' names \['INTC'\], which 'tickers' does not list"):
        load_study(path)


def test_a_table_window_outside_the_event_window_is_refused(tmp_path):
    path = study(tmp_path, "event_window = [-5, 5]\nwindows = [[0, 0], [-10, 10]]\n")
    with pytest.raises(ValueError, match=r"'windows' \[\[-10, 10\]\] reach outside 'event_window' \[-5, 5\]"):
        load_study(path)
    # without an event window the default is the bound, and it is ReportConfig's own default
    assert DEFAULT_EVENT_WINDOW == ReportConfig().event_window
    with pytest.raises(ValueError, match=r"reach outside the default event_window \[-5, 5\]"):
        load_study(study(tmp_path, "windows = [[0, 6]]\n"))
    inside = load_study(study(tmp_path, "event_window = [-10, 10]\nwindows = [[-10, 10]]\n"))
    assert (-10, 10) in inside.table_windows  # kept, not left out silently


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/abs", "..", "a/b", ".hidden", ""])
def test_a_name_that_would_leave_results_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match=r"'name' must be a plain folder name .*results/<name>"):
        load_study(study(tmp_path, f"name = {name!r}\n".replace("'", '"')))


def test_a_plain_name_is_kept_inside_results(tmp_path):
    config = load_study(study(tmp_path, 'name = "bank-study_2025.v2"\n'))
    assert config.out_dir.parts == ("results", "bank-study_2025.v2")


def test_a_latin1_study_file_names_the_file_and_the_fix(tmp_path):
    path = study(tmp_path, 'title = "Événements de la BCE"\n', encoding="latin-1")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(
        ValueError, match=r"study file .*s\.toml: not UTF-8 text \(byte 9 is b'\\xc9'.*Save the file as UTF-8"
    ):
        load_study(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_latin1_listings_and_reported_moves_files_name_the_file(tmp_path):
    from eventstudy.report.global_listings import load_listings
    from eventstudy.report.run import reported_moves

    listings = tmp_path / "listings.csv"
    listings.write_bytes("ticker,name,benchmark\nGLE.PA,Société Générale,^FCHI\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"listings file .*listings\.csv is not UTF-8 text \(byte b'\\xe9'"):
        load_listings(listings)
    moves = tmp_path / "moves.csv"
    moves.write_bytes(
        "event_id,trade_date,ticker,move_pct,basis,source\nx,2025-05-13,NVDA,+5.6,close,Le Monde é\n".encode("latin-1")
    )
    with pytest.raises(ValueError, match=r"reported-moves file .*moves\.csv is not UTF-8 text"):
        reported_moves(str(moves), None, None)  # type: ignore[arg-type]
