"""Names that spaCy's small English model misses, found with a gazetteer of first and last names.

The gazetteer (data/pii/names.json.gz, built by scripts/build_name_gazetteer.py from names-dataset) holds
the commonest first and last names of 105 countries. Names that are also everyday English words ("Mark",
"Brown") are flagged ``common`` and never count as evidence on their own. A capitalised word is tagged:

- as part of a full name: a known first name, optional initials, then one or two capitalised words that
  are known surnames or are not English words ("Szabina J Gelencsér", "Tomomi Nishiyama");
- in a list: a comma/"and" list of capitalised words most of whose items are known names
  ("Efimiya, Mary, Ariana and Jodi", "founders: Kónya, Becker and Vasquez");
- alone: a known first or last name that spaCy tags as a proper noun and labels as no other entity.

spaCy's analysis comes from Presidio's ``nlp_artifacts``; without it the recognizer returns nothing.
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

GAZETTEER = Path(__file__).resolve().parents[2] / "data" / "pii" / "names.json.gz"

#: spaCy labels that mean "not a person" with enough confidence to leave the word alone. ORG and
#: PRODUCT are not here: the small model gives them to many foreign names.
_OTHER_ENTITIES = frozenset(
    {"GPE", "LOC", "NORP", "FAC", "DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL", "ORDINAL",
     "LANGUAGE", "EVENT", "LAW"}
)  # fmt: skip
_WORD = regex.compile(
    r"\p{Lu}[\p{Ll}\p{M}]*(?:['’\-]\p{L}[\p{Ll}\p{M}]*)*(?:\p{Lu}[\p{Ll}\p{M}]+)?|\p{Lu}\.?"
)
_PLACE_PREPOSITION = regex.compile(r"\b(?i:in|at|from|near|across|around|outside|inside|via)\s+$")
_LIST_SEPARATOR = regex.compile(r"\s*(?:,\s*(?:and\s+|or\s+|&\s+)?|\s+(?:and|or|&)\s+)$")


@dataclass(frozen=True)
class Gazetteer:
    first: frozenset[str]
    last: frozenset[str]
    common: frozenset[str]
    english: frozenset[str]

    def is_first(self, word: str) -> bool:
        return word in self.first and word not in self.common

    def is_last(self, word: str) -> bool:
        return word in self.last and word not in self.common

    def is_name(self, word: str) -> bool:
        return self.is_first(word) or self.is_last(word)

    def surname_like(self, word: str) -> bool:
        """A word that may close a full name: a known surname, or a word neither English nor common."""
        return word not in self.common and (word in self.last or word.casefold() not in self.english)


@functools.cache
def load_gazetteer(path: Path = GAZETTEER) -> Gazetteer:
    data = json.loads(gzip.decompress(path.read_bytes()))
    return Gazetteer(
        frozenset(data["first"]),
        frozenset(data["last"]),
        frozenset(data["common"]),
        frozenset(data["english"]),
    )


@dataclass
class _Word:
    text: str
    start: int
    end: int
    initial: bool
    pos: str = ""
    entity: str = ""
    sentence_start: bool = False


class GazetteerNameRecognizer(EntityRecognizer):
    """PERSON spans from the names gazetteer, in name-like positions (see the module docstring)."""

    FULL_NAME_SCORE = 0.6
    LIST_SCORE = 0.55
    SINGLE_SCORE = 0.45

    def __init__(self, gazetteer_path: Path = GAZETTEER) -> None:
        self.gazetteer_path = gazetteer_path
        super().__init__(
            supported_entities=["PERSON"], name="GazetteerNameRecognizer", supported_language="en"
        )

    def load(self) -> None:
        return None  # the gazetteer loads lazily, on the first text

    @property
    def gazetteer(self) -> Gazetteer:
        return load_gazetteer(self.gazetteer_path)

    def _words(self, text: str, doc) -> list[_Word]:
        by_start = {token.idx: token for token in doc}
        words = []
        for match in _WORD.finditer(text):
            start, end = match.span()
            if (start and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
                continue
            word = _Word(match[0], start, end, initial=len(match[0].rstrip(".")) == 1)
            token = by_start.get(start)
            if token is not None:
                word.pos, word.entity, word.sentence_start = token.pos_, token.ent_type_, token.is_sent_start
            words.append(word)
        return words

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        doc = getattr(nlp_artifacts, "tokens", None)
        if doc is None or "PERSON" not in entities:
            return []
        words = self._words(text, doc)
        spans: dict[tuple[int, int], float] = {}
        used: set[int] = set()
        self._full_names(text, words, spans, used)
        self._lists(text, words, spans, used)
        self._singles(text, words, spans, used)
        return [
            RecognizerResult("PERSON", start, end, score) for (start, end), score in sorted(spans.items())
        ]

    @staticmethod
    def _adjacent(text: str, left: _Word, right: _Word) -> bool:
        gap = text[left.end : right.start]
        return 0 < len(gap) <= 2 and gap.strip() == ""

    def _full_names(self, text: str, words: list[_Word], spans: dict, used: set[int]) -> None:
        g = self.gazetteer
        i = 0
        while i < len(words):
            first = words[i]
            if first.initial or not g.is_first(first.text):
                i += 1
                continue
            j = i
            while (
                j + 1 < len(words) and words[j + 1].initial and self._adjacent(text, words[j], words[j + 1])
            ):
                j += 1
            surnames = []
            k = j
            while len(surnames) < 2 and k + 1 < len(words) and self._adjacent(text, words[k], words[k + 1]):
                word = words[k + 1]
                # spaCy's small model calls many foreign names places; a known first name followed by a
                # known surname outweighs its label, an unknown word does not. After an initial, a
                # surname that is also an English word ("Brad L Key") is accepted.
                if word.initial or not (
                    g.is_last(word.text)
                    or (g.surname_like(word.text) and word.entity not in _OTHER_ENTITIES)
                    or (j > i and word.text in g.last)
                ):
                    break
                k += 1
                surnames.append(word)
            if surnames and (first.entity not in _OTHER_ENTITIES or all(g.is_last(w.text) for w in surnames)):
                spans[(first.start, words[k].end)] = self.FULL_NAME_SCORE
                used.update(range(i, k + 1))
                i = k + 1
            else:
                i += 1

    def _lists(self, text: str, words: list[_Word], spans: dict, used: set[int]) -> None:
        """Comma/"and" lists of single capitalised words; tagged when most items are known names."""
        g = self.gazetteer
        runs: list[list[int]] = []
        run: list[int] = []
        for index, word in enumerate(words):
            if word.initial:
                if len(run) >= 2:
                    runs.append(run)
                run = []
                continue
            if run and _LIST_SEPARATOR.fullmatch(text[words[run[-1]].end : word.start]):
                run.append(index)
                continue
            if len(run) >= 2:
                runs.append(run)
            run = [index]
        if len(run) >= 2:
            runs.append(run)
        for run in runs:
            items = [words[index] for index in run]
            known = sum(g.is_name(w.text) for w in items)
            if known < 2 or known * 2 < len(items):
                continue
            for index, word in zip(run, items, strict=True):
                if index in used or (word.entity in _OTHER_ENTITIES and not g.is_name(word.text)):
                    continue
                if word.text in g.first or word.text in g.last or g.surname_like(word.text):
                    spans[(word.start, word.end)] = self.LIST_SCORE
                    used.add(index)

    def _singles(self, text: str, words: list[_Word], spans: dict, used: set[int]) -> None:
        g = self.gazetteer
        for index, word in enumerate(words):
            if index in used or word.initial or len(word.text) < 3:
                continue
            if word.pos != "PROPN" or word.entity in _OTHER_ENTITIES:
                continue
            # "in Boston", "from Jordan": a place. "Victoria Station": a longer proper noun.
            if _PLACE_PREPOSITION.search(text, 0, word.start):
                continue
            following = words[index + 1] if index + 1 < len(words) else None
            if following and self._adjacent(text, word, following) and following.text.casefold() in g.english:
                continue
            if g.is_name(word.text):
                spans[(word.start, word.end)] = self.SINGLE_SCORE


def name_recognizers() -> list[EntityRecognizer]:
    return [GazetteerNameRecognizer()]
