"""Bad input gives a clear error naming the culprit, whatever the source (made-up files in tmp_path)."""

from __future__ import annotations

import pandas as pd
import pytest

from eventstudy import DataSourceError
from eventstudy.data import CsvSource


def write(folder, ticker, body):
    (folder / f"{ticker}.csv").write_text("Date,Open,High,Low,Close,Adj Close,Volume\n" + body)
    return CsvSource(folder)


GOOD = "2024-01-02,10,11,9,10.5,10.4,100\n2024-01-03,10.5,11.5,10,11,10.9,200\n2024-01-04,11,12,10.5,11.5,11.4,0\n"


def test_unknown_ticker_names_each_one(tmp_path):
    src = write(tmp_path, "ABC", GOOD)
    with pytest.raises(DataSourceError, match=r"2 of 3 ticker") as info:
        src.get_prices(["ABC", "NOPE", "ABD"], "2024-01-02", "2024-01-04")
    assert set(info.value.failures) == {"NOPE", "ABD"}
    assert "no file NOPE.csv" in info.value.failures["NOPE"]
    assert "ABC.csv" in info.value.failures["ABD"]  # a near miss is suggested


def test_start_after_end_names_both(tmp_path):
    src = write(tmp_path, "ABC", GOOD)
    with pytest.raises(
        ValueError, match=r"'start' parameter \(2024-01-04\) is after the 'end' parameter \(2024-01-02\)"
    ):
        src.get_prices("ABC", "2024-01-04", "2024-01-02")


def test_bad_dates_and_fields(tmp_path):
    src = write(tmp_path, "ABC", GOOD)
    with pytest.raises(ValueError, match="'start' parameter must be a date"):
        src.get_prices("ABC", "not a date", "2024-01-02")
    with pytest.raises(TypeError, match="'end' parameter"):
        src.get_prices("ABC", "2024-01-02", None)
    with pytest.raises(ValueError, match="'field' parameter must be one of"):
        src.get_prices("ABC", "2024-01-02", "2024-01-04", field="Price")  # type: ignore[arg-type]


def test_ticker_argument_checks(tmp_path):
    src = write(tmp_path, "ABC", GOOD)
    with pytest.raises(ValueError, match=r"list of tickers.*\['ABC', 'DEF'\]"):
        src.get_prices("ABC, DEF", "2024-01-02", "2024-01-04")
    with pytest.raises(ValueError, match="empty"):
        src.get_prices([], "2024-01-02", "2024-01-04")
    with pytest.raises(TypeError, match="ticker strings"):
        src.get_prices(["ABC", 7], "2024-01-02", "2024-01-04")  # type: ignore[list-item]


def test_duplicate_dates_named(tmp_path):
    src = write(tmp_path, "ABC", GOOD + "2024-01-04,11,12,10.5,11.6,11.5,10\n2024-01-05,11,12,10.5,11.6,11.5,10\n")
    with pytest.raises(DataSourceError, match=r"ABC: .*duplicated dates: 2024-01-04 \(2 rows\)"):
        src.get_prices("ABC", "2024-01-02", "2024-01-05")


def test_unsorted_dates_name_the_first_row_out_of_order(tmp_path):
    body = "2024-01-03,10,11,9,10.5,10.4,100\n2024-01-02,10.5,11.5,10,11,10.9,200\n2024-01-04,11,12,10.5,11.5,11.4,0\n"
    src = write(tmp_path, "ABC", body)
    with pytest.raises(DataSourceError, match=r"ABC: file .*ABC\.csv is not in date order: line 3 is dated 2024-01-02"):
        src.get_prices("ABC", "2024-01-02", "2024-01-04")


def test_non_numeric_price_names_column_and_value(tmp_path):
    src = write(tmp_path, "ABC", GOOD.replace("11,10.9,200", "n/a?,10.9,200"))
    with pytest.raises(DataSourceError, match=r"ABC: column 'Close' .*not a number: 'n/a\?' on 2024-01-03 \(line 3\)"):
        src.get_prices("ABC", "2024-01-02", "2024-01-04")


def test_thousands_separator_is_not_silently_misread(tmp_path):
    (tmp_path / "ABC.csv").write_text('Date,Close\n2024-01-02,"1,234.5"\n')
    with pytest.raises(DataSourceError, match=r"'1,234\.5'"):
        CsvSource(tmp_path).get_prices("ABC", "2024-01-02", "2024-01-02", field="Close")


@pytest.mark.parametrize("bad", ["0", "-3.5"])
def test_zero_or_negative_price_names_date_and_value(tmp_path, bad):
    src = write(tmp_path, "ABC", GOOD.replace("10.5,11.5,10,11,10.9", f"10.5,11.5,10,11,{bad}"))
    with pytest.raises(
        DataSourceError, match=rf"ABC: .*zero or negative price in column 'Adj Close': {bad} on 2024-01-03"
    ):
        src.get_prices("ABC", "2024-01-02", "2024-01-04", field="Close")


def test_negative_volume_is_refused_but_zero_volume_is_fine(tmp_path):
    src = write(tmp_path, "ABC", GOOD)
    assert src.get_prices("ABC", "2024-01-02", "2024-01-04", field="Volume")["ABC"].tolist() == [100, 200, 0]
    src = write(tmp_path, "ABC", GOOD.replace(",200\n", ",-5\n"))
    with pytest.raises(DataSourceError, match=r"negative volume in column 'Volume': -5 on 2024-01-03"):
        src.get_prices("ABC", "2024-01-02", "2024-01-04")


def test_yield_index_may_be_negative(prices_dir):
    # ^IRX, a T-bill yield, went below zero in March 2020 (the file holds -0.028 on 2020-03-19)
    irx = CsvSource(prices_dir).get_prices("^IRX", "2020-03-18", "2020-03-20", field="Close")
    assert irx["^IRX"].tolist() == [0.003, -0.028, -0.033]


def test_unreadable_and_missing_dates(tmp_path):
    src = write(tmp_path, "ABC", GOOD.replace("2024-01-03", "2024-13-45"))
    with pytest.raises(DataSourceError, match=r"ABC: .*date that cannot be read: '2024-13-45' \(line 3\)"):
        src.get_prices("ABC", "2024-01-02", "2024-01-04")
    src = write(tmp_path, "ABC", GOOD.replace("2024-01-03", ""))
    with pytest.raises(DataSourceError, match=r"ABC: .*row without a date \(line 3\)"):
        src.get_prices("ABC", "2024-01-02", "2024-01-04")


def test_validation_is_shared_by_all_sources():
    from eventstudy.data.base import validate_history

    frame = pd.DataFrame({"close": [1.0, 2.0]}, index=pd.to_datetime(["2024-01-03", "2024-01-02"]))
    with pytest.raises(DataSourceError, match="XYZ: Yahoo data is not in date order: row 2"):
        validate_history("XYZ", frame, where="Yahoo data")
    tz = pd.DataFrame({"Close": [1.0]}, index=pd.DatetimeIndex(["2024-01-02 00:00"], tz="America/New_York"))
    out = validate_history("XYZ", tz)
    assert out.index.tz is None and out.index[0] == pd.Timestamp("2024-01-02")
    assert list(out.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]


_PLAIN = ["129.366135", " 2 ", "+.5", "1e-5", "00012", "9007199254740993", "123456789012345678901234567890", ""]
_LEFT_TO_PANDAS = ["-0", "-0.0", "nan", "inf", "1e400", "1,000", "0x10", "1_000", "1\u00a0", "\u0661"]


@pytest.mark.parametrize("cell", _PLAIN + _LEFT_TO_PANDAS)
def test_arrow_reads_text_cells_as_pandas_does_or_leaves_them_to_it(cell):
    # the fast parse of text columns gives pd.to_numeric's doubles, or None: pandas then decides and names the cell
    import numpy as np

    from eventstudy.data.validation import plain_floats

    column = pd.Series([cell, "2.5", None], dtype="str")
    fast = plain_floats(column, strip=True)
    if cell in _LEFT_TO_PANDAS:
        assert fast is None
    else:
        text = column.str.strip().replace("", None)
        slow = pd.to_numeric(text.astype(object), errors="coerce").to_numpy(dtype="float64")
        np.testing.assert_array_equal(fast.view("int64"), slow.view("int64"))
