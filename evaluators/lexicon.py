"""A fast phrase matcher over word tokens: one pass over the words instead of a regex per topic.

A lexicon is {category: [term, ...]}; a term is space-separated tokens, a token ending in "*" matches any
word starting with it ("scam*" matches scam, scams, scammer). Matching tokenises the text once and looks up
each word's candidate terms by its first token, so the cost is linear in the number of words.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(lowered: str) -> list[str]:
    return _WORD.findall(lowered)


class PhraseMatcher:
    def __init__(self, lexicon: dict[str, list[str]]) -> None:
        self._exact: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._stems: dict[str, list[tuple[tuple[str, ...], str]]] = {}  # keyed by the stem's first 3 chars
        for category, terms in lexicon.items():
            for term in terms:
                tokens = tuple(term.split())
                head = tokens[0]
                if head.endswith("*"):
                    self._stems.setdefault(head[:3], []).append((tokens, category))
                else:
                    self._exact.setdefault(head, []).append((tokens, category))
        self._cache: dict[str, list[tuple[tuple[str, ...], str]]] = {}

    def _candidates(self, word: str) -> list[tuple[tuple[str, ...], str]]:
        found = self._cache.get(word)
        if found is None:
            found = list(self._exact.get(word, ()))
            for tokens, category in self._stems.get(word[:3], ()):
                if word.startswith(tokens[0][:-1]):
                    found.append((tokens, category))
            if len(self._cache) < 500_000:
                self._cache[word] = found
        return found

    @staticmethod
    def _token_matches(pattern: str, word: str) -> bool:
        return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern

    def count(self, words: list[str]) -> Counter[str]:
        """Occurrences per category (a position counts once per category)."""
        counts: Counter[str] = Counter()
        n = len(words)
        for i, word in enumerate(words):
            candidates = self._candidates(word)
            if not candidates:
                continue
            hit: set[str] = set()
            for tokens, category in candidates:
                if category in hit:
                    continue
                k = len(tokens)
                if k == 1 or (
                    i + k <= n
                    and all(self._token_matches(t, words[i + j]) for j, t in enumerate(tokens[1:], 1))
                ):
                    hit.add(category)
            for category in hit:
                counts[category] += 1
        return counts
