"""Settings read from the environment, once per call so that a change takes effect at once.

========================  =================================================================
Variable                  Meaning
========================  =================================================================
``EVENTSTUDY_CACHE_DIR``    Folder of the price and factor cache (default: the user cache
                          folder given by :func:`platformdirs.user_cache_dir`).
``EVENTSTUDY_OFFLINE``      ``1``, ``true``, ``yes`` or ``on``: never use the network; serve
                          from the cache or local files, or fail saying what is missing.
``EVENTSTUDY_PRICES_DIR``   Folder of ``<TICKER>.csv`` price files; makes
                          :func:`~eventstudy.data.default_source` read them instead of Yahoo.
``EVENTSTUDY_FACTORS_DIR``  Folder of Ken French's daily factor files used by
                          :func:`~eventstudy.data.load_factors` instead of downloading.
========================  =================================================================
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["cache_dir", "is_offline", "prices_dir", "factors_dir", "TRUTHY"]

#: Values of ``EVENTSTUDY_OFFLINE`` (case-insensitive) that switch offline mode on.
TRUTHY = frozenset({"1", "true", "yes", "on"})


def _path_from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Return the cache folder: ``$EVENTSTUDY_CACHE_DIR`` or the platform's user cache folder.

    The folder is not created here; writers create it when they first store something.
    """
    path = _path_from_env("EVENTSTUDY_CACHE_DIR")
    if path is not None:
        return path
    return Path(platformdirs.user_cache_dir("eventstudy"))


def is_offline() -> bool:
    """Return True when ``$EVENTSTUDY_OFFLINE`` is one of ``1, true, yes, on`` (any case)."""
    return os.environ.get("EVENTSTUDY_OFFLINE", "").strip().lower() in TRUTHY


def prices_dir() -> Path | None:
    """Return ``$EVENTSTUDY_PRICES_DIR`` as a path, or None when it is unset or empty."""
    return _path_from_env("EVENTSTUDY_PRICES_DIR")


def factors_dir() -> Path | None:
    """Return ``$EVENTSTUDY_FACTORS_DIR`` as a path, or None when it is unset or empty."""
    return _path_from_env("EVENTSTUDY_FACTORS_DIR")
