from __future__ import annotations

import itertools
from collections import Counter

import pytest

from deploysim.privacy import strict_scan
from deploysim.privacy.plausibility import ContextChecks
from deploysim.privacy.strict_scan import (
    STRICT_PATTERN,
    STRICT_TYPES,
    Span,
    card_number_valid,
    find_strict,
    iban_valid,
    redact_strict,
)
from tests.support.pii_samples import SECRETS, grouped, luhn_number, one_digit_changed


def hits(text: str) -> list[tuple[str, str]]:
    return [(s.entity_type, text[s.start : s.end]) for s in find_strict(text)]


def only(text: str, value: str, entity_type: str) -> None:
    """``value`` occurs once in ``text`` and is the only hit, with exactly its span."""
    start = text.index(value)
    assert find_strict(text) == [Span(entity_type, start, start + len(value))]


@pytest.mark.parametrize(
    "email",
    ["jane.doe@example.com", "j_doe+news@mail.example.co.uk", "first.last123@sub-domain.example.org"],
)
def test_email(email):
    only(f"Write to {email}, or not.", email, "EMAIL_ADDRESS")


def test_an_email_with_a_non_ascii_local_part_is_masked_whole():
    # Otherwise "jörg.mü" would be left in front of the placeholder.
    only("Schreib an jörg.müller@gmail.com bitte", "jörg.müller@gmail.com", "EMAIL_ADDRESS")


@pytest.mark.parametrize(
    "phone",
    [
        "(212) 555-0199",
        "212-555-0199",
        "212.555.0199",
        "1-800-555-0199",
        "+1 212 555 0199",
        "+1 (212) 555-0199",
        "+44 20 7946 0958",
        "+33 1 23 45 67 89",
        "+14155550123",
        "020 7946 0958",
        "07700 900123",
        "(0161) 496 0000",
    ],
)
def test_phone(phone):
    only(f"Call me on {phone} tomorrow.", phone, "PHONE_NUMBER")


CARDS = [
    ("visa_16", "4", 16, (4, 4, 4, 4)),
    ("visa_13", "4", 13, (13,)),
    ("mastercard_5", "51", 16, (4, 4, 4, 4)),
    ("amex", "37", 15, (4, 6, 5)),
    ("discover", "6011", 16, (4, 4, 4, 4)),
    ("maestro_12", "6304", 12, (4, 4, 4)),
    ("visa_19", "4", 19, (4, 4, 4, 4, 3)),
    ("mastercard_2", "2221", 16, (4, 4, 4, 4)),
    ("jcb_15", "2131", 15, (4, 6, 5)),
]


@pytest.mark.parametrize(("kind", "prefix", "length", "sizes"), CARDS, ids=[c[0] for c in CARDS])
def test_card(kind, prefix, length, sizes):
    number = luhn_number(prefix, length)
    bad = one_digit_changed(number)
    for sep in ("", " ", "-"):
        written = grouped(number, sizes, sep)
        only(f"Card: {written}.", written, "CREDIT_CARD")
        # One wrong digit: not a card, and not reported as anything else either.
        assert find_strict(f"Card: {grouped(bad, sizes, sep)}.") == [], kind


def test_card_check_needs_an_issuer_prefix_that_fits_the_length():
    assert card_number_valid(luhn_number("4", 16))
    assert not card_number_valid(luhn_number("9", 16))  # no such issuer
    assert not card_number_valid(luhn_number("4", 12))  # only Maestro comes in 12 digits
    assert not card_number_valid(luhn_number("4", 20))


@pytest.mark.parametrize(
    "iban", ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR14 2004 1010 0505 0001 3M02 606"]
)
def test_iban(iban):
    only(f"IBAN: {iban} (main account)", iban, "IBAN_CODE")


def test_iban_with_a_wrong_check_is_rejected():
    assert not iban_valid("GB82WEST12345698765433")
    assert find_strict("IBAN: GB82 WEST 1234 5698 7654 33 and DE89370400440532013001") == []


def test_ssn():
    only("SSN 123-45-6789 on file", "123-45-6789", "US_SSN")


@pytest.mark.parametrize("ssn", ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"])
def test_never_issued_ssns_are_rejected(ssn):
    assert find_strict(f"SSN {ssn} on file") == []


@pytest.mark.parametrize(
    "ip",
    ["192.168.1.10", "8.8.8.8", "203.0.113.7", "2001:db8::1", "fe80::1ff:fe23:4567:890a",
     "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::ffff:192.0.2.128"],
)  # fmt: skip
def test_ip(ip):
    only(f"from {ip} at noon", ip, "IP_ADDRESS")


@pytest.mark.parametrize(
    "text", ["from 256.1.1.1", "from 1.2.3", "v1.2.3.4.5", "at 10:30:45", "MAC 00:1A:2B:3C:4D:5E"]
)
def test_not_ip(text):
    assert find_strict(text) == []


@pytest.mark.parametrize("kind", list(SECRETS))
def test_secret_provider_keys(kind):
    only(f"key={SECRETS[kind]} ok", SECRETS[kind], "SECRET")


def test_secret_bearer_pem_and_url_password():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"
    only(f"Authorization: Bearer {token}", token, "SECRET")
    only("postgres://app:hunter2x@db.internal:5432/app", "app:hunter2x", "SECRET")
    block = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\nAwEHoUQDQgAE\n-----END EC PRIVATE KEY-----"
    only(f"here:\n{block}\nbye", block, "SECRET")


def test_secret_negatives():
    text = (
        "Use sk-abc for the demo, scikit-learn (sk-learn) for models, request "
        "123e4567-e89b-12d3-a456-426614174000, and the bearer of good news. See https://example.com/a."
    )
    assert find_strict(text) == []


def test_overlapping_candidates_resolve_to_one_span():
    card = grouped(luhn_number("4", 16), (4, 4, 4, 4), " ")
    # The card's digit groups are not reported as phones, the URL password not as an email.
    assert hits(f"pay with {card} now") == [("CREDIT_CARD", card)]
    assert hits("https://bob:pw123@example.com") == [("SECRET", "bob:pw123")]
    # The IBAN's digits are not a card or a phone.
    assert hits("IBAN GB82 WEST 1234 5698 7654 32") == [("IBAN_CODE", "GB82 WEST 1234 5698 7654 32")]
    # A long digit run is neither a card nor a phone.
    assert find_strict("tracking 4111111111111111222233334444") == []


def test_spans_are_sorted_and_disjoint():
    text = (
        "Mail a@example.com, call +1 212 555 0199, card 4111-1111-1111-1111, SSN 123-45-6789, "
        "IP 10.0.0.1, IBAN DE89370400440532013000, key " + SECRETS["aws"] + "."
    )
    spans = find_strict(text)
    assert [s.entity_type for s in spans] == [
        "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "IBAN_CODE", "SECRET"
    ]  # fmt: skip
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert set(STRICT_TYPES) == {s.entity_type for s in spans}


def test_redact_numbers_placeholders_in_reading_order():
    seen: Counter[str] = Counter()
    calls: list[tuple[str, str]] = []

    def placeholder(entity_type: str, value: str) -> str:
        calls.append((entity_type, value))
        seen[entity_type] += 1
        return f"<{entity_type}_{seen[entity_type]}>"

    text = "From a@example.com to b@example.com, cc 212-555-0199, then c@example.org."
    assert redact_strict(text, placeholder) == (
        "From <EMAIL_ADDRESS_1> to <EMAIL_ADDRESS_2>, cc <PHONE_NUMBER_1>, then <EMAIL_ADDRESS_3>."
    )
    assert calls == [
        ("EMAIL_ADDRESS", "a@example.com"),
        ("EMAIL_ADDRESS", "b@example.com"),
        ("PHONE_NUMBER", "212-555-0199"),
        ("EMAIL_ADDRESS", "c@example.org"),
    ]


def test_redact_works_with_the_deidentifier_placeholder_book():
    from deploysim.privacy.deidentifier import PlaceholderBook

    book = PlaceholderBook()
    text = "x@example.com wrote to y@example.com and again to x@example.com"
    assert redact_strict(text, book.placeholder) == (
        "<EMAIL_ADDRESS_1> wrote to <EMAIL_ADDRESS_2> and again to <EMAIL_ADDRESS_1>"
    )


def test_redact_without_hits_returns_the_text():
    assert redact_strict("nothing here", lambda e, v: "X") == "nothing here"


@pytest.mark.parametrize(
    "text",
    [
        "The quick brown fox jumps over the lazy dog. Nothing personal here at all!",
        "The meeting is on 2024-01-15 at 10:30, or 15.01.2024, or 01/15/2024, or Jan 15, 2024.",
        "Upgrade from Python 3.11.7 to 3.12.1; dagster==1.13.27; v2.0.0-rc.1; build 20240115.",
        "It costs $1,299.99 (or €1.049,00); 2,500 units sold in 2023 and 12,345,678 views.",
        "Call at 14:30:00 UTC; timestamp 2024-01-15T10:00:00+01:00; ratio 16:9; scores 3-2-1.",
        "Use std::vector and Foo::bar in C++; icon@2x.png; npm i react@18.2.0; see RFC 6750.",
        "Serve 4 people: 2 cups flour, 1/2 tsp salt, bake at 350 F for 25-30 minutes.",
        "Population grew from 1,234,567 to 7,654,321 between 1990 and 2020.",
    ],
)
def test_no_hits_on_ordinary_text(text):
    assert find_strict(text) == []


def test_the_prefilter_does_not_change_results():
    # find_strict scans each text only with the alternatives its digits / '@' / secret hints allow;
    # the full combined pattern must give the same spans.
    texts = [
        "Mail a@example.com, call +1 212 555 0199, card 4111-1111-1111-1111, SSN 123-45-6789.",
        "IP 10.0.0.1 or dead::beef:1 or x[1::2], IBAN DE89370400440532013000, key " + SECRETS["aws"] + ".",
        "Bearer abcdefghijklmnop1234 and https://u:p4ss@example.com and " + SECRETS["slack"],
        "No digits here, no at sign, nothing.",
        "Version 3.11.7 released 2024-01-15 for $12.99.",
    ]
    for text in texts:
        checks = ContextChecks(text)
        reference = [
            Span(strict_scan._DISPATCH[m.lastgroup][0], m.start(), m.end())
            for m in STRICT_PATTERN.finditer(text)
            if strict_scan.accepted(text, m, checks)
        ]
        assert find_strict(text) == reference


def test_local_format_phones_are_found_by_their_cue():
    from deploysim.privacy.strict_scan import find_strict

    for text, number in [
        ("Phone: 467 3395", "467 3395"),
        ("Mobile: 0490 75 40 81\nDesk: +41 (0)96 471 07 95", "0490 75 40 81"),
        ("416 60 039 office", "416 60 039"),
        ("Can someone call me on 9472 7916? Thanks", "9472 7916"),
    ]:
        spans = [text[s.start : s.end] for s in find_strict(text) if s.entity_type == "PHONE_NUMBER"]
        assert number in spans, (text, spans)
    # A cue followed by a year, a short code or a date is not a phone.
    for text in ["Office hours: 2024", "Call me on 1234", "Phone: 2024-01-15 meeting"]:
        assert [s for s in find_strict(text) if s.entity_type == "PHONE_NUMBER"] == [], text
