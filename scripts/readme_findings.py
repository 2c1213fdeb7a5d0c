#!/usr/bin/env python3
"""Rewrite the README's computed block ("What the default study finds") from the default report's results.

    python scripts/readme_findings.py            # after `eventstudy report ...` has rewritten results/

Every number and verdict in the block comes from ``results/ai-diffusion-rescission/results.json``
(:func:`eventstudy.report.findings.findings_markdown`); ``tests/report/test_findings.py`` fails when the
committed README and the committed results disagree.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from eventstudy.report.findings import update_readme

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--results", type=Path, default=REPO / "results" / "ai-diffusion-rescission" / "results.json")
    args = parser.parse_args(argv)
    changed = update_readme(args.readme, args.results)
    print(f"{args.readme.name}: {'rewritten' if changed else 'already current'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
