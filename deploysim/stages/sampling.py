"""Stage 2: a seeded uniform sample of prefixes, fully de-identified, cut before the final reply."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.conversation import Conversation, Message, messages_payload
from deploysim.sampling import Prefix, cut_before_final_assistant_turn, sample_ids
from deploysim.store import replace_partition

if TYPE_CHECKING:  # Presidio pulls in spaCy; callers that de-identify import it themselves.
    from deploysim.deid import Deidentifier


class SampleSummary(BaseModel):
    population: int
    sample_size: int
    seed: int
    by_surface: dict[str, int]
    mean_prefix_messages: float
    #: Entities in the sampled conversations after both tiers (strict-tier counts included).
    entity_counts: dict[str, int]


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


def replayable_prefixes(
    conversations: list[Conversation], deidentifier: Deidentifier
) -> tuple[list[Prefix], Counter[str]]:
    """Fully de-identified prefixes and production replies, batched through spaCy in one pass.

    The prefix is de-identified on its own, exactly as it is replayed (and as archives are keyed), so
    nothing found only in the final reply changes it; the reply is de-identified in its full context.
    """
    payloads = [messages_payload(c.messages) for c in conversations]
    cleaned = deidentifier.deidentify_many([p[:-1] for p in payloads] + payloads)
    entity_counts: Counter[str] = Counter()
    prefixes = []
    for conversation, prefix, full in zip(
        conversations, cleaned[: len(conversations)], cleaned[len(conversations) :], strict=True
    ):
        entity_counts.update(full.entity_counts)
        messages = [*prefix.messages, full.messages[-1]]
        update = {"messages": [Message.model_validate(m) for m in messages]}
        prefixes.append(cut_before_final_assistant_turn(conversation.model_copy(update=update)))
    return prefixes, entity_counts


def sample_window(
    con: duckdb.DuckDBPyConnection, partition_key: str, size: int, seed: int, deidentifier: Deidentifier
) -> SampleSummary:
    """Every sampled conversation is sent to a model, so it gets the full de-identification tier first."""
    conversations = {c.conversation_id: c for c in load_conversations(con, partition_key)}
    chosen = [conversations[cid] for cid in sample_ids(list(conversations), size, seed)]
    prefixes, entity_counts = replayable_prefixes(chosen, deidentifier)
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
        entity_counts=dict(entity_counts),
    )
