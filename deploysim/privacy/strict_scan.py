"""Fast tier of the strict PII scan: one combined regular expression over a whole traffic window.

The strict types are the ones whose leak is never acceptable. They all have a rigid shape, so one
alternation of patterns, followed by a checksum or range check on each candidate, finds them quickly in
pure Python, before the slow spaCy NER tier looks at what is left.

Overlaps are resolved by the scan itself: the pattern is applied left to right and every candidate
consumes its text, so the leftmost candidate wins and, at one position, the type listed first wins
(cards before phones). A candidate that fails its check is dropped *and* stays consumed, so a 16-digit
run with a bad Luhn digit is not reported again as a phone number.

Speed (benchmarks/strict_scan_throughput.py): the full combined pattern scans about 4 MB/s with
CPython's ``re`` (the ``regex`` module was 3x slower on it). Each text is first checked for a digit, an
'@' and a secret hint with plain substring tests, and scanned only with the alternatives that can match
there (same order, so the same result); on the bundled sample that makes the scan about 12 MB/s.

The secret patterns and the Luhn check live here, without any Presidio import, and are reused by the
Presidio recognizers in :mod:`deploysim.privacy.recognizers`.

Longer than most modules on purpose: it is one pattern table compiled into one regular expression, with
each alternative's validator beside it; split, the order that decides overlaps would be spread over files.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import regex

from deploysim.privacy.allowlist import AllowList, current_allowlist
from deploysim.privacy.plausibility import ContextChecks

STRICT_TYPES: tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "SECRET",
)


@dataclass(frozen=True)
class Span:
    entity_type: str
    start: int
    end: int


# --- checks -------------------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a string of ASCII digits (separators already removed)."""
    total = 0
    # From the right, every second digit is doubled; subtracting 9 is the digit sum of the product.
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_MAESTRO_PREFIXES = ("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763")


def card_number_valid(digits: str) -> bool:
    """A plausible payment card: an issuer prefix that fits the length, and a correct Luhn digit.

    13–16 digits on prefixes 3–6 are the ordinary cards (Amex, Diners, JCB, Visa, Mastercard, Discover,
    UnionPay); the rest are the kinds Presidio's recognizer misses.
    """
    n = len(digits)
    if n < 12 or n > 19:
        return False
    if n == 19:
        kind_ok = digits[0] == "4" or digits.startswith(_MAESTRO_PREFIXES)  # Visa / Maestro 19
    else:
        kind_ok = (
            (13 <= n <= 16 and digits[0] in "3456")
            or (n == 16 and 2221 <= int(digits[:4]) <= 2720)  # Mastercard 2-series
            or (n == 15 and digits[:4] in ("2131", "1800"))  # 15-digit JCB
            or digits.startswith(_MAESTRO_PREFIXES)  # Maestro comes in every length 12–19
        )
    return kind_ok and luhn_valid(digits)


def iban_valid(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters become 10..35, result mod 97 is 1."""
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _phone_valid(candidate: str) -> bool:
    # E.164 allows at most 15 digits; fewer than 8 is an extension or a short code, not a phone number.
    digits = sum(ch.isdigit() for ch in candidate)
    return 8 <= digits <= 15


def _uk_phone_valid(candidate: str) -> bool:
    return sum(ch.isdigit() for ch in candidate) in (10, 11)


def _card_valid(candidate: str) -> bool:
    return card_number_valid(candidate.replace(" ", "").replace("-", ""))


def _ipv4_valid(candidate: str) -> bool:
    # Octets above 255 and leading zeros (ambiguous: octal in some parsers) are not addresses.
    try:
        ipaddress.IPv4Address(candidate)
    except ValueError:
        return False
    return True


def _ipv6_valid(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    # "::" and "::1" (unspecified, loopback) are code and config noise, not someone's address.
    return sum(1 for part in re.split(r"[:.]", candidate) if part) >= 2


# --- patterns -----------------------------------------------------------------------------------------
# Every pattern is case-sensitive on purpose: "AKIA" and IBAN letters are upper case, and case folding
# slows the scan down.
#
# Speed: CPython's matcher rejects an alternative of a big alternation almost for free when the
# alternative starts with a plain character or character class that does not fit the current
# character, but a lookbehind first costs a full sub-match at every position (about ten times slower
# overall). So each pattern consumes its first character and only then looks behind it, e.g.
# ``\d(?<![\w-]\d)`` instead of ``(?<![\w-])\d``.

#: Secret kinds, name -> pattern. Spans cover the secret itself: for a bearer token the token (not the
#: word "Bearer"), for a URL the ``user:password`` credentials (scheme and host stay readable).
SECRET_PATTERNS: dict[str, str] = {
    # OpenAI: sk-..., sk-proj-..., service-account and admin keys. A digit is required so that
    # hyphenated words ("sk-learn-compatible-estimators") do not match.
    "openai_api_key": r"s(?<![\w-]s)k-(?!ant-)(?:proj-|svcacct-|admin-)?(?=[\w-]*\d)[A-Za-z0-9_-]{20,}",
    "anthropic_api_key": r"s(?<![\w-]s)k-ant-(?:api|admin|sid|oat)\d\d-[A-Za-z0-9_-]{20,}",
    "aws_access_key_id": r"A(?<![A-Za-z0-9]A)(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    "github_token": r"g(?<![A-Za-z0-9_]g)h[pousr]_[A-Za-z0-9]{36,}",
    "github_fine_grained_pat": r"g(?<![A-Za-z0-9_]g)ithub_pat_[A-Za-z0-9_]{22,}",
    "slack_token": r"x(?<![A-Za-z0-9]x)ox[baprs]-(?=[A-Za-z0-9-]*\d)[A-Za-z0-9-]{10,}",
    "google_api_key": r"A(?<![A-Za-z0-9_-]A)Iza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])",
    "stripe_live_key": r"[srp](?<![A-Za-z0-9][srp])k_live_[A-Za-z0-9]{16,}",
    # RFC 6750 token68 characters; 16+ with a digit keeps "the bearer of this letter" out. A trailing
    # full stop is left to the sentence.
    "bearer_token": r"(?<=\b[Bb]earer[ \t])(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{15,}[A-Za-z0-9_~+/=-]",
    # The whole block when the END line matching the BEGIN line is there; a truncated paste still loses
    # its base64 lines (real newlines or JSON-escaped "\n").
    "pem_private_key": (
        r"-----BEGIN (?P<pem_label>(?:[A-Z0-9]+ )*)PRIVATE KEY-----"
        r"(?:[\s\S]{0,10000}?-----END (?P=pem_label)PRIVATE KEY-----|(?:(?:\r?\n|\\n)[A-Za-z0-9+/=]+)*)"
    ),
    "url_password": r"(?<=://)[^\s:/?#@\[\]]{1,128}:[^\s/?#@\[\]]{1,256}(?=@)",
}

#: Literals one of which every secret pattern contains: texts without any skip the secret patterns.
SECRET_HINTS: tuple[str, ...] = (
    "sk-", "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AIza",
    "k_live_", "earer", "PRIVATE KEY", "://",
)  # fmt: skip

# Separators of digit groups: one space or dash (or a dot for phones). Trailing lookaheads stop a match
# inside a longer run of digits or digit groups.
_END = r"(?![\w-]|\.\d)"
_CARD = r"\d(?<![\w.+-]\d)(?<!\d[ -]\d)\d{3}(?:[ -]?\d{3,6}){2,4}(?!\w|[ -]\d)"
# Area 000, 666 and 9xx, group 00 and serial 0000 are never issued.
_SSN = r"[0-8](?<![\w-][0-8])\d\d(?<!000)(?<!666)-(?!00)\d\d-(?!0000)\d{4}(?![\w-])"
_IBAN = r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d\d(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
_IPV4 = r"\d(?<![\w.]\d)\d{0,2}(?:\.\d{1,3}){3}(?!\w|\.\d)"
# A permissive IPv6 shape with at least two colons (full, "::"-compressed, IPv4-mapped); ipaddress
# decides what is valid, which also rejects times such as 10:30:45 and MAC addresses.
_IPV6 = (
    r"[0-9A-Fa-f:](?<![\w:][0-9A-Fa-f:])[0-9A-Fa-f]{0,3}:(?:[0-9A-Fa-f]{0,4}:){1,6}"
    r"(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4}|(?<=::))(?![\w:])"
)
# International: +CC then digit groups with single separators, or E.164 written without separators.
_PHONE_INTL = (
    r"\+(?<![\w+]\+)[1-9]\d{0,2}"
    r"(?:(?:[ .-]?\(\d{1,4}\)[ .-]?\d{1,5}|[ .-]\d{1,5})(?:[ .-]\d{1,5}){1,5}|\d{7,14})(?!\d)"
)
# North American: 212-555-0199, 212.555.0199, (212) 555-0199, 1-800-555-0199. Area code and exchange
# start with 2-9, which keeps most other digit groups (and all dates) out.
_NANP_REST = r"[2-9]\d\d[ .-]\d{4}" + _END
_PHONE_US = r"[2-9](?<![\w+(.-][2-9])\d\d[ .-]" + _NANP_REST
_PHONE_US_PAREN = r"\((?<![\w+(.-]\()[2-9]\d\d\) ?" + _NANP_REST
_PHONE_US_1 = r"1(?<![\w+(.-]1)[ .-](?:\([2-9]\d\d\) ?|[2-9]\d\d[ .-])" + _NANP_REST
# UK: 020 7946 0958, 0161 496 0000, 07700 900123, (020) 7946 0958 - a separator after the area code.
_UK_REST = r"\d{3,4}[ -]?\d{3,4}" + _END
_PHONE_UK = r"0(?<![\w+(.-]0)[1-9]\d{1,3}[ -]" + _UK_REST
_PHONE_UK_PAREN = r"\((?<![\w+(.-]\()0[1-9]\d{1,3}\) ?" + _UK_REST
# No lookbehind: the scan runs left to right, so an address is always found from the start of its
# local part; the '@' prefilter keeps this pattern away from most texts. The local part may be non-ASCII
# (RFC 6531): an ASCII-only class would leave "jörg.mü" in front of the placeholder.
_EMAIL = (
    r"\w[\w.%+-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9_-])"
)

_Check = Callable[[str], bool] | None

# (marker group, entity type, pattern, check, family). Order is precedence at one start position.
# The family decides which prefilter lets a text reach the pattern.
_BRANCHES: list[tuple[str, str, str, _Check, str]] = [
    ("card", "CREDIT_CARD", _CARD, _card_valid, "digit"),
    ("ssn", "US_SSN", _SSN, None, "digit"),
    ("iban", "IBAN_CODE", _IBAN, iban_valid, "digit"),
    ("ipv4", "IP_ADDRESS", _IPV4, _ipv4_valid, "digit"),
    ("ipv6", "IP_ADDRESS", _IPV6, _ipv6_valid, "digit"),
    ("phone_intl", "PHONE_NUMBER", _PHONE_INTL, _phone_valid, "digit"),
    ("phone_us", "PHONE_NUMBER", _PHONE_US, None, "digit"),
    ("phone_us_paren", "PHONE_NUMBER", _PHONE_US_PAREN, None, "digit"),
    ("phone_us_1", "PHONE_NUMBER", _PHONE_US_1, None, "digit"),
    ("phone_uk", "PHONE_NUMBER", _PHONE_UK, _uk_phone_valid, "digit"),
    ("phone_uk_paren", "PHONE_NUMBER", _PHONE_UK_PAREN, _uk_phone_valid, "digit"),
    ("email", "EMAIL_ADDRESS", _EMAIL, None, "at"),
    *((f"secret_{name}", "SECRET", source, None, "secret") for name, source in SECRET_PATTERNS.items()),
]
_DISPATCH: dict[str, tuple[str, _Check]] = {
    marker: (entity, check) for marker, entity, _, check, _ in _BRANCHES
}


@functools.cache
def _compiled(families: frozenset[str]) -> re.Pattern[str]:
    # An empty named group at the end of each alternative is the last group to close, so the match's
    # lastgroup names the alternative; a group around the whole alternative would hide its first
    # character from the matcher's fast rejection.
    return re.compile(
        "|".join(
            f"(?:{source})(?P<{marker}>)" for marker, _, source, _, family in _BRANCHES if family in families
        )
    )


#: The full combined pattern (what a text containing a digit, an '@' and a secret hint is scanned with).
STRICT_PATTERN: re.Pattern[str] = _compiled(frozenset({"digit", "at", "secret"}))


def _families(text: str) -> frozenset[str]:
    # Substring tests run at memory speed; most chat texts have no '@' and no secret hint, and a quarter
    # have no digit at all. IPv6 without any digit is possible ("dead::beef") but is only seen with '::'.
    families = []
    if "::" in text or any(d in text for d in "0123456789"):
        families.append("digit")
    if "@" in text:
        families.append("at")
    if any(hint in text for hint in SECRET_HINTS):
        families.append("secret")
    return frozenset(families)


# Local-format numbers ("Phone: 467 3395", "0490 75 40 81 office") have no shape of their own; their cue
# gives them away. `re` has no variable-length look-behind, so these run in the `regex` module, and only
# on texts that hold a digit and a cue word.
PHONE_CUE_BEFORE = (
    r"(?i:\b(?:phone|tel|telephone|mobile|cell|fax|desk|office|whatsapp|call me (?:at|on)|text me (?:at|on)"
    r"|reach me (?:at|on)|messages to|answering at|contact number|number is))\s*[:.]?\s*"
)
PHONE_BODY = r"\+?\(?\d[\d ().\-]{4,20}\d(?:\s?(?:x|ext\.?)\s?\d{1,5})?"
PHONE_CUE_AFTER = r"(?=\s*-?\s*(?i:office|fax|mobile|cell|desk|home|work)\b)"
_CUED_PHONE = regex.compile(rf"(?<={PHONE_CUE_BEFORE}){PHONE_BODY}|(?<![\w.]){PHONE_BODY}{PHONE_CUE_AFTER}")
_PHONE_CUES = (
    "phone",
    "tel",
    "mobile",
    "cell",
    "fax",
    "desk",
    "office",
    "whatsapp",
    "call me",
    "text me",
    "reach me",
    "messages to",
    "answering at",
    "number",
    "home",
    "work",
)


_DATE_LIKE = regex.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})$")


def cued_phone_valid(candidate: str) -> bool:
    """Seven to fifteen digits (E.164), so dates, years and postcodes after a cue do not count."""
    if _DATE_LIKE.match(candidate.strip()):
        return False
    digits = sum(ch.isdigit() for ch in regex.sub(r"(?:x|ext\.?)\s?\d+$", "", candidate))
    return 7 <= digits <= 15


def _cued_phones(text: str, taken: list[Span]) -> list[Span]:
    lowered = text.lower()
    if not any(cue in lowered for cue in _PHONE_CUES):
        return []
    found = []
    for match in _CUED_PHONE.finditer(text):
        start, end = match.span()
        if cued_phone_valid(match.group()) and not any(s.start < end and start < s.end for s in taken):
            found.append(Span("PHONE_NUMBER", start, end))
    return found


#: Types whose shape alone is not enough: where they stand decides (deploysim.privacy.plausibility).
_IN_CONTEXT = frozenset({"EMAIL_ADDRESS", "IP_ADDRESS"})


def accepted(text: str, match: re.Match[str], checks: ContextChecks) -> bool:
    """Whether a candidate of the combined pattern passes its check and, for contact types, its context."""
    entity, check = _DISPATCH[match.lastgroup]  # type: ignore[index]
    if check is not None and not check(match.group()):
        return False
    return entity not in _IN_CONTEXT or checks.plausible(entity, match.start(), match.end())


def find_strict(text: str, allowlist: AllowList | None = None) -> list[Span]:
    """Validated strict-type spans, non-overlapping and sorted by start; a span the operator's allow-list
    permits (by default the one in force, see deploysim.privacy.allowlist) is left out."""
    spans: list[Span] = []
    families = _families(text)
    if not families:
        return spans
    checks = ContextChecks(text)  # finds code regions only if an email candidate asks
    for match in _compiled(families).finditer(text):
        # The empty marker group closes last, so lastgroup names the alternative that matched.
        if accepted(text, match, checks):
            spans.append(Span(_DISPATCH[match.lastgroup][0], match.start(), match.end()))  # type: ignore[index]
    if "digit" in families:
        cued = _cued_phones(text, spans)
        if cued:
            spans = sorted(spans + cued, key=lambda span: span.start)
    allowed = current_allowlist() if allowlist is None else allowlist
    if allowed.patterns and spans:
        permitted = allowed.permits(text)
        spans = [span for span in spans if not permitted(span.start, span.end)]
    return spans


def redact_strict(text: str, placeholder: Callable[[str, str], str]) -> str:
    """Replace every strict span by ``placeholder(entity_type, value)``, called in reading order."""
    spans = find_strict(text)
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for span in spans:
        parts.append(text[last : span.start])
        parts.append(placeholder(span.entity_type, text[span.start : span.end]))
        last = span.end
    parts.append(text[last:])
    return "".join(parts)
