"""Reading a labelled audit file back: each row validated, bad rows quarantined with line and reason."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


class ImportReport(BaseModel):
    audit_id: str | None
    #: Rows read = labelled + unlabelled + quarantined.
    rows: int
    labelled: int
    unlabelled: int
    quarantined: list[tuple[int, str]]


def _parse_label(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"human_label {text[:20]!r} is not one of true/false, yes/no, 1/0")


def _read_rows(path: Path) -> Iterable[tuple[int, dict[str, Any] | None, str | None]]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            for line_no, row in enumerate(csv.DictReader(handle), start=2):
                yield line_no, row, None
        return
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                yield line_no, None, f"invalid JSON: {error.msg}"
                continue
            if isinstance(row, dict):
                yield line_no, row, None
            else:
                yield line_no, None, "a row must be a JSON object"


def import_labels(con: duckdb.DuckDBPyConnection, path: Path) -> ImportReport:
    """Store the human labels of a labelled audit file (.csv or .jsonl). A row that names no item of a known
    audit, changes the evaluator's label, has an unreadable label, or repeats an item with another label is
    quarantined with its line and reason; an empty label leaves the item unlabelled."""
    if path.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"{path}: an audit file must be .csv or .jsonl")
    known = {
        (audit_id, category, cid): (stratum, label)
        for audit_id, category, cid, stratum, label in con.execute(
            "SELECT audit_id, category, conversation_id, stratum, evaluator_label FROM audit_labels"
        ).fetchall()
    }
    labels: dict[tuple[str, str, str], bool] = {}
    quarantined: list[tuple[int, str]] = []
    rows = unlabelled = 0
    audit_ids: set[str] = set()
    for line_no, row, problem in _read_rows(path):
        rows += 1
        if row is None:
            quarantined.append((line_no, problem or "unreadable row"))
            continue
        key = (
            str(row.get("audit_id") or ""),
            str(row.get("category") or ""),
            str(row.get("conversation_id") or ""),
        )
        if key not in known:
            quarantined.append(
                (line_no, "no exported audit holds this (audit_id, category, conversation_id)")
            )
            continue
        try:
            exported = _parse_label(row.get("evaluator_label"))
            human = _parse_label(row.get("human_label"))
        except ValueError as error:
            quarantined.append((line_no, str(error)))
            continue
        if exported is not None and exported != known[key][1]:
            quarantined.append((line_no, "evaluator_label differs from the exported one; re-export instead"))
            continue
        if human is None:
            unlabelled += 1
            continue
        if key in labels and labels[key] != human:
            quarantined.append((line_no, "the same item is labelled twice, differently"))
            continue
        labels[key] = human
        audit_ids.add(key[0])
    for (audit_id, category, cid), human in labels.items():
        con.execute(
            "UPDATE audit_labels SET human_label = ?, labelled_at = now() "
            "WHERE audit_id = ? AND category = ? AND conversation_id = ?",
            [human, audit_id, category, cid],
        )
    return ImportReport(
        audit_id=",".join(sorted(audit_ids)) or None,
        rows=rows,
        labelled=len(labels),
        unlabelled=unlabelled,
        quarantined=quarantined,
    )
