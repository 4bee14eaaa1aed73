"""Stage 3: regenerate the final turn of each sampled prefix with the candidate and, as control, the prior."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.models.cache import ResponseCache
from deploysim.models.client import ModelClient
from deploysim.models.runner import CallResult, run_requests
from deploysim.models.types import ChatRequest, ErrorClass
from deploysim.models.usage import Usage
from deploysim.registry import SamplingParams
from deploysim.store import replace_partition


@dataclass(frozen=True)
class Arm:
    #: "candidate" or "prior"
    name: str
    model_version: str
    client: ModelClient
    sampling: SamplingParams


class ArmSummary(BaseModel):
    arm: str
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


def load_requests(con: duckdb.DuckDBPyConnection, partition_key: str) -> list[tuple[str, str, str, str]]:
    """(conversation_id, prefix_hash, messages JSON, tools JSON) of the sampled prefixes."""
    return con.execute(
        "SELECT conversation_id, prefix_hash, messages, tools FROM prefixes WHERE partition_key = ? "
        "ORDER BY conversation_id",
        [partition_key],
    ).fetchall()


def regenerate(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    arms: list[Arm],
    *,
    concurrency: int,
    redact: Callable[[str], str],
    progress: Callable[[str, int, int], None] | None = None,
) -> list[ArmSummary]:
    """Each prefix gets exactly one row per arm: a response, or a failure with its class.

    Every response passes through `redact` before it lands: archive responses are recorded production
    data, and grading every arm on equally de-identified text keeps the comparison fair.
    """
    prefixes = load_requests(con, partition_key)
    cache = ResponseCache(con)
    rows: list[dict] = []
    summaries = []
    hashes = {cid: phash for cid, phash, _, _ in prefixes}
    for arm in arms:
        items = [
            (
                cid,
                ChatRequest(
                    messages=json.loads(messages),
                    tools=json.loads(tools) if tools else None,
                    sampling=arm.sampling,
                ),
            )
            for cid, _, messages, tools in prefixes
        ]
        arm_rows: list[dict] = []

        def collect(result: CallResult, arm: Arm = arm, arm_rows: list[dict] = arm_rows) -> None:
            output = result.output
            content = output.content if output else None
            if content:
                content = redact(content)
            arm_rows.append(
                {
                    "partition_key": partition_key,
                    "arm": arm.name,
                    "model_version": arm.model_version,
                    "conversation_id": result.item_id,
                    "prefix_hash": hashes[result.item_id],
                    "status": _status(result),
                    "content": content,
                    "tool_calls": json.dumps(output.tool_calls) if output and output.tool_calls else None,
                    "finish_reason": output.finish_reason if output else None,
                    "error_class": result.error_class,
                    "error_message": result.error_message,
                    "prompt_tokens": output.prompt_tokens if output else None,
                    "completion_tokens": output.completion_tokens if output else None,
                    "latency_ms": result.latency_ms,
                    "cached": result.cached,
                }
            )

        report = (lambda done, total, name=arm.name: progress(name, done, total)) if progress else None
        usage: Usage = run_requests(
            arm.client, items, cache=cache, concurrency=concurrency, on_result=collect, progress=report
        )
        rows.extend(arm_rows)
        summaries.append(
            ArmSummary(
                arm=arm.name,
                model_version=arm.model_version,
                endpoint=arm.client.endpoint,
                prefixes=len(items),
                ok=sum(r["status"] == "ok" for r in arm_rows),
                failed=dict(usage.failures),
                usage=usage.as_metadata(),
            )
        )
    replace_partition(con, "regenerations", partition_key, pd.DataFrame(rows))
    return summaries
