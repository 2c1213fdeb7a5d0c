"""``python -m eventstudy``: the same command line as the ``eventstudy`` console script."""

from __future__ import annotations

from eventstudy.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
