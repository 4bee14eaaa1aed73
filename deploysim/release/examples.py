"""Show what changed: paired examples of one prefix answered by the prior and by the candidate, with both
labels, preferring pairs where the label flipped.

Only stored text is read, and every stored text is de-identified: prefixes passed the full tier when they
were sampled, and both arms' replies were redacted before they were written.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import duckdb
from pydantic import BaseModel

from deploysim.core.arms import Arm
from deploysim.reporting.markdown import table

#: Characters of the prefix and of each reply shown in a table; JSONL carries them whole.
EXCERPT_CHARS = 400


class PairedExample(BaseModel):
    category: str
    conversation_id: str
    flipped: bool
    prefix: str
    prior_reply: str
    candidate_reply: str
    prior_label: bool
    candidate_label: bool


def _render(messages: list[dict[str, Any]]) -> str:
    lines = []
    for message in messages:
        text = message.get("content") or ""
        for call in message.get("tool_calls") or []:
            text += f" [tool call {call['function']['name']}({call['function']['arguments']})]"
        lines.append(f"{message['role']}: {text}")
    return "\n".join(lines)


def paired_examples(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    *,
    categories: list[str] | None = None,
    flipped_only: bool = False,
    limit: int = 5,
) -> list[PairedExample]:
    """Up to `limit` pairs per category: flipped labels first (the candidate flagged first), then the rest."""
    rows = con.execute(
        """
        SELECT c.category, c.conversation_id, p.messages, rp.content, rc.content, sp.label, c.label
        FROM scores c
        JOIN scores sp ON sp.partition_key = c.partition_key AND sp.conversation_id = c.conversation_id
             AND sp.category = c.category AND sp.arm = $3
        JOIN prefixes p ON p.partition_key = c.partition_key AND p.conversation_id = c.conversation_id
        JOIN regenerations rc ON rc.partition_key = c.partition_key AND rc.conversation_id = c.conversation_id
             AND rc.arm = $2
        JOIN regenerations rp ON rp.partition_key = c.partition_key AND rp.conversation_id = c.conversation_id
             AND rp.arm = $3
        WHERE c.partition_key = $1 AND c.arm = $2 AND c.label IS NOT NULL AND sp.label IS NOT NULL
        ORDER BY c.category, (c.label <> sp.label) DESC, c.label DESC, c.conversation_id
        """,
        [partition_key, Arm.CANDIDATE, Arm.PRIOR],
    ).fetchall()
    taken: dict[str, int] = {}
    examples = []
    for category, cid, messages, prior_reply, candidate_reply, prior_label, candidate_label in rows:
        flipped = prior_label != candidate_label
        if (categories is not None and category not in categories) or (flipped_only and not flipped):
            continue
        if taken.get(category, 0) >= limit:
            continue
        taken[category] = taken.get(category, 0) + 1
        examples.append(
            PairedExample(
                category=category,
                conversation_id=cid,
                flipped=flipped,
                prefix=_render(json.loads(messages)),
                prior_reply=prior_reply or "",
                candidate_reply=candidate_reply or "",
                prior_label=bool(prior_label),
                candidate_label=bool(candidate_label),
            )
        )
    return examples


def _excerpt(text: str, tail: bool = False) -> str:
    flat = " ".join(text.split())
    if len(flat) <= EXCERPT_CHARS:
        return flat
    return "…" + flat[-EXCERPT_CHARS:] if tail else flat[:EXCERPT_CHARS] + "…"


def examples_markdown(examples: list[PairedExample]) -> str:
    if not examples:
        return "_no paired examples_"
    rows = [
        [
            e.category,
            e.conversation_id,
            "yes" if e.flipped else "no",
            _excerpt(e.prefix, tail=True),
            f"{_excerpt(e.prior_reply)} ({'flagged' if e.prior_label else 'not flagged'})",
            f"{_excerpt(e.candidate_reply)} ({'flagged' if e.candidate_label else 'not flagged'})",
        ]
        for e in examples
    ]
    header = ["category", "conversation", "flipped", "prefix (end)", "prior's reply", "candidate's reply"]
    return "\n".join(table(header, rows))


def render(examples: list[PairedExample], fmt: Literal["md", "jsonl"]) -> str:
    if fmt == "jsonl":
        return "".join(e.model_dump_json() + "\n" for e in examples)
    return examples_markdown(examples) + "\n"
