"""MkDocs hook: the notebooks execute in the docs build, offline, on the shared data.

The notebook kernels inherit this process's environment, so before any page is built this sets

* ``EVENTSTUDY_SHARED_DIR``: kept when set, else ``shared/`` beside the repository (the notebooks' own
  default, which they find from their working directory; named here so that every build agrees);
* ``EVENTSTUDY_PRICES_DIR``: kept when set, else ``<shared>/data/prices``, so that ``es.default_source()``
  reads the shared files instead of Yahoo Finance;
* ``EVENTSTUDY_OFFLINE=1``: any attempt to reach the network fails instead of downloading;
* ``MPLBACKEND=Agg``: figures without a display.

A build that executes the notebooks without the shared data stops here, naming the folder and the fix.
``EVENTSTUDY_DOCS_EXECUTE=false`` renders the notebooks as committed (no data needed).
"""

from __future__ import annotations

import os
from pathlib import Path

from mkdocs.exceptions import PluginError


def on_config(config):
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is None or not jupyter.config["execute"]:
        return config
    repo = Path(config.config_file_path).resolve().parent
    shared = Path(os.environ.get("EVENTSTUDY_SHARED_DIR") or repo.parent / "shared").resolve()
    prices = Path(os.environ.get("EVENTSTUDY_PRICES_DIR") or shared / "data" / "prices")
    if not prices.is_dir():
        raise PluginError(
            f"The docs build executes the notebooks on the shared data, and {prices} is not a folder. Put the "
            "shared folder beside the repository, set EVENTSTUDY_SHARED_DIR to it, or build without executing "
            "the notebooks: EVENTSTUDY_DOCS_EXECUTE=false python -m mkdocs build"
        )
    os.environ["EVENTSTUDY_SHARED_DIR"] = str(shared)
    os.environ["EVENTSTUDY_PRICES_DIR"] = str(prices)
    os.environ["EVENTSTUDY_OFFLINE"] = "1"
    os.environ["MPLBACKEND"] = "Agg"
    return config
