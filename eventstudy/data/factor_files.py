"""Kenneth R. French's factor files as they are published: parsers for his daily CSV, tidy CSVs and zips.

Values stay in **percent**, as published; :func:`eventstudy.data.load_factors` divides them by 100.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from eventstudy.data.validation import DATE_UNIT, _squash
from eventstudy.exceptions import DataSourceError

__all__ = ["parse_french_csv", "read_factor_file", "parse_factor_text", "unzip_text"]

_MISSING_CODES = (-99.99, -999.0)

_DAILY_ROW = re.compile(r"^\s*(\d{8})\s*,")
_MONTHLY_ROW = re.compile(r"^\s*(\d{6}|\d{4})\s*,")
_VINTAGE = re.compile(r"created by using the (\d{6}) CRSP database", re.IGNORECASE)


def _number(text: str) -> float:
    text = text.strip()
    if not text:
        return math.nan
    value = float(text)
    return math.nan if value in _MISSING_CODES else value


def parse_french_csv(text: str) -> pd.DataFrame:
    """Parse one of Ken French's daily CSV files exactly as published.

    Parameters
    ----------
    text
        The file's text: prose header lines, a column header row starting with a comma (e.g.
        ``,Mkt-RF,SMB,HML,RF``), ``YYYYMMDD`` data rows with space-padded values, a blank line and a
        copyright footer.  CRLF or LF line ends.

    Returns
    -------
    pandas.DataFrame
        Values in **percent**, as published; DatetimeIndex ``Date``; one float64 column per header
        cell (spaces stripped).  The missing-data codes -99.99 and -999 become NaN.  ``attrs["vintage"]``
        holds the CRSP vintage (e.g. ``"202604"``) when the header names it.

    Raises
    ------
    ValueError
        When there is no header row or no daily rows (a monthly file, for example), or a data row has
        the wrong number of values or a value that is not a number; the message names the line.

    Notes
    -----
    Reading stops at the first line after the data start that is not a ``YYYYMMDD`` row, so that the
    annual or monthly sections some files carry after the first section are left out.
    """
    if not isinstance(text, str):
        raise TypeError(f"The 'text' parameter must be the file's text (str). Got {type(text).__name__} instead.")
    lines = text.lstrip("\ufeff").splitlines()
    header: list[str] | None = None
    header_line = 0
    dates: list[str] = []
    rows: list[list[float]] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not dates:
            if stripped.startswith(","):
                header = [cell.strip() for cell in stripped.split(",")[1:]]
                header_line = number
                continue
            if header is None or not stripped:
                continue
            if not _DAILY_ROW.match(stripped):
                if _MONTHLY_ROW.match(stripped):
                    raise ValueError(
                        f"line {number} ({stripped[:30]!r}) is a monthly or annual row: parse_french_csv reads "
                        "the daily files (YYYYMMDD rows), e.g. F-F_Research_Data_Factors_daily.csv."
                    )
                header = None  # prose between a stray comma line and the real header
                continue
        elif not _DAILY_ROW.match(stripped):
            break
        cells = stripped.split(",")
        if header is None:  # pragma: no cover - a data row is only taken after a header
            continue
        if len(cells) != len(header) + 1:
            raise ValueError(
                f"line {number} has {len(cells) - 1} value(s) but the header on line {header_line} names "
                f"{len(header)} column(s) {header}: {stripped[:60]!r}"
            )
        try:
            rows.append([_number(cell) for cell in cells[1:]])
        except ValueError:
            raise ValueError(f"line {number} holds a value that is not a number: {stripped[:60]!r}") from None
        dates.append(cells[0].strip())
    if header is None or not dates:
        raise ValueError(
            "No daily factor rows found: expected a header row starting with a comma (e.g. ',Mkt-RF,SMB,HML,RF') "
            "followed by YYYYMMDD rows, as in French's *_daily.csv files."
        )
    index = pd.DatetimeIndex(pd.to_datetime(dates, format="%Y%m%d"), name="Date").as_unit(DATE_UNIT)
    frame = pd.DataFrame(np.array(rows, dtype="float64"), index=index, columns=header)
    vintage = _VINTAGE.search(text)
    frame.attrs = {"vintage": vintage.group(1) if vintage else None, "units": "percent"}
    return frame


def _parse_tidy_csv(text: str, origin: str) -> pd.DataFrame:
    """Parse a tidy ``Date,<factor>,...`` CSV with ISO (or YYYYMMDD) dates and percent values."""
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataSourceError(f"The factor file {origin} cannot be read as CSV: {exc}.") from None
    date_column = next((c for c in table.columns if _squash(c) == "date"), table.columns[0])
    raw_dates = table[date_column].astype(str).str.strip()
    fmt = "%Y%m%d" if raw_dates.str.fullmatch(r"\d{8}").all() else "ISO8601"
    dates = pd.to_datetime(raw_dates, format=fmt, errors="coerce")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataSourceError(
            f"The factor file {origin} has a date that cannot be read on line {i + 2}: {raw_dates.iloc[i]!r}. "
            "Write dates as YYYY-MM-DD."
        )
    data = {}
    for column in table.columns:
        if column == date_column:
            continue
        values = []
        for line, cell in enumerate(table[column], start=2):
            try:
                values.append(_number(cell) if isinstance(cell, str) else math.nan)
            except ValueError:
                raise DataSourceError(
                    f"The factor file {origin} holds a value that is not a number in column {column!r} on line "
                    f"{line}: {cell!r}."
                ) from None
        data[str(column).strip()] = np.array(values, dtype="float64")
    frame = pd.DataFrame(data, index=pd.DatetimeIndex(dates, name="Date").as_unit(DATE_UNIT))
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        raise DataSourceError(
            f"The factor file {origin} must have unique dates in ascending order; sort it and drop repeated dates."
        )
    frame.attrs = {"vintage": None, "units": "percent"}
    return frame


def parse_factor_text(text: str, origin: str) -> pd.DataFrame:
    """Parse a factor file's text: a tidy CSV when its first cell is ``Date``, else French's CSV as published."""
    first = next((line.strip() for line in text.lstrip("\ufeff").splitlines() if line.strip()), "")
    if _squash(first.split(",")[0]) == "date":
        return _parse_tidy_csv(text, origin)
    try:
        return parse_french_csv(text)
    except ValueError as exc:
        raise DataSourceError(f"The factor file {origin} cannot be parsed: {exc}") from None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def unzip_text(data: bytes, origin: str) -> str:
    """The text of the first CSV (or TXT) file inside the zip archive ``data``; ``origin`` names it in errors."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith((".csv", ".txt"))]
            if not members:
                raise DataSourceError(f"The zip file {origin} holds no CSV file (it has {archive.namelist()}).")
            return _decode(archive.read(members[0]))
    except zipfile.BadZipFile as exc:
        raise DataSourceError(f"The file {origin} is not a valid zip archive ({exc}).") from None


def read_factor_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read one factor file in percent: French's CSV as published, a tidy CSV, or either inside a zip.

    Parameters
    ----------
    path
        A ``.csv`` (or ``.txt``) file, or a ``.zip`` holding one.

    Returns
    -------
    pandas.DataFrame
        As :func:`parse_french_csv` (percent); ``attrs["file"]`` and ``attrs["sha256"]`` record the source.
    """
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataSourceError(
            f"The factor file {path} cannot be read ({exc}).", failures={str(path): str(exc)}
        ) from None
    text = unzip_text(data, str(path)) if path.suffix.lower() == ".zip" else _decode(data)
    frame = parse_factor_text(text, str(path))
    frame.attrs.update({"file": str(path), "sha256": hashlib.sha256(data).hexdigest()})
    return frame
