"""De-identification: Presidio finds PII, and each entity becomes a typed placeholder.

Placeholders are consistent within one conversation (``<PERSON_1>`` is the same person in every turn)
so the dialogue stays coherent for the model, and no mapping back to the original is kept anywhere.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import tldextract
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from deploysim.conversation import Conversation, Message

#: Entity types whose leak is never acceptable; the blocking re-scan looks for these.
STRICT_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS")
ENTITIES = (*STRICT_ENTITIES, "URL")

# tldextract fetches the public suffix list on first use; the bundled snapshot is enough and never
# touches the network.
_MARKER = re.compile(r"\x00(\d+)\x00")
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class _OfflineEmailRecognizer(EmailRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD(pattern_text).fqdn != ""


def default_recognizers() -> list[EntityRecognizer]:
    return [
        _OfflineEmailRecognizer(),
        PhoneRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        IpRecognizer(),
        UrlRecognizer(),
    ]


@dataclass
class PlaceholderBook:
    """Per-conversation pseudonyms: the same value gets the same placeholder every time it appears."""

    _assigned: dict[tuple[str, str], str] = field(default_factory=dict)
    _next: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)

    def placeholder(self, entity_type: str, value: str) -> str:
        key = (entity_type, " ".join(value.split()).casefold())
        if key not in self._assigned:
            self._next[entity_type] += 1
            self._assigned[key] = f"<{entity_type}_{self._next[entity_type]}>"
        self.counts[entity_type] += 1
        return self._assigned[key]


@dataclass(frozen=True)
class DeidentifiedMessages:
    messages: list[dict[str, Any]]
    entity_counts: Counter[str]


class Deidentifier:
    """Pattern recognizers from Presidio, conflict resolution and replacement by Presidio's anonymizer."""

    def __init__(self, recognizers: Iterable[EntityRecognizer] | None = None, score_threshold: float = 0.3):
        self.recognizers = list(recognizers) if recognizers is not None else default_recognizers()
        self.score_threshold = score_threshold
        self._anonymizer = AnonymizerEngine()

    def analyze(self, text: str) -> list[RecognizerResult]:
        results = []
        for recognizer in self.recognizers:
            for result in recognizer.analyze(text, recognizer.supported_entities, None) or []:
                if result.score >= self.score_threshold:
                    results.append(result)
        return results

    def pseudonymize(self, text: str, book: PlaceholderBook) -> str:
        results = self.analyze(text)
        if not results:
            return text
        # Presidio resolves overlaps and replaces from the end of the text backwards; markers let the
        # placeholders be numbered in reading order afterwards.
        found: list[tuple[str, str]] = []

        def mark(value: str, entity: str) -> str:
            found.append((entity, value))
            return f"\x00{len(found) - 1}\x00"

        operators = {
            entity: OperatorConfig("custom", {"lambda": lambda value, e=entity: mark(value, e)})
            for entity in {r.entity_type for r in results}
        }
        marked = self._anonymizer.anonymize(text, results, operators).text  # type: ignore[arg-type]
        return _MARKER.sub(lambda m: book.placeholder(*found[int(m[1])]), marked)

    def redact(self, text: str) -> str:
        """One-off redaction of free text (e.g. a quarantined row's excerpt)."""
        return self.pseudonymize(text, PlaceholderBook())

    def deidentify_messages(self, messages: list[dict[str, Any]]) -> DeidentifiedMessages:
        """Every text a model would see: contents, tool-call arguments and tool outputs, system prompts."""
        book = PlaceholderBook()
        cleaned = []
        for message in messages:
            message = dict(message)
            if isinstance(message.get("content"), str):
                message["content"] = self.pseudonymize(message["content"], book)
            if message.get("tool_calls"):
                calls = []
                for call in message["tool_calls"]:
                    function = dict(call["function"])
                    function["arguments"] = self.pseudonymize(function["arguments"], book)
                    calls.append({**call, "function": function})
                message["tool_calls"] = calls
            cleaned.append(message)
        return DeidentifiedMessages(cleaned, book.counts)

    def deidentify(self, conversation: Conversation) -> tuple[Conversation, Counter[str]]:
        payload = [m.model_dump(exclude_none=True) for m in conversation.messages]
        result = self.deidentify_messages(payload)
        messages = [Message.model_validate(m) for m in result.messages]
        return conversation.model_copy(update={"messages": messages}), result.entity_counts

    def strict_hits(self, text: str, min_score: float = 0.5) -> list[RecognizerResult]:
        """High-confidence hits of the strict types: after de-identification there must be none."""
        return [r for r in self.analyze(text) if r.entity_type in STRICT_ENTITIES and r.score >= min_score]
