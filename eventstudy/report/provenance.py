"""Where a report's inputs came from, written so that a committed report reads the same on every machine."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

__all__ = ["portable", "relative_path", "describe_source"]


def portable(value: Any, base: Path) -> Any:
    """``value`` with every absolute path in it written relative to ``base`` (the report folder), so that a
    committed report names its inputs the same way on every machine."""
    if isinstance(value, dict):
        return {k: portable(v, base) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(portable(v, base) for v in value)
    if isinstance(value, str):
        prefix, _, rest = value.rpartition(":") if value.startswith(("csv:", "yahoo:", "cache:")) else ("", "", value)
        if os.path.isabs(rest):
            relative = relative_path(rest, base)
            return f"{prefix}:{relative}" if prefix else relative
        # paths inside a sentence (a warning naming a cache file): each written relative too
        return _EMBEDDED_PATH.sub(lambda m: relative_path(m.group(0), base), value)
    return value


#: an absolute POSIX path inside text: a "/" that starts a word (not "and/or", "1/2" or a URL's "//")
_EMBEDDED_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.@+~-]+/)*[\w.@+~-]+")


def relative_path(path: str, base: Path) -> str:
    """``path`` relative to ``base``; its last part in angle brackets where no relative path exists."""
    try:
        return Path(os.path.relpath(path, base.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return f"<{Path(path).name}>"


def describe_source(source: object, base: Path) -> dict[str, Any]:
    """The price source's own description (``describe()``), or its class name, with paths relative to ``base``."""
    describe = getattr(source, "describe", None)
    found = dict(describe()) if callable(describe) else {"source": type(source).__name__}
    return dict(portable(found, base))
