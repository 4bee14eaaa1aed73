"""Grade responses that already exist, without regenerating them: `deploysim score`.

Each conversation's last assistant turn is graded against the turns before it. Rows that break the
conversation contract or its limits are quarantined with their reason, never dropped, and so is every
repeat of a conversation_id after the first: rows in = scored + quarantined. The input is a production log
(JSONL, JSON, Parquet, gzipped or not; see `deploysim.ingestion.production_log`) or CSV in the layout of
`deploysim.ingestion.csv_log`. Outputs are written beside their final name and moved into place at the
end, so a failed run leaves no half-written labels and never touches the input.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError

from deploysim.core.conversation import ContractLimits, Conversation, contract_problem
from deploysim.core.grading import Evaluator, GradeItem
from deploysim.ingestion.csv_log import header_problem
from deploysim.ingestion.production_log import RawRecord, log_format, read_scan, scan_log
from deploysim.ingestion.quarantine import describe_validation_error

if TYPE_CHECKING:  # Presidio pulls in spaCy: imported only when de-identification is asked for.
    from deploysim.privacy.deidentifier import Deidentifier

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
OUTPUT_SUFFIXES = (".jsonl", ".csv", ".parquet")


class ScoreInputError(ValueError):
    """Arguments or input that cannot be scored at all: said in one line, before anything is written."""


class SkippedInput(BaseModel):
    path: str
    reason: str


class ScoreReport(BaseModel):
    rows_in: int
    scored: int
    quarantined: int
    #: Of the quarantined rows, those that repeat a conversation_id scored earlier in the input.
    duplicates: int = 0
    labels_written: int
    output: str
    quarantine_file: str | None
    skipped_files: list[SkippedInput] = []


def quarantine_path(output: Path) -> Path:
    return output.with_name(output.name + ".quarantine.jsonl")


def check_paths(source: Path, output: Path) -> None:
    """Refuse what would destroy or re-read the input: an output that is the input, or inside it."""
    if not output.name.lower().endswith(OUTPUT_SUFFIXES):
        raise ScoreInputError(f"--output must end in .jsonl, .csv or .parquet: {output}")
    if not source.exists():
        raise ScoreInputError(f"input not found: {source}")
    root = source.resolve()
    for target in (output, quarantine_path(output)):
        resolved = target.resolve()
        if resolved == root or (target.exists() and source.is_file() and os.path.samefile(target, source)):
            raise ScoreInputError(f"--output {target} is the input itself; write the labels to another file")
        if source.is_dir() and resolved.is_relative_to(root):
            raise ScoreInputError(
                f"--output {target} is inside the input folder {source}, where it would be read as input; "
                "write it outside that folder"
            )


def _parse(record: RawRecord, limits: ContractLimits) -> tuple[Conversation | None, str | None]:
    if record.parse_error or record.payload is None:
        return None, record.parse_error or "empty row"
    if json_errors := record.payload.get("_json_errors"):
        return None, "; ".join(json_errors)
    try:
        conversation = Conversation.model_validate(record.payload)
    except ValidationError as error:
        return None, describe_validation_error(error)
    problem = contract_problem(conversation, limits)
    return (None, problem) if problem else (conversation, None)


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
    """Appends label rows to JSONL, CSV or Parquet (chosen by the output's extension), chunk by chunk, in
    a hidden file beside the output that `close` moves into place."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.kind = output.suffix.lower()
        self.path = output.with_name(f".{output.name}.partial")
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        output.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self.kind == ".parquet":
            table = pa.Table.from_pylist(rows, schema=_SCHEMA)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, _SCHEMA)
            self._parquet.write_table(table)
        elif self.kind == ".csv":
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
        os.replace(self.path, self.output)

    def abandon(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        self.path.unlink(missing_ok=True)


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
    limits: ContractLimits | None = None,
) -> ScoreReport:
    """Grade every conversation in `source` (a file or a folder; CSV files in the `csv_log` layout too).

    With `deidentify`, conversations pass the full de-identification tier first, as in the pipeline:
    required before any text is sent to a judge endpoint. Raises `ScoreInputError` before writing anything
    when the paths or the input cannot be scored.
    """
    check_paths(source, output)
    scan = scan_log(source, csv=True)
    skipped = [SkippedInput(path=s.path, reason=s.reason) for s in scan.skipped]
    if not scan.read:
        found = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5]) or "no files"
        raise ScoreInputError(f"nothing to score in {source} ({found})")
    for file in scan.read:
        if log_format(file, csv=True) == "csv" and (problem := header_problem(file)) is not None:
            raise ScoreInputError(problem)
    deidentifier = None
    if deidentify:
        from deploysim.privacy.deidentifier import Deidentifier

        deidentifier = Deidentifier()
    writer = _Writer(output)
    problems_path = quarantine_path(output)
    partial = problems_path.with_name(f".{problems_path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        counts = _score_records(
            read_scan(scan), evaluators, writer, partial, deidentifier, limits or ContractLimits()
        )
        writer.close()
    except BaseException:
        writer.abandon()
        partial.unlink(missing_ok=True)
        raise
    rows_in, scored, quarantined, duplicates = counts
    if quarantined:
        os.replace(partial, problems_path)
    else:
        problems_path.unlink(missing_ok=True)
    return ScoreReport(
        rows_in=rows_in,
        scored=scored,
        quarantined=quarantined,
        duplicates=duplicates,
        labels_written=writer.rows,
        output=str(output),
        quarantine_file=str(problems_path) if quarantined else None,
        skipped_files=skipped,
    )


def _score_records(
    records: Iterator[RawRecord],
    evaluators: Sequence[Evaluator],
    writer: _Writer,
    problems_path: Path,
    deidentifier: Deidentifier | None,
    limits: ContractLimits,
) -> tuple[int, int, int, int]:
    rows_in = scored = quarantined = duplicates = 0
    seen: dict[str, str] = {}
    for chunk in _chunks(records, CHUNK):
        conversations: list[Conversation] = []
        problems = []
        for record in chunk:
            rows_in += 1
            conversation, reason = _parse(record, limits)
            if conversation is not None and conversation.conversation_id in seen:
                duplicates += 1
                reason = f"duplicate conversation_id, first seen at {seen[conversation.conversation_id]}"
                conversation = None
            if conversation is None:
                # The reason and the row's place, never its text: the log may hold raw PII.
                problems.append({"source": record.source, "line_no": record.line_no, "reason": reason})
                continue
            seen[conversation.conversation_id] = f"{record.source}:{record.line_no}"
            conversations.append(conversation)
        if problems:
            with open(problems_path, "a", encoding="utf-8") as handle:
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
    return rows_in, scored, quarantined, duplicates
