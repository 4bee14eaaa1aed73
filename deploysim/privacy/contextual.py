"""Recognizers anchored on the words around an entity, for forms that have no shape of their own.

A national phone number such as "467 3395" or a name spaCy's small model does not know ("Siiri") is only
recognisable from its cue: "Phone:", "call me on", "My name is". Presidio's PatternRecognizer runs the
`regex` module, so the cues are variable-length look-behinds and only the entity itself is masked.
"""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

from deploysim.privacy.strict_scan import PHONE_BODY, PHONE_CUE_AFTER, PHONE_CUE_BEFORE, cued_phone_valid

_CASE_SENSITIVE = regex.DOTALL | regex.MULTILINE


class CuedPhoneRecognizer(PatternRecognizer):
    """National numbers in local formats, recognised by a cue such as "Phone:" or "call me on"."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            name="CuedPhoneRecognizer",
            # Presidio matches case-insensitively by default; the cues say so themselves where it matters.
            global_regex_flags=_CASE_SENSITIVE,
            patterns=[
                Pattern("phone after a cue", rf"(?<={PHONE_CUE_BEFORE}){PHONE_BODY}", 0.7),
                Pattern("phone before a cue", rf"(?<![\w.]){PHONE_BODY}{PHONE_CUE_AFTER}", 0.7),
            ],
        )

    def validate_result(self, pattern_text: str) -> bool:
        return cued_phone_valid(pattern_text)


_NAME_CUE = (
    r"(?:(?i:\bmy name is|\bthis is|\bname\s*:|\bdear|\bmr\.?|\bmrs\.?|\bms\.?|\bdr\.?|\bmiss|\battn\.?:?"
    r"|\bregards,|\bsincerely,|\bthanks,|\bcheers,|\bsigned,)\s+|\bI(?:'m| am) (?=\p{Lu}))"
)
_NAME = r"\p{Lu}[\p{L}'’\-]+(?:\s+\p{Lu}\.?)?(?:\s+\p{Lu}[\p{L}'’\-]+){0,2}"


class CuedNameRecognizer(PatternRecognizer):
    """Names after "My name is", "Name:", "Dear", a title or a sign-off, whatever their origin."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PERSON",
            name="CuedNameRecognizer",
            # Case-sensitive, or "I'm unable to" would read as a name.
            global_regex_flags=_CASE_SENSITIVE,
            patterns=[Pattern("name after a cue", rf"(?<={_NAME_CUE}){_NAME}", 0.6)],
            # Words that follow these cues but are not names.
            deny_list=None,
        )

    def validate_result(self, pattern_text: str) -> bool:
        return pattern_text.split()[0].casefold() not in _NOT_NAMES


_NOT_NAMES = {
    "sir",
    "madam",
    "customer",
    "team",
    "all",
    "everyone",
    "friend",
    "friends",
    "colleagues",
    "support",
    "sorry",
    "happy",
    "glad",
    "not",
    "the",
    "a",
    "an",
    "here",
    "there",
    "new",
    "just",
    "so",
    "very",
    "also",
}


class ProperNounNameRecognizer(EntityRecognizer):
    """Runs of two or more proper nouns that spaCy's small model did not label, as probable names.

    The small English model misses many non-English names ("Szabina J Gelencsér"); its tagger still marks
    them PROPN. Masking a multi-word proper noun that is not a person costs the prompt a little fidelity;
    leaking a person's name costs privacy, so the trade goes this way.
    """

    def __init__(self) -> None:
        super().__init__(
            supported_entities=["PERSON"], name="ProperNounNameRecognizer", supported_language="en"
        )

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        doc = getattr(nlp_artifacts, "tokens", None)
        if doc is None or "PERSON" not in entities:
            return []
        results: list[RecognizerResult] = []
        run: list = []
        for token in [*doc, None]:
            if (
                token is not None
                and token.pos_ == "PROPN"
                and token.text[:1].isupper()
                and not token.ent_type_
            ):
                run.append(token)
                continue
            if len(run) >= 2 and not all(t.text.isupper() and len(t.text) > 1 for t in run):
                results.append(RecognizerResult("PERSON", run[0].idx, run[-1].idx + len(run[-1].text), 0.45))
            run = []
        return results


def contextual_recognizers() -> list[EntityRecognizer]:
    return [CuedPhoneRecognizer(), CuedNameRecognizer(), ProperNounNameRecognizer()]
