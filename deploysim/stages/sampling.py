"""Stage 2: a seeded uniform sample of prefixes, each cut before its final assistant turn."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.conversation import Conversation
from deploysim.sampling import cut_before_final_assistant_turn, sample_ids
from deploysim.store import replace_partition


class SampleSummary(BaseModel):
    population: int
    sample_size: int
    seed: int
    by_surface: dict[str, int]
    mean_prefix_messages: float


def load_conversations(con: duckdb.DuckDBPyConnection, partition_key: str) -> list[Conversation]:
    rows = con.execute(
        "SELECT conversation_id, model_version, started_at, surface, locale, messages, tools "
        "FROM conversations WHERE partition_key = ? ORDER BY conversation_id",
        [partition_key],
    ).fetchall()
    return [
        Conversation(
            conversation_id=cid,
            model_version=version,
            started_at=started,
            surface=surface,
            locale=locale,
            consent_model_improvement=True,
            messages=json.loads(messages),
            tools=json.loads(tools) if tools else None,
        )
        for cid, version, started, surface, locale, messages, tools in rows
    ]


def sample_window(con: duckdb.DuckDBPyConnection, partition_key: str, size: int, seed: int) -> SampleSummary:
    conversations = {c.conversation_id: c for c in load_conversations(con, partition_key)}
    chosen = sample_ids(list(conversations), size, seed)
    prefixes = [cut_before_final_assistant_turn(conversations[cid]) for cid in chosen]
    frame = pd.DataFrame(
        [
            {
                "partition_key": partition_key,
                "conversation_id": p.conversation_id,
                "prefix_hash": p.prefix_hash,
                "surface": p.surface,
                "production_model": p.production_model,
                "messages": json.dumps(p.messages),
                "tools": json.dumps(p.tools) if p.tools else None,
                "production_response": json.dumps(p.production_response),
            }
            for p in prefixes
        ]
    )
    replace_partition(con, "prefixes", partition_key, frame)
    by_surface = frame["surface"].value_counts().to_dict() if len(frame) else {}
    return SampleSummary(
        population=len(conversations),
        sample_size=len(prefixes),
        seed=seed,
        by_surface={str(k): int(v) for k, v in by_surface.items()},
        mean_prefix_messages=float(sum(len(p.messages) for p in prefixes) / len(prefixes))
        if prefixes
        else 0.0,
    )
