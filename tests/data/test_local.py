"""CsvSource on the real price files (read at run time) and on small made-up layouts.

Reference values come from shared/data/PROVENANCE.md (sections 4.2 and 4.4), which checked them against
independent vendors (IBKR, Polygon); they are not produced by this code.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import eventstudy as es
from eventstudy import DataQualityWarning, DataSourceError
from eventstudy.data import CsvSource


def pct_return(frame: pd.DataFrame, day: str) -> pd.Series:
    """Close-to-close return in percent into ``day``."""
    return frame.pct_change().loc[day] * 100


# ---- real files -------------------------------------------------------------------------------------


def test_public_names_are_exported_lazily():
    assert es.CsvSource is CsvSource
    assert es.PriceSource is es.data.PriceSource
    for name in ("YahooSource", "CachedSource", "default_source", "load_factors"):
        assert callable(getattr(es, name))


def test_nvda_split_is_continuous_in_adj_close_and_close(prices_dir):
    src = CsvSource(prices_dir)
    for field in ("Adj Close", "Close"):
        prices = src.get_prices("NVDA", "2024-06-07", "2024-06-10", field=field)
        assert list(prices.index) == [pd.Timestamp("2024-06-07"), pd.Timestamp("2024-06-10")]
        # PROVENANCE 4.2: +0.746 % across the 10-for-1 split, not -90 %
        assert pct_return(prices, "2024-06-10")["NVDA"] == pytest.approx(0.746, abs=0.0005)
    # the 4-for-1 split of 2021-07-20: -0.893 %
    prices = src.get_prices("NVDA", "2021-07-19", "2021-07-20", field="Close")
    assert pct_return(prices, "2021-07-20")["NVDA"] == pytest.approx(-0.893, abs=0.0005)


@pytest.mark.parametrize("field", ["Adj Close", "Close"])
def test_ai_diffusion_rule_day_returns(prices_dir, field):
    prices = CsvSource(prices_dir).get_prices(["NVDA", "AMD", "SPY"], "2025-05-08", "2025-05-16", field=field)
    day = pct_return(prices, "2025-05-13")
    # PROVENANCE 4.4, to 2 decimals of a percent
    assert round(day["NVDA"], 2) == 5.63
    assert round(day["AMD"], 2) == 4.01
    assert round(day["SPY"], 2) == 0.66
    assert round(pct_return(prices, "2025-05-16")["AMD"], 2) == 1.90


def test_nvda_close_on_2025_05_13(prices_dir):
    close = CsvSource(prices_dir).get_prices("NVDA", "2025-05-13", "2025-05-13", field="Close")
    assert close.loc["2025-05-13", "NVDA"] == pytest.approx(129.93, abs=0.005)
    high = CsvSource(prices_dir).get_prices("NVDA", "2025-05-13", "2025-05-13", field="High")
    assert high.iloc[0, 0] == pytest.approx(131.22, abs=0.005)  # intraday high named in PROVENANCE 4.4


def test_frame_shape_follows_the_contract(prices_dir):
    prices = CsvSource(prices_dir).get_prices(["SPY", "NVDA", "SPY", "^GSPC"], "2025-05-01", "2025-05-31")
    assert list(prices.columns) == ["SPY", "NVDA", "^GSPC"]  # order kept, duplicate dropped, caret kept
    assert prices.index.name == "Date"
    assert isinstance(prices.index, pd.DatetimeIndex) and prices.index.tz is None
    assert prices.index.is_monotonic_increasing and prices.index.is_unique
    assert (prices.index == prices.index.normalize()).all()
    assert prices.index[0] == pd.Timestamp("2025-05-01") and prices.index[-1] == pd.Timestamp("2025-05-30")
    assert (prices.dtypes == "float64").all()
    assert prices.attrs["eventstudy_notes"] == []
    # 21 NYSE sessions in May 2025 (Memorial Day on the 26th)
    assert len(prices) == 21


def test_index_ticker_maps_to_file_without_caret(prices_dir):
    src = CsvSource(prices_dir)
    with_caret = src.get_prices("^GSPC", "2025-05-12", "2025-05-13", field="Close")
    bare = src.get_prices("GSPC", "2025-05-12", "2025-05-13", field="Close")
    assert list(with_caret.columns) == ["^GSPC"]
    np.testing.assert_array_equal(with_caret.to_numpy(), bare.to_numpy())
    raw = pd.read_csv(prices_dir / "GSPC.csv", index_col="Date")
    assert with_caret.iloc[-1, 0] == raw.loc["2025-05-13", "Close"]


def test_caret_file_name_is_accepted(tmp_path):
    (tmp_path / "^IRX.csv").write_text("Date,Close\n2024-01-02,5.2\n2024-01-03,5.25\n")
    prices = CsvSource(tmp_path).get_prices("^IRX", "2024-01-02", "2024-01-03", field="Close")
    assert prices["^IRX"].tolist() == [5.2, 5.25]


def test_values_equal_the_file(prices_dir):
    prices = CsvSource(prices_dir).get_prices(["NVDA", "AMD"], "2021-04-12", "2026-04-10", field="Volume")
    raw = pd.read_csv(prices_dir / "NVDA.csv", index_col="Date", parse_dates=True)
    np.testing.assert_array_equal(prices["NVDA"].to_numpy(), raw["Volume"].to_numpy(dtype=float))
    np.testing.assert_array_equal(prices.index.to_numpy(), raw.index.to_numpy(dtype="datetime64[ns]"))
    assert len(prices) == 1256  # PROVENANCE table


def test_history_has_all_fields(prices_dir):
    history = CsvSource(prices_dir).get_history(["NVDA", "QQQ"], "2025-05-12", "2025-05-13")
    assert list(history) == ["NVDA", "QQQ"]
    assert list(history["NVDA"].columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert history["NVDA"].notna().all().all()
    # QQQ carries only Adj Close; PROVENANCE 4.4: 504.85 and 512.54
    qqq = history["QQQ"]
    assert qqq["Close"].isna().all() and qqq["Volume"].isna().all()
    assert qqq["Adj Close"].round(2).tolist() == [504.85, 512.54]


def test_qqq_close_is_refused_with_a_hint(prices_dir):
    # Decision: Adj Close never stands in for Close (it would add dividends to a raw-price series).
    with pytest.raises(DataSourceError, match=r"QQQ: no 'Close' values.*field='Adj Close'"):
        CsvSource(prices_dir).get_prices(["NVDA", "QQQ"], "2025-05-01", "2025-05-31", field="Close")


def test_close_only_file_falls_back_with_a_recorded_warning(tmp_path):
    (tmp_path / "XYZ.csv").write_text("Date,Close\n2024-01-02,10\n2024-01-03,11\n")
    (tmp_path / "ABC.csv").write_text("Date,Close,Adj Close\n2024-01-02,20,19\n2024-01-03,21,20\n")
    with pytest.warns(DataQualityWarning, match=r"XYZ: no 'Adj Close'.*'Close' instead.*dividends"):
        prices = CsvSource(tmp_path).get_prices(["XYZ", "ABC"], "2024-01-02", "2024-01-03")
    assert prices["XYZ"].tolist() == [10.0, 11.0]
    assert prices["ABC"].tolist() == [19.0, 20.0]
    notes = prices.attrs["eventstudy_notes"]
    assert len(notes) == 1 and "XYZ" in notes[0] and "dividends" in notes[0]


def test_volume_has_no_fallback(tmp_path):
    (tmp_path / "XYZ.csv").write_text("Date,Close\n2024-01-02,10\n")
    with pytest.raises(DataSourceError, match=r"XYZ: no 'Volume' values"):
        CsvSource(tmp_path).get_prices("XYZ", "2024-01-02", "2024-01-02", field="Volume")


def test_late_start_is_kept_and_recorded(prices_dir):
    # ARM listed on 2023-09-14; asking from 2023-09-01 must not silently shorten nor fail
    with pytest.warns(DataQualityWarning, match=r"ARM: the data cover 2023-09-14\.\..*2023-09-01"):
        prices = CsvSource(prices_dir).get_prices(["NVDA", "ARM"], "2023-09-01", "2023-09-20")
    assert prices.index[0] == pd.Timestamp("2023-09-01")
    assert prices.loc[:"2023-09-13", "ARM"].isna().all()
    assert prices.loc["2023-09-14":, "ARM"].notna().all()
    assert any("ARM" in note for note in prices.attrs["eventstudy_notes"])


def test_weekend_and_holiday_edges_are_not_reported(prices_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        prices = CsvSource(prices_dir).get_prices("SPY", "2025-01-01", "2025-01-05")  # holiday + weekend
    assert prices.index[0] == pd.Timestamp("2025-01-02")


def test_no_rows_in_range_is_an_error(long_prices_dir):
    with pytest.raises(DataSourceError, match=r"ARM: no rows between 2019-01-01 and 2019-12-31.*2023-09-14"):
        CsvSource(long_prices_dir).get_prices(["NVDA", "ARM"], "2019-01-01", "2019-12-31")


def test_long_folder_reaches_before_2021(long_prices_dir, prices_dir):
    src = CsvSource(long_prices_dir)
    early = src.get_prices(["NVDA", "SPY"], "2019-01-02", "2019-12-31")
    assert early.notna().all().all() and early.index[0] == pd.Timestamp("2019-01-02")
    # the same returns as the primary dane file over the overlap (PROVENANCE 4.3: within 7.6e-7)
    both = pd.concat(
        {
            "long": src.get_prices("NVDA", "2025-05-08", "2025-05-16")["NVDA"],
            "primary": CsvSource(prices_dir).get_prices("NVDA", "2025-05-08", "2025-05-16")["NVDA"],
        },
        axis=1,
    ).pct_change()
    assert (both["long"] - both["primary"]).abs().max() < 1e-6
    assert round(both.loc["2025-05-13", "long"] * 100, 2) == 5.63


# ---- other layouts (made-up files) ------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Adj Close", "adj_close", "Adj_Close", "adjclose", "ADJ CLOSE", "Adj-Close"])
def test_adj_close_header_spellings(tmp_path, header):
    (tmp_path / "ABC.csv").write_text(f"date,{header},close\n2024-01-02,9.5,10\n2024-01-03,10.5,11\n")
    src = CsvSource(tmp_path)
    assert src.get_prices("ABC", "2024-01-02", "2024-01-03")["ABC"].tolist() == [9.5, 10.5]
    assert src.get_prices("ABC", "2024-01-02", "2024-01-03", field="Close")["ABC"].tolist() == [10.0, 11.0]


def test_long_file_price_counts_as_adj_close(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "date,ticker,price\n"
        "2024-01-02,AAA,10\n2024-01-02,BBB,20\n2024-01-03,AAA,11\n2024-01-03,BBB,22\n2024-01-04,AAA,12\n"
    )
    src = CsvSource(path)
    assert src.layout == "long"
    prices = src.get_prices(["BBB", "AAA"], "2024-01-01", "2024-01-04")
    assert list(prices.columns) == ["BBB", "AAA"]
    assert prices["AAA"].tolist() == [10.0, 11.0, 12.0]
    assert prices["BBB"].iloc[:2].tolist() == [20.0, 22.0] and np.isnan(prices["BBB"].iloc[2])
    history = src.get_history("AAA", "2024-01-01", "2024-01-04")["AAA"]
    assert history["Close"].isna().all()  # the price counts as Adj Close only


def test_long_file_with_field_column(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "Date,Symbol,Field,Value\n"
        "2024-01-02,AAA,Close,10\n2024-01-02,AAA,Adj Close,9\n"
        "2024-01-03,AAA,close,11\n2024-01-03,AAA,adj_close,10\n"
    )
    src = CsvSource(path)
    assert src.get_prices("AAA", "2024-01-02", "2024-01-03", field="Close")["AAA"].tolist() == [10.0, 11.0]
    assert src.get_prices("AAA", "2024-01-02", "2024-01-03")["AAA"].tolist() == [9.0, 10.0]


def test_wide_file(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("Date,NVDA,^GSPC\n2024-01-02,48.1,4742.8\n2024-01-03,47.5,4704.8\n")
    src = CsvSource(path)
    assert src.layout == "wide"
    prices = src.get_prices(["^GSPC", "NVDA"], "2024-01-02", "2024-01-03")
    assert prices["^GSPC"].tolist() == [4742.8, 4704.8]
    assert prices["NVDA"].tolist() == [48.1, 47.5]
    with pytest.raises(DataSourceError, match="AMD"):
        src.get_prices(["AMD"], "2024-01-02", "2024-01-03")


def test_other_date_column_and_empty_cells(tmp_path):
    (tmp_path / "ABC.csv").write_text(
        "Day,Close,Volume,Dividends\n2024-01-02,10,,0\n2024-01-03,,500,0\n2024-01-04,12,0,0\n"
    )
    prices = CsvSource(tmp_path, date_column="day").get_prices("ABC", "2024-01-02", "2024-01-04", field="Close")
    assert prices["ABC"].iloc[0] == 10.0 and np.isnan(prices["ABC"].iloc[1])
    volume = CsvSource(tmp_path, date_column="Day").get_prices("ABC", "2024-01-02", "2024-01-04", field="Volume")
    assert volume["ABC"].iloc[2] == 0.0  # a volume of 0 is allowed


def test_missing_date_column_names_the_file(tmp_path):
    (tmp_path / "ABC.csv").write_text("when,Close\n2024-01-02,10\n")
    with pytest.raises(DataSourceError, match=r"ABC\.csv has no 'Date' column.*date_column="):
        CsvSource(tmp_path).get_prices("ABC", "2024-01-01", "2024-01-05")


def test_tz_offsets_in_dates_keep_the_local_day(tmp_path):
    # what DataFrame.to_csv writes for a yfinance frame with an exchange time zone
    (tmp_path / "ABC.csv").write_text("Date,Close\n2024-03-08 00:00:00-05:00,10\n2024-03-11 00:00:00-04:00,11\n")
    prices = CsvSource(tmp_path).get_prices("ABC", "2024-03-08", "2024-03-11", field="Close")
    assert list(prices.index) == [pd.Timestamp("2024-03-08"), pd.Timestamp("2024-03-11")]


def test_describe_and_name(prices_dir):
    src = CsvSource(prices_dir)
    assert src.name == f"csv:{prices_dir.resolve()}"
    info = src.describe()
    assert info["kind"] == "csv" and info["layout"] == "directory"
    assert info["versions"]["pandas"] == pd.__version__
    assert "NVDA" in src.tickers() and "GSPC" in src.tickers()


def test_missing_path_is_reported(tmp_path):
    with pytest.raises(DataSourceError, match="does not exist"):
        CsvSource(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="directory_or_file"):
        CsvSource(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        b'Date,Open,Close\n2025-01-02,1.50,007\n2025-01-03,NA,\n2025-01-06,"N/A","1,5"\n',
        b"\xef\xbb\xbfDate,Close,Close\n2025-01-02, 1.5,2\n2025-01-03,2,3\n",
        b'Date,Close\r\n2025-01-02,nan\r\n2025-01-03,"NA"\r\n',
        b"Date,Close\n 2025-01-02,1.5\n2025-01-03,2\n",
        b"Date,Close\n2025-01-02,\t1.5\n",
        b'Date,Close,Title\n2025-01-02,1.5,"A, B"\n',
        b'Date,Close\n2025-01-02,"1.5"\n2025-01-03,"a\nb"\n',
        b"Date,Close\n",
    ],
)
def test_files_read_as_text_as_the_c_reader_reads_them(tmp_path, text):
    # Arrow reads most files; where it could differ from the C reader (spaces after a comma), the C reader does
    from eventstudy.data.local import _read_text_table

    path = tmp_path / "X.csv"
    path.write_bytes(text)
    expected = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=True)
    got = _read_text_table(path)
    pd.testing.assert_frame_equal(got, expected)
    assert list(map(str, got.dtypes)) == list(map(str, expected.dtypes))


def test_an_unterminated_quote_is_an_error_naming_the_file_not_lost_rows(tmp_path):
    """Arrow reads the rest of the file after a stray quote as one cell; the C reader stops and says so."""
    (tmp_path / "AAA.csv").write_text(
        'Date,Close,Comment\n2024-01-02,10.0,"stray\n2024-01-03,10.5,ok\n2024-01-04,11.0,ok\n2024-01-05,11.5,ok\n'
    )
    with pytest.raises(DataSourceError, match=r"AAA.csv cannot be read as CSV: .*EOF inside string"):
        CsvSource(tmp_path).get_prices(["AAA"], "2024-01-01", "2024-01-10")
