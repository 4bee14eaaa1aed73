"""Stage 2, sampling: a seeded uniform sample of the window, fully de-identified, each conversation cut
before its final assistant turn (the turn the simulation regenerates)."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.core.conversation import Conversation, Message, messages_payload
from deploysim.core.hashing import prefix_hash
from deploysim.store.tables import replace_partition

if TYPE_CHECKING:  # Presidio pulls in spaCy; callers that de-identify import it themselves.
    from deploysim.privacy.deidentifier import Deidentifier


class Prefix(BaseModel):
    """A replayable prefix and the reply production actually served after it."""

    conversation_id: str
    surface: str
    production_model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    production_response: dict[str, Any]

    @property
    def prefix_hash(self) -> str:
        return prefix_hash(self.messages, self.tools)


def cut_before_final_assistant_turn(conversation: Conversation) -> Prefix:
    """Everything before the final assistant reply, which the contract guarantees is there."""
    final: Message = conversation.messages[-1]
    if final.role != "assistant" or final.tool_calls:
        raise ValueError(f"{conversation.conversation_id}: does not end on an assistant reply")
    return Prefix(
        conversation_id=conversation.conversation_id,
        surface=conversation.surface,
        production_model=conversation.model_version,
        messages=messages_payload(conversation.messages[:-1]),
        tools=conversation.tools,
        production_response=final.model_dump(exclude_none=True),
    )


def sample_ids(conversation_ids: list[str], size: int, seed: int) -> list[str]:
    """Uniform without replacement; the same ids, size and seed always give the same sample."""
    population = sorted(set(conversation_ids))
    if size >= len(population):
        return population
    return sorted(random.Random(seed).sample(population, size))


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
