"""Grade responses that already exist, without regenerating them: `deploysim score`.

Each conversation's last assistant turn is graded against the turns before it. Rows that break the
conversation contract are quarantined with their reason, never dropped: rows in = scored + quarantined.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError

from deploysim.core.conversation import Conversation
from deploysim.core.grading import Evaluator, GradeItem
from deploysim.ingestion.production_log import RawRecord, read_log
from deploysim.ingestion.window import describe_validation_error

OUTPUT_COLUMNS = [
    "conversation_id",
    "model_version",
    "category",
    "label",
    "score",
    "detail",
    "evaluator",
    "evaluator_version",
    "error",
]
CHUNK = 1000


class ScoreReport(BaseModel):
    rows_in: int
    scored: int
    quarantined: int
    labels_written: int
    output: str
    quarantine_file: str | None


def _parse(record: RawRecord) -> tuple[Conversation | None, str | None]:
    if record.parse_error or record.payload is None:
        return None, record.parse_error or "empty row"
    try:
        return Conversation.model_validate(record.payload), None
    except ValidationError as error:
        return None, describe_validation_error(error)


def _item(conversation: Conversation) -> GradeItem:
    messages = [m.model_dump(exclude_none=True) for m in conversation.messages]
    last = messages[-1]
    return GradeItem(
        item_id=conversation.conversation_id,
        prefix=messages[:-1],
        response=last.get("content") or "",
        tool_calls=last.get("tool_calls"),
    )


class _Writer:
    """Appends label rows to JSONL, CSV or Parquet (chosen by the output's extension), chunk by chunk."""

    def __init__(self, path: Path) -> None:
        if not path.name.endswith((".jsonl", ".csv", ".parquet")):
            raise ValueError(f"output must end in .jsonl, .csv or .parquet: {path}")
        self.path = path
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self.path.suffix == ".parquet":
            table = pa.Table.from_pylist(rows, schema=_SCHEMA)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, _SCHEMA)
            self._parquet.write_table(table)
        elif self.path.suffix == ".csv":
            import csv

            with open(self.path, "a", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=OUTPUT_COLUMNS)
                if self.rows == 0:
                    writer.writeheader()
                writer.writerows(rows)
        else:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        self.rows += len(rows)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        elif self.rows == 0:
            self.path.write_text("")


_SCHEMA = pa.schema(
    [
        ("conversation_id", pa.string()),
        ("model_version", pa.string()),
        ("category", pa.string()),
        ("label", pa.bool_()),
        ("score", pa.float64()),
        ("detail", pa.string()),
        ("evaluator", pa.string()),
        ("evaluator_version", pa.string()),
        ("error", pa.string()),
    ]
)


def _chunks(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    while chunk := list(islice(records, size)):
        yield chunk


def score_log(
    source: Path,
    evaluators: Sequence[Evaluator],
    output: Path,
    *,
    deidentify: bool = False,
) -> ScoreReport:
    """Grade every conversation in `source` (JSONL, JSONL.gz or Parquet, a file or a folder).

    With `deidentify`, conversations pass the full de-identification tier first, as in the pipeline:
    required before any text is sent to a judge endpoint.
    """
    deidentifier = None
    if deidentify:
        from deploysim.privacy.deidentifier import Deidentifier  # spaCy: loaded only when asked for

        deidentifier = Deidentifier()
    writer = _Writer(output)
    quarantine_path = output.with_name(output.name + ".quarantine.jsonl")
    quarantine_path.unlink(missing_ok=True)
    rows_in = scored = quarantined = 0
    for chunk in _chunks(read_log(source), CHUNK):
        conversations: list[Conversation] = []
        problems = []
        for record in chunk:
            rows_in += 1
            conversation, reason = _parse(record)
            if conversation is None:
                # The reason and the row's place, never its text: the log may hold raw PII.
                problems.append({"source": record.source, "line_no": record.line_no, "reason": reason})
            else:
                conversations.append(conversation)
        if problems:
            with open(quarantine_path, "a", encoding="utf-8") as handle:
                handle.writelines(json.dumps(p) + "\n" for p in problems)
            quarantined += len(problems)
        if deidentifier is not None and conversations:
            conversations = [deidentifier.deidentify(c)[0] for c in conversations]
        items = [_item(c) for c in conversations]
        versions = {c.conversation_id: c.model_version for c in conversations}
        for evaluator in evaluators:
            grades = evaluator.grade(items) if items else []
            writer.write(
                [
                    {
                        "conversation_id": g.item_id,
                        "model_version": versions[g.item_id],
                        "category": g.category,
                        "label": g.label,
                        "score": g.score,
                        "detail": g.detail,
                        "evaluator": evaluator.name,
                        "evaluator_version": evaluator.version,
                        "error": g.error,
                    }
                    for g in grades
                ]
            )
        scored += len(items)
    writer.close()
    return ScoreReport(
        rows_in=rows_in,
        scored=scored,
        quarantined=quarantined,
        labels_written=writer.rows,
        output=str(output),
        quarantine_file=str(quarantine_path) if quarantined else None,
    )
