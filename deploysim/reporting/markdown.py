"""The one markdown-table writer: reports, metadata tables and the command line all use it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def cell(value: Any) -> str:
    """A value as table text: floats to four significant figures, NaN as n/a, pipes and newlines escaped."""
    text = str(value)
    if isinstance(value, float):
        text = "n/a" if value != value else f"{value:,.4g}"
    return " ".join(text.replace("|", "\\|").split())


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """Lines of a markdown table: the header, its rule and one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines


def records_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A table whose columns are the first record's keys; `_none_` when there are no rows."""
    if not rows:
        return "_none_"
    columns = list(rows[0])
    return "\n".join(table(columns, ([row.get(c) for c in columns] for row in rows)))
