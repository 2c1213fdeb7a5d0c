"""Where a report's inputs came from, written so that a committed report reads the same on every machine.

Every path the report records is a structured field (a config option, the price source's ``location``, a
command-line value marked as a path), written where it is recorded relative to one declared root: the folder
that holds the report's folder (``results/`` for the default report). No text is searched for things that look
like paths: a sentence such as "tariffs cut to 30%/10%" is kept as it is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT_NOTE",
    "report_root",
    "relative_path",
    "describe_source",
    "config_record",
    "name_paths_relative",
    "input_paths",
]

#: what ``results.json`` says its paths are relative to
ROOT_NOTE = "the folder that holds the report's folder"

#: the fields of :class:`~eventstudy.report.config.ReportConfig` that hold paths (``catalog`` only when it
#: names a file rather than a built-in catalog)
PATH_FIELDS = ("prices_dir", "reported_moves", "out", "global_listings", "intraday_cases", "global_dir", "intraday_dir")

#: the fields of a source's ``describe()`` that hold paths
SOURCE_PATH_FIELDS = ("location", "path", "file", "cache_dir")


def report_root(out_dir: str | os.PathLike[str]) -> Path:
    """The declared root of a report's paths: the folder that holds the report folder ``out_dir``, made
    absolute without resolving symbolic links (a ``../shared`` link reads as ``../shared``)."""
    return Path(os.path.abspath(out_dir)).parent


def relative_path(path: str | os.PathLike[str], base: str | os.PathLike[str]) -> str:
    """``path`` relative to ``base`` (both made absolute against the working folder, links kept as given),
    with ``/`` separators; its last part in angle brackets where no relative path exists (another drive)."""
    try:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(base))).as_posix()
    except ValueError:  # another drive (Windows)
        return f"<{Path(path).name}>"


def describe_source(source: object, root: Path, *, given: str | None = None) -> dict[str, Any]:
    """The price source's own description (``describe()``), or its class name, with its path fields written
    relative to ``root``.

    ``given`` is the folder the user named (``--prices-dir``): where the source was built from it, its
    ``location`` is that path as given, not as the source resolved it (a linked folder stays the link).
    """
    describe = getattr(source, "describe", None)
    found: dict[str, Any] = dict(describe()) if callable(describe) else {"source": type(source).__name__}
    for key in SOURCE_PATH_FIELDS:
        value = found.get(key)
        if isinstance(value, str) and os.path.isabs(value):
            shown = value if given is None or not _same_file(value, given) else given
            found[key] = relative_path(shown, root)
    if isinstance(found.get("name"), str) and isinstance(found.get("kind"), str) and "location" in found:
        # a name such as "csv:<absolute path>" is the kind and the location: rebuilt from the two fields
        prefix = f"{found['kind']}:"
        if found["name"].startswith(prefix):
            found["name"] = prefix + str(found["location"])
    return found


def config_record(config: Any, root: Path) -> dict[str, Any]:
    """The settings of a report config as JSON-ready values, each path field relative to ``root``."""
    record: dict[str, Any] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()}
    for key in PATH_FIELDS:
        value = getattr(config, key)
        if value:
            record[key] = relative_path(value, root)
    catalog = record.get("catalog")
    if isinstance(catalog, str) and os.path.isabs(catalog):
        record["catalog"] = relative_path(catalog, root)
    if record.get("command") is not None:
        record["command"] = [
            [flag, relative_path(value, root) if is_path and value else value, is_path]
            for flag, value, is_path in config.command
        ]
    return record


def input_paths(config: Any, root: Path) -> dict[str, str]:
    """The run's own input paths (each path field of ``config`` and the extra sections' folders), absolute
    (as given and with links resolved) -> relative to ``root``: what :func:`name_paths_relative` writes."""
    given = [getattr(config, key) for key in PATH_FIELDS if key != "out"]
    given += [config.folder(section) for section in ("global", "intraday")]
    if os.path.isabs(config.catalog):
        given.append(config.catalog)
    found: dict[str, str] = {}
    for path in filter(None, given):
        relative = relative_path(path, root)
        for absolute in {os.path.abspath(path), os.path.realpath(path)}:
            if len(absolute) > 1:  # never the bare "/"
                found[absolute] = relative
    return found


def name_paths_relative(message: str, paths: Mapping[str, str]) -> str:
    """``message`` with each of the run's own input paths (``paths``: absolute path -> its relative form)
    written in its relative form: exact known values, longest first, never a pattern."""
    for absolute in sorted(paths, key=len, reverse=True):
        message = message.replace(absolute, paths[absolute])
    return message


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
