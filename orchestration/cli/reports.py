"""What the terminal says about a run: why it did not finish, in one line, and which rows it quarantined."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import dagster as dg

from deploysim.inference.types import rejection_message

#: Quarantined rows listed one per line; the rest are counted by reason.
LISTED_ROWS = 10


def _short(value: Any, limit: int = 160) -> str:
    text = str(getattr(value, "value", value)).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_summary(result: dg.ExecuteInProcessResult) -> str:
    """The failed blocking checks with their findings, else the first failed step's innermost error."""
    failed_checks = [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.blocking
    ]
    if failed_checks:
        return "; ".join(
            f"blocking check {e.check_name} on {e.asset_key.to_user_string()} failed ("
            + ", ".join(f"{key}: {_short(value)}" for key, value in list(e.metadata.items())[:3])
            + ")"
            for e in failed_checks
        )
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            if rejected := rejection_message(error):  # a 401 or an unknown model: that line says it all
                return rejected
            while error.cause is not None:
                error = error.cause
            message = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
            return f"step {event.step_key} failed: {_short(message, 300)}"
    return "the run failed before any step did"


def print_quarantine(database: Path, partition_key: str) -> None:
    """Rows the partition quarantined, by reason, and the first few with their line and id."""
    import duckdb

    try:
        with duckdb.connect(str(database), read_only=True) as con:
            rows = con.execute(
                "SELECT source, line_no, conversation_id, reason FROM quarantine "
                "WHERE partition_key = ? ORDER BY source, line_no",
                [partition_key],
            ).fetchall()
    except duckdb.Error:
        return  # no database yet, or the table is missing: nothing was quarantined
    if not rows:
        return
    print(f"[deploysim] {partition_key}: {len(rows)} rows quarantined (table quarantine):", file=sys.stderr)
    for source, line_no, conversation_id, reason in rows[:LISTED_ROWS]:
        who = f" {conversation_id}" if conversation_id else ""
        print(f"    {source}:{line_no}{who}: {_short(reason)}", file=sys.stderr)
    if len(rows) > LISTED_ROWS:
        print(f"    ... and {len(rows) - LISTED_ROWS} more", file=sys.stderr)
