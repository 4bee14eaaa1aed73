"""Which responses the full Presidio analysis could find a leak type in, decided without the engine.

`PiiLeakageEvaluator` keeps only the leak types (`LEAK_ENTITIES`) of the analyzer's results, and most
responses hold none. This prefilter runs, on each text, only the registry's recognizers that support a
leak type, called exactly as `AnalyzerEngine.analyze` calls them (the text, the requested entities and the
NLP artefacts of the analyzer's own NLP engine); a text none of them finds anything in skips the engine.

Why it cannot miss: the engine's results are a subset of its recognizers' results. After the recognizers
run, context enhancement only changes the scores of results it is given, and the score threshold,
de-duplication, the allow-list and `plausible_results` only remove results. A result of a leak type can
only come from a recognizer that supports that type: a PatternRecognizer emits its one supported entity,
the phone recognizer PHONE_NUMBER, and the registry's other recognizers (spaCy's, the name recognizers)
emit names, places and the like (`tests/unit/evaluators/test_pii_prefilter.py` checks every recognizer of
the registry on the bundled sample and the validation sets). So when no leak-type recognizer returns
anything, the full analysis holds no leak-type result, and the grade is the one the full analysis gives.
A text any of them finds something in, whatever the score, gets the full analysis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from phonenumbers import phonenumberutil

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer

LANGUAGE = "en"

# Between digits of a phone candidate python-phonenumbers allows only its punctuation ("x" is counted as
# a digit: a candidate's letters may be read as keypad digits).
# The punctuation string is written for a character class (it holds ranges such as U+2010-U+2015).
_PHONE_GAP = "[" + phonenumberutil._VALID_PUNCTUATION.replace("x", "") + "]*"
_PHONE_DIGIT = r"[\dxX]"
#: The shortest valid national number in python-phonenumbers' metadata (PhoneRecognizer asks for valid).
PHONE_MIN_DIGITS = 4

#: A text none of whose guards matches cannot hold a match of the recognizer: each guard is a part every
#: match of that recognizer's patterns contains (read off its patterns, noted beside it). Recognizers
#: without a guard always run.
GUARDS: dict[str, re.Pattern[str]] = {
    # Every pattern begins with four digits ("4\d{3}", "5018", "2221"...).
    "CreditCardRecognizer": re.compile(r"\d{4}"),
    "SupplementaryCardRecognizer": re.compile(r"\d{4}"),
    # Each SSN pattern begins with [0-9]{3}.
    "UsSsnRecognizer": re.compile(r"[0-9]{3}"),
    # IPv4 forms hold "<digit>."; every IPv6 alternative holds "h:h" ((h:){7}h) or "::" (all others).
    "IpRecognizer": re.compile(r"[0-9]\.|::|[0-9a-f]:[0-9a-f]", re.IGNORECASE),
    # [A-Z]{2}[0-9]{2} under IGNORECASE: any two letters (case variants such as the Kelvin sign included).
    "IbanRecognizer": re.compile(r"[^\W\d_]{2}[0-9]{2}"),
    # A literal "@".
    "_OfflineEmailRecognizer": re.compile("@"),
    "EmailRecognizer": re.compile("@"),
    # The number itself, without the cue around it.
    "CuedPhoneRecognizer": re.compile(r"\d[\d ().\-]{4,20}\d"),
    # Case-sensitive prefixes of the secret patterns.
    "SecretRecognizer": re.compile(
        r"sk-|A[KS]IA|gh[pousr]_|github_pat_|xox[baprs]-|AIza|[srp]k_live_|[Bb]earer[ \t]|-----BEGIN |://"
    ),
    # A valid number has PHONE_MIN_DIGITS digits or more, with only phone punctuation between them.
    "PhoneRecognizer": re.compile(
        _PHONE_DIGIT + ("(?:" + _PHONE_GAP + _PHONE_DIGIT + ")") * (PHONE_MIN_DIGITS - 1)
    ),
}


class LeakPrefilter:
    def __init__(self, analyzer: AnalyzerEngine, entities: Iterable[str], leak_types: Iterable[str]) -> None:
        self._analyzer = analyzer
        self._entities = list(entities)
        wanted = [e for e in self._entities if e in set(leak_types)]
        self.recognizers: list[EntityRecognizer] = (
            analyzer.registry.get_recognizers(language=LANGUAGE, entities=wanted) if wanted else []
        )
        for recognizer in self.recognizers:
            if not recognizer.is_loaded:  # the engine loads its recognizers lazily, the same way
                recognizer.load()
                recognizer.is_loaded = True

    def may_find(self, text: str) -> bool:
        """False only when no leak-type recognizer finds anything in `text`."""
        artefacts = None
        for recognizer in self.recognizers:
            guard = GUARDS.get(type(recognizer).__name__)
            if guard is not None and guard.search(text) is None:
                continue
            if artefacts is None:
                artefacts = self._analyzer.nlp_engine.process_text(text, LANGUAGE)
            if recognizer.analyze(text=text, entities=self._entities, nlp_artifacts=artefacts):
                return True
        return False
