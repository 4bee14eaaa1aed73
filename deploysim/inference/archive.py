"""The archive backend: recorded responses of a historical version, keyed by the hash of the prefix as the
pipeline replays it (de-identified). `ArchiveClient` replays them; `read_recorded` reads and checks the
recorded rows line by line, and `archive_records` builds an archive from them."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from deploysim.core.conversation import ContractLimits, Message, messages_payload, unicode_problem
from deploysim.core.hashing import prefix_hash
from deploysim.inference.types import ChatRequest, ErrorClass, ModelCallError, ModelOutput

#: The full de-identification tier applied to a batch of prefixes (message lists), as sampling applies it.
DeidentifyPrefixes = Callable[[list[list[dict[str, Any]]]], list[list[dict[str, Any]]]]


class ArchiveClient:
    """Replays what a version really answered. A prefix it never saw is a miss, never invented."""

    cacheable = False
    usd_per_million_input_tokens = 0.0
    usd_per_million_output_tokens = 0.0

    def __init__(self, path: Path) -> None:
        self.endpoint = f"archive:{path.name}"  # as ArchiveBackend.address
        self.scope = self.endpoint
        self._responses: dict[str, dict] = {}
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                self._responses[record["prefix_hash"]] = record["response"]

    def __len__(self) -> int:
        return len(self._responses)

    async def generate(self, request: ChatRequest) -> ModelOutput:
        response = self._responses.get(request.prefix_hash)
        if response is None:
            raise ModelCallError(ErrorClass.ARCHIVE_MISS, "no recorded response for this prefix")
        return ModelOutput(
            content=response.get("content"),
            tool_calls=response.get("tool_calls"),
            finish_reason=response.get("finish_reason", "stop"),
        )

    async def aclose(self) -> None:
        return None


def archive_records(
    recorded: Iterable[dict[str, Any]], deidentify_prefixes: DeidentifyPrefixes
) -> list[dict[str, Any]]:
    """Key each recorded response by the hash of its prefix as the pipeline will replay it: de-identified.

    `recorded` rows are {"messages": [...prefix...], "tools": [...] | None, "response": {"content": ...}}.
    """
    rows = list(recorded)
    cleaned = deidentify_prefixes([row["messages"] for row in rows])
    return [
        {"prefix_hash": prefix_hash(messages, row.get("tools")), "response": row["response"]}
        for row, messages in zip(rows, cleaned, strict=True)
    ]


def write_jsonl_gz(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Byte-reproducible: sorted keys, no timestamp in the gzip header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        for row in rows:
            handle.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode())
    path.write_bytes(buffer.getvalue())


@dataclass(frozen=True)
class RecordedProblem:
    """A recorded line left out of the archive: its file, its 1-based line number and why."""

    source: str
    line_no: int
    reason: str


@dataclass
class RecordedRows:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RecordedProblem] = field(default_factory=list)
    lines_read: int = 0


def _describe(error: ValidationError, where: str) -> str:
    item = error.errors()[0]
    location = ".".join(str(part) for part in item["loc"])
    return f"{where}{'.' + location if location else ''}: {item['msg']}"


def check_recorded_row(row: Any, limits: ContractLimits) -> tuple[dict[str, Any] | None, str | None]:
    """The row with its prefix in the pipeline's own message form (so keys match what sampling hashes),
    or why it cannot be archived."""
    if not isinstance(row, dict):
        return None, "a recorded row must be a JSON object"
    messages, tools, response = row.get("messages"), row.get("tools"), row.get("response")
    if not isinstance(messages, list) or not messages:
        return None, "messages: must be a non-empty list of chat messages (the prefix)"
    if tools is not None and not (isinstance(tools, list) and all(isinstance(t, dict) for t in tools)):
        return None, "tools: must be null or a list of tool schemas"
    if not isinstance(response, dict):
        return None, 'response: must be an object such as {"content": "..."}'
    try:
        parsed = [Message.model_validate(m) for m in messages]
    except ValidationError as error:
        return None, _describe(error, "messages")
    try:
        Message.model_validate({**response, "role": "assistant"})
    except ValidationError as error:
        return None, _describe(error, "response")
    total = sum(len(text) for message in parsed for text in message.texts)
    if total > limits.max_conversation_chars:
        return (
            None,
            f"too large for de-identification ({total:,} characters > {limits.max_conversation_chars:,})",
        )
    clean = {**row, "messages": messages_payload(parsed)}
    parts = {f"messages.{i}": m for i, m in enumerate(clean["messages"])} | {
        "response": response,
        "tools": tools,
    }
    try:
        for name, part in parts.items():
            if (
                problem := unicode_problem(json.dumps(part, ensure_ascii=False, allow_nan=False))
            ) is not None:
                return None, f"{name}: {problem}"
        prefix_hash(clean["messages"], tools)
    except (TypeError, ValueError, RecursionError) as error:
        return None, f"cannot be stored: {type(error).__name__}: {error}"[:200]
    return clean, None


def _lines(path: Path) -> Iterator[bytes]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        yield from handle


def read_recorded(paths: Sequence[Path], limits: ContractLimits | None = None) -> RecordedRows:
    """Every line of every file: a recorded row, or a problem with its line; one bad line never stops it."""
    limits = limits or ContractLimits()
    result = RecordedRows()
    for path in paths:
        line_no = 0
        try:
            for line_no, raw in enumerate(_lines(path), start=1):
                result.lines_read += 1
                row, reason = _parse_recorded(raw, limits)
                if reason is not None:
                    result.problems.append(RecordedProblem(str(path), line_no, reason))
                elif row is not None:
                    result.rows.append(row)
        except (OSError, EOFError, zlib.error) as error:
            reason = f"unreadable file after line {line_no}: {type(error).__name__}: {error}"[:300]
            result.problems.append(RecordedProblem(str(path), line_no + 1, reason))
    return result


def _parse_recorded(raw: bytes, limits: ContractLimits) -> tuple[dict[str, Any] | None, str | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"not valid UTF-8 (byte {error.start})"
    if not text.strip():
        return None, None
    try:
        row = json.loads(text)
    except RecursionError:
        return None, "nested too deeply"
    except json.JSONDecodeError as error:
        return None, f"invalid JSON: {error.msg} (column {error.colno})"
    except ValueError as error:
        return None, f"invalid JSON: {error}"[:200]
    return check_recorded_row(row, limits)


def write_problems(path: Path, problems: Iterable[RecordedProblem]) -> None:
    """The left-out lines as JSON Lines: file, line and reason, never the line's text (it may hold PII)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for problem in problems:
            record = {"source": problem.source, "line_no": problem.line_no, "reason": problem.reason}
            handle.write(json.dumps(record) + "\n")
