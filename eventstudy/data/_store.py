"""One cache entry on disk: a Parquet file plus JSON metadata carrying the Parquet's sha256.

The price cache, the bar cache and the factor cache all store their entries this way.  Each file is
written to a temporary file in the same folder, fsynced and renamed over the old one, in this order: a
write journal (``.<name>.journal``, the sha256 of the Parquet bytes about to be written), the Parquet
file, the JSON metadata, and then the journal is removed.  A reader therefore sees the old entry or the
new one, never half of one.  The Parquet file also carries a copy of the metadata (less the sha256) in its
own key-value metadata, and every read compares the JSON with it.

A Parquet file whose sha256 differs from the JSON's is corrupt, unless the journal proves that a write
of that very file was interrupted between the Parquet and the JSON renames (the journal's sha256 equals
the file's); only then does :func:`read_entry` (with ``recover=True``) serve the complete new data with
the record they carry.  Anything else -- a flipped byte, a truncated or edited file -- raises
:class:`CorruptEntryError`, and :func:`quarantine` moves the entry aside (never deleted, never blessed) so
that the caller can fetch it again.  Nothing is pickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow.lib import ArrowException

from eventstudy.data.validation import DATE_UNIT
from eventstudy.foundation.files import atomic_write_bytes

__all__ = [
    "CorruptEntryError",
    "RECOVERED_KEY",
    "atomic_write_bytes",
    "journal_path",
    "metadata_path",
    "quarantine",
    "read_entry",
    "remove_temp_files",
    "safe_name",
    "storage_errors",
    "utc_now",
    "write_entry",
]

#: Key of the Parquet file's key-value metadata holding the entry's record (JSON).
_EMBEDDED_KEY = b"eventstudy_entry"
#: Key :func:`read_entry` adds to the metadata it returns when it recovered them from the Parquet file.
RECOVERED_KEY = "_recovered"


def safe_name(text: str) -> str:
    """A file-system-safe name for ``text``; a short hash keeps distinct inputs distinct."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:60]
    if safe != text or not safe:
        safe = f"{safe or 'x'}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"
    return safe


def utc_now() -> pd.Timestamp:
    """The current time in UTC, as every entry's ``fetched_at`` records it."""
    return pd.Timestamp.now(tz="UTC")


class CorruptEntryError(ValueError):
    """A cache entry exists but cannot be used: unreadable metadata or data, or a sha256 mismatch."""


def storage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a failed :func:`write_entry` can raise (OSError, ValueError, pyarrow's errors)."""
    return (OSError, ValueError, ArrowException)


def metadata_path(path: Path) -> Path:
    """The JSON metadata file of the entry whose Parquet file is ``path`` (``<stem>.json`` beside it)."""
    return path.with_suffix(".json")


def journal_path(path: Path) -> Path:
    """The write journal of the entry whose Parquet file is ``path`` (``.<name>.journal`` beside it)."""
    return path.with_name(f".{path.name}.journal")


def _journal_digest(path: Path) -> str | None:
    """The sha256 the journal of ``path`` says a write was about to give it, or None (no usable journal)."""
    try:
        record = json.loads(journal_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("parquet_file") != path.name:
        return None
    digest = record.get("sha256")
    return digest if isinstance(digest, str) else None


def quarantine(path: Path) -> Path | None:
    """Move the entry whose Parquet file is ``path`` (data, metadata, journal) aside, into ``.quarantine/``.

    A corrupt entry is kept for inspection rather than deleted or overwritten: its files go to
    ``<folder>/.quarantine/<name>-<UTC time>/``.  Returns that folder, or None when nothing was there to
    move or the move failed (the caller then says the entry was left in place).
    """
    stamp = utc_now().strftime("%Y%m%dT%H%M%S%fZ")
    folder = path.parent / ".quarantine" / f"{path.stem}-{stamp}"
    moved = False
    for member in (path, metadata_path(path), journal_path(path)):
        if not member.exists():
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(member, folder / member.name)
        except OSError:
            return None
        moved = True
    return folder if moved else None


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
    table = pa.Table.from_pandas(plain, preserve_index=True)
    embedded = json.dumps({**metadata, "parquet_file": path.name}, default=str).encode("utf-8")
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _EMBEDDED_KEY: embedded})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    written = {**metadata, "sha256": digest, "parquet_file": path.name}
    text = json.dumps(written, indent=2, default=str).encode("utf-8")
    journal = journal_path(path)
    # the journal first: a data file whose sha256 it records was written by this very write, so stale
    # metadata beside it mean an interrupted write (recoverable), never corruption
    atomic_write_bytes(journal, json.dumps({"parquet_file": path.name, "sha256": digest}).encode("utf-8"))
    atomic_write_bytes(path, data)  # data next: metadata only ever point at complete data
    atomic_write_bytes(metadata_path(path), text)
    with contextlib.suppress(OSError):
        journal.unlink()
    return written


def read_entry(
    path: Path, *, expected_format: str | None = None, recover: bool = False
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """Read and verify the entry whose Parquet file is ``path``.

    Parameters
    ----------
    path
        The Parquet file, as given to :func:`write_entry`.
    expected_format
        When given, the metadata's ``format`` must equal it.
    recover
        When the JSON metadata are missing, unreadable or do not match the Parquet file, and the write
        journal proves that a write of this very Parquet file was interrupted before its metadata were
        renamed into place (the journal records the file's sha256), return the record the Parquet file
        carries instead of failing; it then holds :data:`RECOVERED_KEY` saying what was wrong.  Without
        that proof a mismatch is corruption, whatever ``recover`` says.

    Returns
    -------
    (pandas.DataFrame, dict) or None
        The frame (float64 columns, tz-naive nanosecond DatetimeIndex named ``Date``, no attrs) and the
        metadata; None when nothing is cached (neither metadata nor data).

    Raises
    ------
    CorruptEntryError
        When the metadata are unreadable or of another format, the Parquet file is missing or unreadable,
        its sha256 differs from the one recorded, or the metadata disagree with the record inside the
        Parquet file (and no journal proves an interrupted write); the message names the file.
    """
    meta_path = metadata_path(path)
    problem = None
    metadata: Any = None
    if not meta_path.exists():
        if not path.exists():
            return None
        problem = f"metadata {meta_path} is missing"
    else:
        try:
            metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problem = f"metadata {meta_path} is unreadable ({exc})"
        else:
            if not isinstance(metadata, dict) or (
                expected_format is not None and metadata.get("format") != expected_format
            ):
                problem = f"metadata {meta_path} is not an eventstudy cache record"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptEntryError(problem or f"data file {path} is missing or unreadable ({exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if problem is None and digest != metadata.get("sha256"):
        problem = f"data file {path} does not match the sha256 recorded in {meta_path.name}"
    interrupted = problem is not None and _journal_digest(path) == digest
    if problem is not None and not (recover and interrupted):
        why = "" if interrupted else " and no write journal shows an interrupted write of it"
        raise CorruptEntryError(problem + why)
    try:
        frame = pd.read_parquet(io.BytesIO(data), engine="pyarrow").astype("float64")
        frame.index = pd.DatetimeIndex(frame.index).as_unit(DATE_UNIT).rename("Date")
    except storage_errors() + (TypeError, KeyError) as exc:
        raise CorruptEntryError(problem or f"data file {path} cannot be read ({type(exc).__name__}: {exc})") from None
    frame.attrs = {}
    embedded = _embedded_record(data)
    if problem is not None:
        if embedded is None or (expected_format is not None and embedded.get("format") != expected_format):
            raise CorruptEntryError(f"{problem}, and the data file carries no record to recover it from")
        return frame, {**embedded, "sha256": digest, RECOVERED_KEY: problem}
    if embedded is not None:
        # the JSON is the record of these very bytes: it must say what the Parquet file says of itself
        differ = sorted(k for k in set(embedded) | set(metadata) - {"sha256"} if embedded.get(k) != metadata.get(k))
        if differ:
            key = differ[0]
            raise CorruptEntryError(
                f"metadata {meta_path.name} disagree with the record inside data file {path.name} on "
                f"{', '.join(map(repr, differ))} ({key}: {metadata.get(key)!r} in the metadata, "
                f"{embedded.get(key)!r} in the data file)"
            )
    return frame, metadata


def _embedded_record(data: bytes) -> dict[str, Any] | None:
    """The record :func:`write_entry` put inside the Parquet bytes, or None."""
    try:
        schema = pq.read_schema(io.BytesIO(data))
        record = json.loads((schema.metadata or {}).get(_EMBEDDED_KEY, b"null"))
    except storage_errors() + (TypeError,):  # an unreadable record is no record
        return None
    return record if isinstance(record, dict) else None


def remove_temp_files(path: Path) -> int:
    """Delete the temporary files a killed writer of ``path`` or of its metadata left behind.

    Call it only while holding the entry's lock: then no live writer owns them.  Returns how many were
    removed.
    """
    removed = 0
    for target in (path, metadata_path(path), journal_path(path)):  # the journal is written aside too
        for leftover in path.parent.glob(f".{target.name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                removed += 1
    return removed
