"""Typed, per-conversation placeholders, and the strict tier that writes them without loading spaCy."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from deploysim.privacy.json_values import map_units, text_units
from deploysim.privacy.strict_scan import redact_strict

_PLACEHOLDER = re.compile(r"<([A-Z_]+)_(\d+)>")


@dataclass
class PlaceholderBook:
    """Per-conversation pseudonyms: the same value gets the same placeholder every time it appears."""

    _assigned: dict[tuple[str, str], str] = field(default_factory=dict)
    _next: Counter[str] = field(default_factory=Counter)
    #: The values seen, in memory for this conversation only, so later mentions get the same placeholder.
    _seen: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def continue_after(self, texts: Iterable[str]) -> None:
        """Number new entities after the placeholders an earlier tier already wrote."""
        for text in texts:
            for entity_type, number in _PLACEHOLDER.findall(text):
                self._next[entity_type] = max(self._next[entity_type], int(number))

    def placeholder(self, entity_type: str, value: str) -> str:
        key = (entity_type, " ".join(value.split()).casefold())
        if key not in self._assigned:
            self._next[entity_type] += 1
            self._assigned[key] = f"<{entity_type}_{self._next[entity_type]}>"
        self.counts[entity_type] += 1
        self._seen[" ".join(value.split())] = self._assigned[key]
        if entity_type == "PERSON":
            # "Thanks, Maria" after "Maria Lopez": a detected person's first or last name on its own.
            for part in value.split():
                if len(part) >= 3 and part[:1].isupper():
                    self._seen.setdefault(part.strip(".,"), self._assigned[key])
        return self._assigned[key]

    def propagate(self, text: str) -> str:
        """Mask other mentions of values this conversation already pseudonymized that a detector missed."""
        if not self._seen:
            return text
        values = sorted(self._seen, key=len, reverse=True)
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(v) for v in values) + r")(?!\w)")

        def replace(match: re.Match[str]) -> str:
            placeholder = self._seen[match[0]]
            self.counts[placeholder[1:].rsplit("_", 1)[0]] += 1
            return placeholder

        return pattern.sub(replace, text)


@dataclass(frozen=True)
class DeidentifiedMessages:
    messages: list[dict[str, Any]]
    entity_counts: Counter[str]


def message_texts(message: dict[str, Any]) -> list[str]:
    """Every text of a message a model would see, in a fixed order: content, then tool-call arguments."""
    texts = [message["content"]] if isinstance(message.get("content"), str) else []
    texts += [call["function"]["arguments"] for call in message.get("tool_calls") or []]
    return texts


def message_units(message: dict[str, Any]) -> list[str]:
    """What a detector is shown of a message, in order: each text of `message_texts`, or for a JSON
    text (tool-call arguments, tool outputs) each of its values, never its keys."""
    return [unit for text in message_texts(message) for unit in text_units(text)]


def replace_texts(messages: list[dict[str, Any]], replace: Callable[[str], str]) -> list[dict[str, Any]]:
    """Apply `replace` to the units of `message_units`, in the same order; tool outputs are contents.
    JSON keys are never passed to `replace`, so they are never masked."""
    cleaned = []
    for message in messages:
        message = dict(message)
        if isinstance(message.get("content"), str):
            message["content"] = map_units(message["content"], replace)
        if message.get("tool_calls"):
            message["tool_calls"] = [
                {
                    **call,
                    "function": {
                        **call["function"],
                        "arguments": map_units(call["function"]["arguments"], replace),
                    },
                }
                for call in message["tool_calls"]
            ]
        cleaned.append(message)
    return cleaned


def strict_deidentify_messages(
    messages: list[dict[str, Any]], context: Iterable[str] = ()
) -> DeidentifiedMessages:
    """The strict tier (emails, phones, cards, IBANs, SSNs, IPs, secrets) over all texts of a conversation.

    `context` holds already de-identified texts of the same conversation (e.g. the prefix of a response),
    so new placeholders are numbered after theirs and never reuse one that means something else.
    """
    book = PlaceholderBook()
    book.continue_after(context)
    cleaned = replace_texts(messages, lambda text: redact_strict(text, book.placeholder))
    return DeidentifiedMessages(cleaned, book.counts)
