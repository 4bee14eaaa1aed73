"""Presidio recognizers for what the predefined ones miss: some card kinds, and secrets.

Add them to the de-identifier's recognizer list, e.g.
``Deidentifier([*default_recognizers(), *custom_recognizers()])``.
"""

from __future__ import annotations

import re
from typing import ClassVar

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer

from deploysim.privacy.strict_scan import SECRET_PATTERNS, luhn_valid

# Presidio applies IGNORECASE by default; the secret prefixes (AKIA, AIza, BEGIN ... PRIVATE KEY) are
# case-sensitive and folding them only adds false positives.
_CASE_SENSITIVE = re.MULTILINE

# One space or dash between digit groups; no digit or word character glued to either end.
_S = r"[ -]?"
_START = r"(?<![\w-])"
_STOP = r"(?![\w-]|[ -]\d)"
_MASTERCARD_2_SERIES = r"(?:222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)"
_MAESTRO_PREFIX = r"(?:5018|5020|5038|5893|6304|6759|676[1-3])"
# Grouped 4-6-5 (like Amex) or 4-4-4-3.
_JCB_15 = r"(?:2131|1800)(?:" + _S + r"\d{6}" + _S + r"\d{5}|" + (_S + r"\d{4}") * 2 + _S + r"\d{3})"


class SupplementaryCardRecognizer(PatternRecognizer):
    """Card numbers Presidio's CreditCardRecognizer misses.

    Its pattern wants 13–17 digits on prefixes 1, 3, 4, 5[0-5] and 6, so 12-digit Maestro, 19-digit Visa,
    Mastercard's 2221–2720 range and 15-digit JCB written 4-6-5 or on prefix 2131 are never seen. Every
    candidate must pass the Luhn check, which keeps random digit runs out.
    """

    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("maestro_12", _START + _MAESTRO_PREFIX + (_S + r"\d{4}") * 2 + _STOP, 0.5),
        Pattern("visa_19", _START + r"4\d{3}" + (_S + r"\d{4}") * 3 + _S + r"\d{3}" + _STOP, 0.5),
        Pattern("mastercard_2_series", _START + _MASTERCARD_2_SERIES + (_S + r"\d{4}") * 3 + _STOP, 0.5),
        Pattern("jcb_15", _START + _JCB_15 + _STOP, 0.5),
    ]
    CONTEXT: ClassVar[list[str]] = ["card", "credit", "debit", "visa", "mastercard", "maestro", "jcb"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="CREDIT_CARD",
            name="SupplementaryCardRecognizer",
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=list(self.CONTEXT),
            global_regex_flags=_CASE_SENSITIVE,
        )

    def validate_result(self, pattern_text: str) -> bool:
        # True lifts the score to 1.0 and False drops the match (Presidio's convention).
        return luhn_valid(pattern_text.replace(" ", "").replace("-", ""))


class SecretRecognizer(PatternRecognizer):
    """Credentials pasted into prompts, which no predefined Presidio recognizer looks for.

    API keys of common providers (OpenAI, Anthropic, AWS access key ids, GitHub, Slack, Google, Stripe
    live keys), bearer tokens, PEM private-key blocks and passwords in URLs. The patterns are shared with
    the strict scan (:data:`deploysim.privacy.strict_scan.SECRET_PATTERNS`). For a bearer token the span is
    the token alone, for a URL it is the ``user:password`` part, so "Bearer", the scheme and the host
    stay readable.
    """

    SCORE: ClassVar[float] = 0.9

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="SECRET",
            name="SecretRecognizer",
            supported_language=supported_language,
            patterns=[Pattern(name, regex, self.SCORE) for name, regex in SECRET_PATTERNS.items()],
            global_regex_flags=_CASE_SENSITIVE,
        )


def custom_recognizers() -> list[EntityRecognizer]:
    """One instance of each recognizer defined here."""
    return [SupplementaryCardRecognizer(), SecretRecognizer()]
