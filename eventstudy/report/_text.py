"""Small text helpers shared by the report's writers: file-name slugs and Markdown tables."""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["slug", "md_table"]


def slug(text: str) -> str:
    """``"vs SPY+SOXX"`` -> ``"vs-spy-soxx"``: a label as a file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def md_table(frame: pd.DataFrame) -> str:
    """``frame`` as a Markdown table without its index; ``(none)`` when it has no rows."""
    return frame.to_markdown(index=False) if len(frame) else "(none)"
