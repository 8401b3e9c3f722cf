"""Rich display in Jupyter and plain tables in a terminal, for records given as dicts; everything escaped; and
pandas, imported only when a DataFrame is asked for."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any


def pandas() -> Any:
    """pandas, imported only when a DataFrame is asked for (it is an optional dependency)."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("this needs pandas: pip install 'kraken[pandas]'") from exc
    return pd


def cell(value: Any) -> str:
    """A value as one short line of text."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return str(value)


def html_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str | None = None) -> str:
    """An HTML table of `columns` of `rows`; every name and value goes through html.escape."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell(row.get(c)))}</td>" for c in columns) + "</tr>" for row in rows
    )
    caption = f"<caption>{html.escape(title)}</caption>" if title else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def text_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Columns aligned with spaces, for a person at a terminal."""
    cells = [[cell(row.get(c)).replace("\n", " ") for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = [[c.upper() for c in columns], *cells]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines)
