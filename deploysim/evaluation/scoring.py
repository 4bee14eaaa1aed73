"""Stage 4, scoring: grade production responses and both regenerations with the same evaluator code.

The evaluators are handed in (orchestration picks them from the `evaluators` registry): this package only
knows their protocol, `deploysim.core.grading`.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.core.arms import Arm
from deploysim.core.grading import Evaluator, Grade, GradeItem
from deploysim.store.tables import replace_partition


class ScoringSummary(BaseModel):
    graded: dict[str, int]
    evaluators: dict[str, str]
    #: Grades that failed (e.g. a judge's output stayed malformed), per evaluator: recorded, never guessed.
    errors: dict[str, int]
    #: Share of labelled responses showing each category, over all arms: a quick read in the UI.
    positives: dict[str, float]


def _production_items(con: duckdb.DuckDBPyConnection, partition_key: str) -> pd.DataFrame:
    """Every served reply in the window: the observed production behaviour of the prior model."""
    frame = con.execute(
        """
        SELECT c.conversation_id, c.model_version, c.surface, c.messages,
               p.conversation_id IS NOT NULL AS in_sample
        FROM conversations c
        LEFT JOIN prefixes p USING (partition_key, conversation_id)
        WHERE c.partition_key = ?
        """,
        [partition_key],
    ).df()
    messages = frame.pop("messages").map(json.loads)
    frame["prefix"] = messages.map(lambda m: m[:-1])
    frame["response"] = messages.map(lambda m: m[-1].get("content") or "")
    frame["tool_calls"] = messages.map(lambda m: m[-1].get("tool_calls"))
    frame["arm"] = str(Arm.PRODUCTION)
    return frame


def _regenerated_items(con: duckdb.DuckDBPyConnection, partition_key: str) -> pd.DataFrame:
    frame = con.execute(
        """
        SELECT r.arm, r.model_version, r.conversation_id, p.surface, p.messages, r.content, r.tool_calls,
               TRUE AS in_sample
        FROM regenerations r JOIN prefixes p USING (partition_key, conversation_id)
        WHERE r.partition_key = ? AND r.status = 'ok'
        """,
        [partition_key],
    ).df()
    frame["prefix"] = frame.pop("messages").map(json.loads)
    frame["response"] = frame.pop("content").fillna("")
    frame["tool_calls"] = frame["tool_calls"].map(lambda t: json.loads(t) if isinstance(t, str) else None)
    return frame


#: Items graded by every evaluator before the next: fewer than `evaluators.shared` keeps.
CHUNK = 1000


def _rows(partition_key: str, evaluator: Evaluator, grades: list[Grade], meta: dict) -> list[dict]:
    rows = []
    for grade in grades:
        item = meta[grade.item_id]
        rows.append(
            {
                "partition_key": partition_key,
                "arm": item.arm,
                "model_version": item.model_version,
                "conversation_id": item.conversation_id,
                "surface": item.surface,
                "in_sample": bool(item.in_sample),
                "evaluator": evaluator.name,
                "evaluator_version": evaluator.version,
                "category": grade.category,
                "label": grade.label,
                "detail": grade.detail,
                "score": grade.score,
                "rationale": grade.rationale,
                "error": grade.error,
            }
        )
    return rows


def score_partition(
    con: duckdb.DuckDBPyConnection, partition_key: str, evaluators: list[Evaluator]
) -> ScoringSummary:
    items = pd.concat(
        [_production_items(con, partition_key), _regenerated_items(con, partition_key)], ignore_index=True
    )
    items["item_id"] = items["arm"] + ":" + items["conversation_id"]
    grade_items = [
        GradeItem(item_id=row.item_id, prefix=row.prefix, response=row.response, tool_calls=row.tool_calls)
        for row in items.itertuples(index=False)
    ]
    meta = {row.item_id: row for row in items.itertuples(index=False)}
    rows_by_evaluator: list[list[dict]] = [[] for _ in evaluators]
    # Chunk by chunk, every evaluator in turn: analyses evaluators share (the refusal rules) are then
    # computed once per item and still in memory when the next evaluator asks. Rows keep evaluator order.
    for start in range(0, len(grade_items), CHUNK):
        chunk = grade_items[start : start + CHUNK]
        for evaluator, rows in zip(evaluators, rows_by_evaluator, strict=True):
            rows += _rows(partition_key, evaluator, evaluator.grade(chunk), meta)
    frame = pd.DataFrame([row for rows in rows_by_evaluator for row in rows])
    replace_partition(con, "scores", partition_key, frame)
    labelled = frame[frame["label"].notna()] if len(frame) else frame
    return ScoringSummary(
        graded={str(k): int(v) for k, v in items["arm"].value_counts().items()},
        evaluators={e.name: e.version for e in evaluators},
        errors={str(k): int(v) for k, v in frame[frame["error"].notna()]["evaluator"].value_counts().items()}
        if len(frame)
        else {},
        positives={
            str(k): round(float(v), 4) for k, v in labelled.groupby("category")["label"].mean().items()
        }
        if len(labelled)
        else {},
    )


class GradedCount(BaseModel):
    #: Responses that must be graded: every production reply of the window, every successful regeneration.
    responses: int
    #: Score rows written (a failed grade is a row with its error and no label).
    labels: int
    errors: int


def graded_count(con: duckdb.DuckDBPyConnection, partition_key: str) -> GradedCount:
    responses, labels, errors = con.execute(
        """
        SELECT
          (SELECT count(*) FROM conversations WHERE partition_key = $1)
          + (SELECT count(*) FROM regenerations WHERE partition_key = $1 AND status = 'ok'),
          (SELECT count(*) FROM scores WHERE partition_key = $1),
          (SELECT count(*) FROM scores WHERE partition_key = $1 AND label IS NULL)
        """,
        [partition_key],
    ).fetchone()
    return GradedCount(responses=responses, labels=labels, errors=errors)
