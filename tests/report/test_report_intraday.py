"""The report's intraday section: files written, numbers in the text recomputed from the raw files."""

from __future__ import annotations

import pandas as pd
import pytest

from eventstudy.report.intraday import intraday_section

NY = "America/New_York"


@pytest.fixture(scope="module")
def section(intraday_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("intraday-report")
    with pytest.warns(Warning):  # the daily files without Adj Close say so
        text = intraday_section(intraday_dir, out)
    return text, out


@pytest.mark.slow
def test_the_section_writes_a_figure_and_a_table(section):
    text, out = section
    assert (out / "figures" / "intraday.png").stat().st_size > 10_000
    table = pd.read_csv(out / "tables" / "intraday.csv")
    assert {"NVDA", "AMD", "SMH", "8035.T", "6857.T", "6920.T", "7735.T"} <= set(table["ticker"])
    assert {"SPY", "QQQ", "^N225"} == set(table["market"])
    assert "![Cumulative raw and abnormal returns through the day](figures/intraday.png)" in text


@pytest.mark.slow
def test_nvda_first_hour_in_the_text_is_the_raw_file_move(section, intraday_dir, prices_dir):
    text, out = section
    raw = pd.read_csv(intraday_dir / "NVDA_1m.csv")
    close = dict(zip(pd.to_datetime(raw["Datetime"], utc=True).dt.tz_convert(NY), raw["Close"]))
    first_hour = close[pd.Timestamp("2025-05-13 10:29", tz=NY)] / close[pd.Timestamp("2025-05-13 09:30", tz=NY)] - 1
    daily = pd.read_csv(prices_dir / "NVDA.csv", index_col="Date")
    factor = daily.loc["2025-05-13", "Adj Close"] / daily.loc["2025-05-13", "Close"]
    gap = daily.loc["2025-05-13", "Open"] * factor / daily.loc["2025-05-12", "Adj Close"] - 1
    line = next(x for x in text.splitlines() if x.startswith("- **NVDA** (1m bars)"))
    assert f"overnight gap {gap:+.2%} (daily open over the previous close)" in line
    assert f"first hour {first_hour:+.2%} from the first bar's close" in line
    table = pd.read_csv(out / "tables" / "intraday.csv")
    row = table.query("ticker == 'NVDA' and interval == '1m' and market == 'SPY' and window == 'first hour'")
    assert row["case"].iloc[0].startswith("2025-05-13")
    assert row["price_change"].iloc[0] == pytest.approx(first_hour, abs=1e-12)


def test_cases_are_data_and_a_zone_less_time_is_refused(tmp_path):
    from eventstudy.report.intraday import load_cases

    names = [case.name for case in load_cases()]
    assert any(name.startswith("2025-05-13") for name in names) and any("Tokyo" in name for name in names)
    bad = tmp_path / "cases.csv"
    bad.write_text("name,time,tickers,markets\nopen,2025-05-13T09:30:00,NVDA,SPY\n")
    with pytest.raises(ValueError, match=r"Row 2 of .*cases.csv: the time '2025-05-13T09:30:00' has no UTC offset"):
        load_cases(bad)
