"""Catalog events inside an estimation window are flagged (and optionally excluded); confounders travel along."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import eventstudy as es


@pytest.fixture(scope="module")
def rets(prices_dir):
    return es.returns(es.CsvSource(prices_dir).get_prices(["NVDA", "AMD", "SPY"], "2023-06-01", "2025-06-30"))


def test_contaminating_events_are_the_catalog_events_inside_the_estimation_window(catalog, rets):
    target = catalog[catalog["id"] == "bis-rescinds-diffusion-huawei-guidance-2025-05-13"]
    res = es.EventStudy(target, rets, tickers=["NVDA"], market="SPY", catalog=catalog).fit()
    flagged = set(res.firm_events.loc[0, "contaminated_by"])

    # independently: sessions -250..-11 around day 0 counted on the returns' own index
    sessions = rets.index
    day0 = sessions.get_loc(pd.Timestamp("2025-05-13"))
    first, last = sessions[day0 - 250], sessions[day0 - 11]
    expected = set(catalog.loc[(catalog["day0"] >= first) & (catalog["day0"] <= last), "id"])
    assert flagged == expected
    assert "bis-ai-diffusion-rule-2025-01-13" in flagged and "nvda-h20-license-charge-2025-04-15" in flagged
    assert "Humain" in res.firm_events.loc[0, "confounders"]  # the catalog's confounders travel with the event
    assert any("estimation window contains" in note for note in res.summary().notes)


def test_excluding_catalog_events_drops_their_windows_from_estimation(catalog, rets):
    target = catalog[catalog["id"] == "bis-rescinds-diffusion-huawei-guidance-2025-05-13"]
    kept = es.EventStudy(target, rets, tickers=["NVDA"], market="SPY", catalog=catalog).fit()
    cut = es.EventStudy(target, rets, tickers=["NVDA"], market="SPY", catalog=catalog, exclude_events=True).fit()

    # independently: the estimation sessions minus every catalog event's (-5, +5) sessions
    sessions = rets.index
    day0 = sessions.get_loc(pd.Timestamp("2025-05-13"))
    window = np.arange(day0 - 250, day0 - 10)
    banned = set()
    for d in catalog["day0"]:
        if d in sessions:
            p = sessions.get_loc(d)
            banned.update(range(p - 5, p + 6))
    used = [p for p in window if p not in banned and np.isfinite(rets["NVDA"].iloc[p])]
    assert kept.params.loc[0, "n_obs"] == 240
    assert cut.params.loc[0, "n_obs"] == len(used) < 240
    y, x = rets["NVDA"].iloc[used].to_numpy(), rets["SPY"].iloc[used].to_numpy()
    beta = np.cov(x, y, ddof=1)[0, 1] / np.var(x, ddof=1)
    assert cut.params.loc[0, "beta_SPY"] == pytest.approx(beta, rel=1e-10)


def test_overlapping_event_windows_of_one_ticker_are_flagged(rets):
    events = pd.DataFrame({"ticker": ["NVDA", "NVDA", "NVDA"], "date": ["2025-05-07", "2025-05-13", "2025-03-03"]})
    res = es.EventStudy(events, rets, market="SPY").fit()
    overlaps = dict(zip(res.firm_events["event_id"], res.firm_events["overlaps"]))
    assert overlaps["2025-05-07"] == ("2025-05-13",) and overlaps["2025-05-13"] == ("2025-05-07",)
    assert overlaps["2025-03-03"] == ()


def test_dense_tickers_flag_every_neighbour_nearest_first():
    """Hundreds of events per ticker (the million-firm-event case in small): each firm-event lists exactly the
    same-ticker events whose day 0 falls in its estimation window, and the overlapping ones by rank, nearest first."""
    rng = np.random.default_rng(3)
    sessions = es.TradingCalendar("XNYS").sessions_in_range("2015-01-02", "2018-12-31")
    market = rng.normal(0.0, 0.01, len(sessions))
    rets = pd.DataFrame(
        {"SPY": market, "AAA": market + rng.normal(0, 0.02, len(sessions)), "BBB": rng.normal(0, 0.02, len(sessions))},
        index=sessions,
    )
    rows = {t: np.sort(rng.choice(np.arange(300, len(sessions) - 20), 150, replace=False)) for t in ("AAA", "BBB")}
    events = pd.DataFrame(
        [{"event_id": f"{t}-{k}", "ticker": t, "date": sessions[r]} for t, rs in rows.items() for k, r in enumerate(rs)]
    )
    res = es.EventStudy(events, rets, market="SPY", estimation_window=(-250, -11), event_window=(-5, 5)).fit()

    for fe in res.firm_events.itertuples(index=False):
        own = rows[fe.ticker]
        day0 = int(np.searchsorted(sessions, fe.day0))
        ids = [f"{fe.ticker}-{k}" for k in range(len(own))]
        inside = [ids[k] for k, r in enumerate(own) if day0 - 250 <= r <= day0 - 11]
        assert list(fe.contaminated_by) == inside
        i = int(np.searchsorted(own, day0))  # its rank among the ticker's events
        near = [(abs(k - i), k > i, ids[k]) for k, r in enumerate(own) if 0 < abs(r - day0) <= 10]
        assert list(fe.overlaps) == [e for _, _, e in sorted(near)]  # the one before, the one after, two before ...


def test_contamination_notes_say_per_event_what_the_firm_event_table_holds(catalog, rets, tmp_path):
    # several tickers per event, catalog events in estimation windows, overlapping windows, confounders
    events = catalog[catalog["date"].between("2025-01-01", "2025-06-30")]
    res = es.EventStudy(events, rets, tickers=["NVDA", "AMD"], market="SPY", catalog=catalog).fit()
    notes = res.contamination_notes()
    # independently, from the public table's tuple columns: one pass per event over all its firm-events
    fe = res.firm_events
    expected = []
    for event_id in dict.fromkeys(fe["event_id"]):
        rows = fe[fe["event_id"] == event_id]
        others = sorted({c for hit in rows["contaminated_by"] for c in hit} - {event_id})
        if others:
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            expected.append(
                f"{event_id}: the estimation window contains other catalog events ({shown}); "
                "consider exclude_events=True."
            )
        overlaps = sorted({c for hit in rows["overlaps"] for c in hit})
        if overlaps:
            expected.append(f"{event_id}: its event window overlaps {', '.join(overlaps[:5])} for the same tickers.")
        text = rows["confounders"].iloc[0]
        if isinstance(text, str) and text.strip():
            expected.append(f"{event_id}: other news near the event: {text.strip()}")
    assert notes == expected
    assert any("overlaps" in note for note in notes) and any("contains other" in note for note in notes)
    assert any("other news" in note for note in notes)
    assert res.contamination_notes(confounders=False) == [n for n in expected if ": other news near" not in n]
    res.save(tmp_path / "study")  # a loaded study reads the tuples from its table
    assert es.load(tmp_path / "study").contamination_notes() == expected
    # the summary writes only the notes it shows and counts the rest from the hits: every cut, including
    # cuts inside an event's notes and past the last, gives the first notes and the count of all
    for limit in range(len(expected) + 2):
        assert res._contamination_notes(True, limit) == (expected[:limit], len(expected))
    shown = [line[2:] for line in res.summary(max_rows=3).as_text().splitlines() if line.startswith("- ")]
    assert [n for n in shown if n in expected] == expected[:3]
    assert f"- First 3 of {len(expected)} contamination notes; res.contamination_notes() has all." in str(
        res.summary(max_rows=3)
    )


def test_a_catalog_row_without_an_id_names_no_event_in_the_notes(rets):
    """A catalog row whose id is missing contaminates no window in the notes: the notes and their count (the
    summary cuts them) are those of the catalog without it, at every cut (the cut notes crashed on it, and the
    full notes named the next event's id in its place)."""
    sessions = rets.index
    dates = sessions[[300, 380, 460]]
    events = pd.DataFrame({"event_id": ["A", "B", "C"], "ticker": ["NVDA"] * 3, "date": dates})
    named = pd.DataFrame({"id": ["A", "B", "C"], "date": dates})
    nameless = pd.concat([named, pd.DataFrame({"id": [None], "date": [sessions[280]]})], ignore_index=True)
    res, plain = (
        es.EventStudy(events, rets, market="SPY", estimation_window=(-120, -11), catalog=cat).fit()
        for cat in (nameless, named)
    )
    notes = plain.contamination_notes()
    assert notes and not any(note.startswith("A:") for note in notes)  # nothing but the nameless row before A
    assert res.contamination_notes() == notes
    for limit in range(len(notes) + 2):
        assert res._contamination_notes(True, limit) == (notes[:limit], len(notes))
