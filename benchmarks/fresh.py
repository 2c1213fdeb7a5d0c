"""The environment of the fresh processes that ``report.py`` and ``startup.py`` time.

An installed package has its modules compiled: the children write and read bytecode in a folder of their own
(``PYTHONPYCACHEPREFIX``), and ``PYTHONDONTWRITEBYTECODE``, where a machine sets it, is dropped, since it would
recompile every module of the package in every timed run.  Time a child only after one untimed run of the
same kind has written the bytecode.
"""

from __future__ import annotations

import os
from pathlib import Path


def compiled_env(folder: str | Path, **extra: str) -> dict[str, str]:
    """``os.environ`` for a child process that keeps its bytecode under ``folder``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPYCACHEPREFIX": str(Path(folder) / "pycache"), **extra}
