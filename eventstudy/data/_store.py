"""One cache entry on disk: a Parquet file plus JSON metadata carrying the Parquet's sha256.

The price cache and the factor cache both store their entries this way.  Each file is written to a
temporary file in the same folder, fsynced and renamed over the old one (Parquet first, metadata last), so
that a reader sees the old entry or the new one, never half of one; a write interrupted between the two
files leaves metadata whose sha256 no longer matches, which :func:`read_entry` reports.  Nothing is
pickled.  pyarrow is imported only when an entry is read or written.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from .base import DATE_UNIT

__all__ = ["CorruptEntryError", "atomic_write_bytes", "metadata_path", "read_entry", "storage_errors", "write_entry"]


class CorruptEntryError(ValueError):
    """A cache entry exists but cannot be used: unreadable metadata or data, or a sha256 mismatch."""


def storage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a failed :func:`write_entry` can raise (OSError, ValueError, pyarrow's errors).

    A function rather than a constant so that pyarrow is imported only when an error is being handled.
    """
    from pyarrow.lib import ArrowException

    return (OSError, ValueError, ArrowException)


def metadata_path(path: Path) -> Path:
    """The JSON metadata file of the entry whose Parquet file is ``path`` (``<stem>.json`` beside it)."""
    return path.with_suffix(".json")


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and the file is then
    renamed over ``path`` with :func:`os.replace`.  On any failure the temporary file is removed and the
    old ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_entry(path: Path, frame: pd.DataFrame, metadata: dict[str, Any]) -> dict[str, Any]:
    """Store ``frame`` at ``path`` (Parquet) and ``metadata`` beside it (JSON), each atomically.

    Parameters
    ----------
    path
        The Parquet file; the metadata go to :func:`metadata_path` of it.
    frame
        The data, index included.  ``frame.attrs`` are not stored: the metadata are the record.
    metadata
        JSON-ready facts about the entry; ``sha256`` (of the Parquet bytes) and ``parquet_file`` are added.

    Returns
    -------
    dict
        The metadata as written.

    Raises
    ------
    OSError, ValueError, pyarrow.lib.ArrowException
        When the data cannot be serialized or a file cannot be written (see :func:`storage_errors`); the
        files already on disk are then left as they were, or hold new data beside old metadata, which
        :func:`read_entry` detects.
    """
    plain = frame.copy(deep=False)
    plain.attrs = {}
    buffer = io.BytesIO()
    plain.to_parquet(buffer, engine="pyarrow", index=True)
    data = buffer.getvalue()
    written = {**metadata, "sha256": hashlib.sha256(data).hexdigest(), "parquet_file": path.name}
    text = json.dumps(written, indent=2, default=str).encode("utf-8")
    atomic_write_bytes(path, data)  # data first: metadata only ever point at complete data
    atomic_write_bytes(metadata_path(path), text)
    return written


def read_entry(path: Path, *, expected_format: str | None = None) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """Read and verify the entry whose Parquet file is ``path``.

    Parameters
    ----------
    path
        The Parquet file, as given to :func:`write_entry`.
    expected_format
        When given, the metadata's ``format`` must equal it.

    Returns
    -------
    (pandas.DataFrame, dict) or None
        The frame (float64 columns, tz-naive nanosecond DatetimeIndex named ``Date``, no attrs) and the
        metadata; None when there is no metadata file (nothing cached).

    Raises
    ------
    CorruptEntryError
        When the metadata are unreadable or of another format, the Parquet file is missing or unreadable,
        or its sha256 differs from the one recorded; the message names the file.
    """
    meta_path = metadata_path(path)
    if not meta_path.exists():
        return None
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorruptEntryError(f"metadata {meta_path} is unreadable ({exc})") from None
    if not isinstance(metadata, dict) or (expected_format is not None and metadata.get("format") != expected_format):
        raise CorruptEntryError(f"metadata {meta_path} is not an eventstudy cache record")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptEntryError(f"data file {path} is missing or unreadable ({exc})") from None
    if hashlib.sha256(data).hexdigest() != metadata.get("sha256"):
        raise CorruptEntryError(f"data file {path} does not match the sha256 recorded in {meta_path.name}")
    try:
        frame = pd.read_parquet(io.BytesIO(data), engine="pyarrow").astype("float64")
        frame.index = pd.DatetimeIndex(frame.index).as_unit(DATE_UNIT).rename("Date")
    except (*storage_errors(), TypeError, KeyError) as exc:
        raise CorruptEntryError(f"data file {path} cannot be read ({type(exc).__name__}: {exc})") from None
    frame.attrs = {}
    return frame, metadata
