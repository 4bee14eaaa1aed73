"""Stage 3: regenerate the final turn of each sampled prefix with the candidate and, as control, the prior."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.core.arms import Arm
from deploysim.inference.backends import SamplingParams
from deploysim.inference.cache import ResponseCache
from deploysim.inference.endpoint import Endpoint
from deploysim.inference.engine import Progress, run_requests
from deploysim.inference.rejection import record_not_attempted, rejection
from deploysim.inference.types import CallResult, ChatRequest, EndpointRejected, ErrorClass, ModelCallError
from deploysim.inference.usage import Usage
from deploysim.privacy.placeholders import DeidentifiedMessages
from deploysim.simulation.completeness import Completeness, regeneration_completeness
from deploysim.store.tables import columns_of, replace_partition

__all__ = ["ArmSummary", "Completeness", "regenerate", "regeneration_completeness", "usage_frame"]

#: Redacts a batch of responses (content and tool-call arguments) given their de-identified prefixes,
#: numbering new placeholders after the prefix's, and reports what it masked.
RedactResponses = Callable[
    [Sequence[dict[str, Any]], Sequence[list[dict[str, Any]]]], list[DeidentifiedMessages]
]


class ArmSummary(BaseModel):
    arm: Arm
    model_version: str
    endpoint: str
    prefixes: int
    ok: int
    #: Failures by class; an archive miss is recorded as "archive_miss", never invented.
    failed: dict[str, int]
    usage: dict[str, float | int | str | None]


def _status(result: CallResult) -> str:
    if result.output is not None:
        return "ok"
    return "miss" if result.error_class == ErrorClass.ARCHIVE_MISS else "failed"


def count_prefixes(con: duckdb.DuckDBPyConnection, partition_key: str) -> int:
    row = con.execute("SELECT count(*) FROM prefixes WHERE partition_key = ?", [partition_key]).fetchone()
    return int(row[0]) if row else 0


def iter_requests(
    con: duckdb.DuckDBPyConnection, partition_key: str, sampling: SamplingParams, page_size: int = 1000
) -> Iterator[tuple[str, ChatRequest]]:
    """The sampled prefixes, page by page (keyset pagination): 100k prefixes never sit in memory."""
    after = ""
    while True:
        page = con.execute(
            "SELECT conversation_id, messages, tools FROM prefixes "
            "WHERE partition_key = ? AND conversation_id > ? ORDER BY conversation_id LIMIT ?",
            [partition_key, after, page_size],
        ).fetchall()
        if not page:
            return
        for conversation_id, messages, tools in page:
            request = ChatRequest(
                messages=json.loads(messages), tools=json.loads(tools) if tools else None, sampling=sampling
            )
            yield conversation_id, request
        after = page[-1][0]


class RegenerationWriter:
    """Buffers one arm's results and appends them to `regenerations` whenever the engine flushes.

    Responses are redacted in the same batches, so no raw model text ever lands in a table.
    """

    COLUMNS = columns_of("regenerations")

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        partition_key: str,
        arm: Arm,
        model_version: str,
        redact: RedactResponses,
    ) -> None:
        self._con = con
        self._partition_key = partition_key
        self._arm = arm
        self._model_version = model_version
        self._redact = redact
        self._buffer: list[CallResult] = []
        self.ok = 0
        self.rows = 0

    def add(self, result: CallResult) -> None:
        self._buffer.append(result)

    def _prefixes(self, conversation_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        rows = self._con.execute(
            "SELECT conversation_id, messages FROM prefixes WHERE partition_key = ? "
            "AND conversation_id IN (SELECT unnest(?))",
            [self._partition_key, conversation_ids],
        ).fetchall()
        return {cid: json.loads(messages) for cid, messages in rows}

    def flush(self) -> None:
        if not self._buffer:
            return
        answered = [r for r in self._buffer if r.output is not None]
        prefixes = self._prefixes([r.item_id for r in answered])
        redacted = iter(
            self._redact(
                [
                    {
                        "role": "assistant",
                        "content": r.output.content or "",
                        "tool_calls": r.output.tool_calls,
                    }
                    for r in answered
                    if r.output is not None
                ],
                [prefixes[r.item_id] for r in answered],
            )
        )
        rows = []
        for result in self._buffer:
            output = result.output
            clean: dict[str, Any] = {}
            masked: dict[str, int] = {}
            if output is not None:
                found = next(redacted)
                clean, masked = found.messages[0], dict(found.entity_counts)
            rows.append(
                {
                    "partition_key": self._partition_key,
                    "arm": self._arm,
                    "model_version": self._model_version,
                    "conversation_id": result.item_id,
                    "status": _status(result),
                    "content": (clean.get("content") or None) if output else None,
                    "tool_calls": json.dumps(clean["tool_calls"]) if clean.get("tool_calls") else None,
                    "redacted_entities": json.dumps(masked) if output else None,
                    "finish_reason": output.finish_reason if output else None,
                    "error_class": result.error_class,
                    "error_message": result.error_message,
                    "prompt_tokens": output.prompt_tokens if output else None,
                    "completion_tokens": output.completion_tokens if output else None,
                    "latency_ms": result.latency_ms,
                    "cached": result.cached,
                    "attempts": result.attempts,
                }
            )
        frame = pd.DataFrame(rows)
        self._con.register("_regeneration_batch", frame)
        try:
            # The prefix hash is joined in here rather than carried through the engine.
            names = ", ".join(self.COLUMNS)
            values = ", ".join("p.prefix_hash" if c == "prefix_hash" else f"b.{c}" for c in self.COLUMNS)
            self._con.execute(
                f"INSERT INTO regenerations ({names}) SELECT {values} FROM _regeneration_batch b "
                "JOIN prefixes p USING (partition_key, conversation_id)"
            )
        finally:
            self._con.unregister("_regeneration_batch")
        self.ok += len(answered)
        self.rows += len(rows)
        self._buffer.clear()


def regenerate(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    arms: dict[Arm, Endpoint],
    *,
    redact: RedactResponses,
    journal_dir: Path | None = None,
    progress: Callable[[str, Progress], None] | None = None,
) -> list[ArmSummary]:
    """Each prefix gets exactly one row per arm: a response, or a failure with its class.

    Rows are appended in batches as results arrive; completed calls are cached (and journalled), so a
    killed run, rerun, sends only the calls that never completed. Every response is redacted before it
    lands: archive responses are recorded production data, and grading every arm on equally
    de-identified text keeps the comparison fair.

    An endpoint that rejects the run (bad key, unknown model) stops it: its unanswered prefixes, and
    every prefix of the arms after it, are recorded "not attempted", the accounting is written, and
    then EndpointRejected is raised.
    """
    total = count_prefixes(con, partition_key)
    cache = ResponseCache(con, journal_dir)
    con.execute("DELETE FROM regenerations WHERE partition_key = ?", [partition_key])
    summaries = []
    rejected: EndpointRejected | None = None
    try:
        for arm, endpoint in arms.items():
            writer = RegenerationWriter(con, partition_key, arm, endpoint.name, redact)
            report = (lambda p, name=arm: progress(name, p)) if progress else None
            requests = iter_requests(con, partition_key, endpoint.sampling)
            usage, stopped = _run_arm(endpoint, requests, cache, writer, report, total, rejected)
            rejected = rejected or stopped
            writer.flush()
            summaries.append(
                ArmSummary(
                    arm=arm,
                    model_version=endpoint.name,
                    endpoint=usage.endpoint,
                    prefixes=writer.rows,
                    ok=writer.ok,
                    failed=dict(usage.failures),
                    usage=usage.as_metadata(),
                )
            )
    finally:
        cache.close()
    replace_partition(con, "model_usage", partition_key, usage_frame(partition_key, summaries))
    if rejected is not None:
        raise rejected
    return summaries


def _run_arm(
    endpoint: Endpoint,
    requests: Iterator[tuple[str, ChatRequest]],
    cache: ResponseCache,
    writer: RegenerationWriter,
    report: Callable[[Progress], None] | None,
    total: int,
    earlier: EndpointRejected | None,
) -> tuple[Usage, EndpointRejected | None]:
    """One arm through the engine; without a call when an earlier arm was rejected or no client builds."""
    address = endpoint.backend.address

    def skip(reason: str) -> Usage:
        return record_not_attempted(
            requests,
            reason,
            writer.add,
            address,
            on_flush=writer.flush,
            batch_size=endpoint.settings.batch_size,
        )

    if earlier is not None:
        return skip(earlier.message), None
    try:
        client = endpoint.client()
    except ModelCallError as error:
        if not error.stops_run:
            raise
        rejected = rejection(endpoint.name, address, error)
        return skip(rejected.message), rejected
    usage = Usage(address)
    try:
        usage = run_requests(
            client,
            requests,
            cache=cache,
            settings=endpoint.settings,
            on_result=writer.add,
            on_flush=writer.flush,
            progress=report,
            total=total,
            name=endpoint.name,
            usage=usage,
        )
    except EndpointRejected as rejected:
        return usage, rejected
    return usage, None


def usage_frame(partition_key: str, summaries: list[ArmSummary]) -> pd.DataFrame:
    """One accounting row per arm (model version) of the partition."""
    return pd.DataFrame(
        [
            {
                "partition_key": partition_key,
                "arm": s.arm,
                "model_version": s.model_version,
                "endpoint": s.endpoint,
                "prefixes": s.prefixes,
                "ok": s.ok,
                "calls": s.usage["openai.calls"],
                "cached_calls": s.usage["openai.cached_calls"],
                "attempts": s.usage["openai.attempts"],
                "prompt_tokens": s.usage["openai.prompt_tokens"],
                "completion_tokens": s.usage["openai.completion_tokens"],
                "cost_usd": s.usage["openai.cost_usd"],
                "failures": json.dumps(s.failed),
                "latency_p50_ms": s.usage["openai.latency_p50_ms"],
                "latency_p95_ms": s.usage["openai.latency_p95_ms"],
                "latency_p99_ms": s.usage["openai.latency_p99_ms"],
                "wall_s": s.usage["openai.wall_s"],
            }
            for s in summaries
        ]
    )
