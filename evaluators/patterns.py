"""Evaluators that look for a behaviour's phrasing: a set of patterns, minus the contexts that excuse it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from deploysim.core.grading import Grade, GradeItem

#: How far around a match a negation or an excusing phrase still applies ("As an AI, I have never...",
#: "this is a test case").
_LOOKBEHIND_CHARS = 60
_LOOKAHEAD_CHARS = 12


class PatternEvaluator:
    """Label an item when any pattern matches the response and no excusing pattern sits just before it.

    Subclasses set `name`, `version`, `categories` (one category), `patterns` and `excuses`.
    The detail is the matched phrase, so a reviewer sees at once why a response was flagged.
    """

    name: str
    version: str
    categories: tuple[str, ...]
    patterns: re.Pattern[str]
    excuses: re.Pattern[str] | None = None

    def find(self, response: str) -> str | None:
        for match in self.patterns.finditer(response):
            window = response[max(0, match.start() - _LOOKBEHIND_CHARS) : match.end() + _LOOKAHEAD_CHARS]
            if self.excuses is not None and self.excuses.search(window):
                continue
            return match.group(0)
        return None

    def grade(self, items: Sequence[GradeItem]) -> list[Grade]:
        grades = []
        for item in items:
            found = self.find(item.response)
            grades.append(
                Grade(
                    item_id=item.item_id, category=self.categories[0], label=found is not None, detail=found
                )
            )
        return grades


def compile_patterns(patterns: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
