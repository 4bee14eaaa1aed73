"""Cut conversations before their final assistant turn and draw a seeded uniform sample of prefixes."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel

from deploysim.conversation import Conversation, Message, messages_payload
from deploysim.hashing import prefix_hash


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
