"""A per-release grader audit: a stratified sample of the candidate's graded responses, labelled by a human.

`draw_audit` samples, per category, up to `per_stratum` flagged and as many unflagged responses
(seeded), and records what it drew from; `write_labelling_files` writes them as CSV and JSONL with an
empty `human_label`; `prelabel` fills a judge's label for a human to confirm; `audit_labels` reads a
labelled file back. The labels then correct this release's rates (the two-phase estimator in
`deploysim.stats.intervals`), because the evaluators' own validation is on other models' text.

Only de-identified text is exported: prefixes from `prefixes` (full tier) and responses from
`regenerations` (redacted before they were stored).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.core.arms import Arm
from deploysim.core.grading import Evaluator, GradeItem
from deploysim.core.hashing import content_hash
from deploysim.store.tables import columns_of

#: What a labeller sees of the prefix: its last messages, at most this many characters.
PREFIX_CHARS = 2_000
#: Columns of the labelling file, in order; a labeller fills `human_label` (and may add `notes`).
FILE_COLUMNS = [
    "audit_id",
    "category",
    "conversation_id",
    "stratum",
    "evaluator_label",
    "judge_label",
    "human_label",
    "notes",
    "prefix",
    "response",
]


class AuditItem(BaseModel):
    audit_id: str
    partition_key: str
    category: str
    evaluator: str
    evaluator_version: str
    conversation_id: str
    stratum: str
    evaluator_label: bool
    judge_label: bool | None = None
    human_label: bool | None = None
    prefix: str
    response: str


class Audit(BaseModel):
    audit_id: str
    partition_key: str
    seed: int
    per_stratum: int
    #: Graded candidate responses per category and stratum, the population each stratum was drawn from.
    population: dict[str, dict[str, int]]
    evaluator_versions: dict[str, str]
    items: list[AuditItem]


def _render_prefix(messages: list[dict[str, Any]]) -> str:
    lines = []
    for message in messages:
        text = message.get("content") or ""
        for call in message.get("tool_calls") or []:
            text += f" [tool call {call['function']['name']}({call['function']['arguments']})]"
        lines.append(f"{message['role'].upper()}: {text}")
    return "\n".join(lines)[-PREFIX_CHARS:]


def _graded_candidate(con: duckdb.DuckDBPyConnection, partition_key: str) -> pd.DataFrame:
    return con.execute(
        """
        SELECT s.category, s.evaluator, s.evaluator_version, s.conversation_id, s.label,
               p.messages, r.content, r.tool_calls
        FROM scores s
        JOIN regenerations r ON r.partition_key = s.partition_key AND r.arm = s.arm
             AND r.conversation_id = s.conversation_id
        JOIN prefixes p ON p.partition_key = s.partition_key AND p.conversation_id = s.conversation_id
        WHERE s.partition_key = ? AND s.arm = ? AND s.label IS NOT NULL
        ORDER BY s.category, s.conversation_id
        """,
        [partition_key, Arm.CANDIDATE],
    ).df()


def draw_audit(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    *,
    per_stratum: int,
    seed: int,
    categories: Iterable[str] | None = None,
) -> Audit:
    """Per category, `per_stratum` flagged and `per_stratum` unflagged responses (all of a smaller one)."""
    graded = _graded_candidate(con, partition_key)
    wanted = set(categories) if categories is not None else set(graded["category"])
    graded = graded[graded["category"].isin(wanted)]
    if graded.empty:
        raise ValueError(
            f"{partition_key} has no graded candidate responses to audit; run its simulation first"
        )
    versions = {
        str(row.evaluator): str(row.evaluator_version)
        for row in graded[["evaluator", "evaluator_version"]].drop_duplicates().itertuples()
    }
    audit_id = content_hash(
        {"partition": partition_key, "seed": seed, "n": per_stratum, "versions": versions}
    )[:12]
    rng = random.Random(seed)
    population: dict[str, dict[str, int]] = {}
    items = []
    for (category, label), stratum in graded.groupby(["category", "label"], sort=True):
        name = "flagged" if label else "unflagged"
        population.setdefault(str(category), {})[name] = len(stratum)
        rows = list(stratum.itertuples(index=False))
        for row in sorted(rng.sample(rows, min(per_stratum, len(rows))), key=lambda r: r.conversation_id):
            response = row.content or ""
            if isinstance(row.tool_calls, str):
                calls = json.loads(row.tool_calls)
                response += "".join(
                    f"\n[tool call {c['function']['name']}({c['function']['arguments']})]" for c in calls
                )
            items.append(
                AuditItem(
                    audit_id=audit_id,
                    partition_key=partition_key,
                    category=str(category),
                    evaluator=str(row.evaluator),
                    evaluator_version=str(row.evaluator_version),
                    conversation_id=str(row.conversation_id),
                    stratum=name,
                    evaluator_label=bool(label),
                    prefix=_render_prefix(json.loads(row.messages)),
                    response=response,
                )
            )
    return Audit(
        audit_id=audit_id,
        partition_key=partition_key,
        seed=seed,
        per_stratum=per_stratum,
        population=population,
        evaluator_versions=versions,
        items=items,
    )


def save_audit(con: duckdb.DuckDBPyConnection, audit: Audit) -> None:
    """Record the audit and its items (without human labels); a re-export of the same audit replaces it."""
    con.execute("DELETE FROM audit_labels WHERE audit_id = ?", [audit.audit_id])
    con.execute("DELETE FROM audits WHERE audit_id = ?", [audit.audit_id])
    con.execute(
        "INSERT INTO audits (audit_id, partition_key, seed, per_stratum, population, evaluator_versions) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            audit.audit_id,
            audit.partition_key,
            audit.seed,
            audit.per_stratum,
            json.dumps(audit.population),
            json.dumps(audit.evaluator_versions),
        ],
    )
    columns = [c for c in columns_of("audit_labels") if c != "labelled_at"]
    frame = pd.DataFrame([item.model_dump(include=set(columns)) for item in audit.items], columns=columns)
    con.register("_audit_items", frame)
    try:
        names = ", ".join(columns)
        con.execute(f"INSERT INTO audit_labels ({names}) SELECT {names} FROM _audit_items")
    finally:
        con.unregister("_audit_items")


def write_labelling_files(audit: Audit, directory: Path) -> tuple[Path, Path]:
    """`<audit_id>.csv` for a spreadsheet and `<audit_id>.jsonl` for tools: the same rows."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            **item.model_dump(include=set(FILE_COLUMNS)),
            "judge_label": "" if item.judge_label is None else str(item.judge_label).lower(),
            "evaluator_label": str(item.evaluator_label).lower(),
            "human_label": "",
            "notes": "",
        }
        for item in audit.items
    ]
    csv_path, jsonl_path = directory / f"{audit.audit_id}.csv", directory / f"{audit.audit_id}.jsonl"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FILE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with jsonl_path.open("w", encoding="utf-8") as handle:
        handle.writelines(
            json.dumps({c: row[c] for c in FILE_COLUMNS}, ensure_ascii=False) + "\n" for row in rows
        )
    return csv_path, jsonl_path


def prelabel(con: duckdb.DuckDBPyConnection, audit: Audit, judges: dict[str, Evaluator]) -> Audit:
    """Fill `judge_label` where a judge exists for the item's category, for a human to confirm or correct.

    The judge reads the same de-identified prefix and response the labeller sees; a judge call that fails
    leaves the label empty.
    """
    wanted = [item for item in audit.items if item.category in judges]
    if not wanted:
        return audit
    rows = con.execute(
        """
        SELECT p.conversation_id, p.messages, r.content, r.tool_calls
        FROM prefixes p JOIN regenerations r USING (partition_key, conversation_id)
        WHERE p.partition_key = ? AND r.arm = ? AND p.conversation_id IN (SELECT unnest(?))
        """,
        [audit.partition_key, Arm.CANDIDATE, sorted({item.conversation_id for item in wanted})],
    ).fetchall()
    graded = {
        cid: (json.loads(messages), content or "", json.loads(calls) if isinstance(calls, str) else None)
        for cid, messages, content, calls in rows
    }
    labels: dict[tuple[str, str], bool | None] = {}
    for category, judge in judges.items():
        items = [
            GradeItem(item_id=i.conversation_id, prefix=graded[i.conversation_id][0],
                      response=graded[i.conversation_id][1], tool_calls=graded[i.conversation_id][2])
            for i in wanted
            if i.category == category and i.conversation_id in graded
        ]  # fmt: skip
        for grade in judge.grade(items) if items else []:
            labels[(category, grade.item_id)] = grade.label
    updated = [
        item.model_copy(update={"judge_label": labels.get((item.category, item.conversation_id))})
        for item in audit.items
    ]
    return audit.model_copy(update={"items": updated})
