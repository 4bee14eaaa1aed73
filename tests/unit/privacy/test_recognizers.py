from __future__ import annotations

import pytest
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

from deploysim.privacy.recognizers import SecretRecognizer, SupplementaryCardRecognizer, custom_recognizers
from tests.support.pii_samples import SECRETS, grouped, luhn_number, one_digit_changed


def analyze(recognizer: EntityRecognizer, text: str) -> list[RecognizerResult]:
    return recognizer.analyze(text, recognizer.supported_entities, None)


def found(recognizer: EntityRecognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in analyze(recognizer, text)]


# (kind, prefix, length, groupings) - the card kinds Presidio's own recognizer misses.
CARD_KINDS = [
    ("maestro_12", "5018", 12, (4, 4, 4)),
    ("maestro_12_uk", "6759", 12, (4, 4, 4)),
    ("visa_19", "4", 19, (4, 4, 4, 4, 3)),
    ("mastercard_2221", "2221", 16, (4, 4, 4, 4)),
    ("mastercard_2720", "2720", 16, (4, 4, 4, 4)),
    ("mastercard_25", "25", 16, (4, 4, 4, 4)),
    ("jcb_15_2131", "2131", 15, (4, 6, 5)),
    ("jcb_15_1800", "1800", 15, (4, 4, 4, 3)),
]


def test_the_helper_makes_luhn_valid_numbers():
    # 4111 1111 1111 1111 is the well-known Visa test number.
    assert luhn_number("411111111111111", 16) == "4111111111111111"


@pytest.mark.parametrize(("kind", "prefix", "length", "sizes"), CARD_KINDS, ids=[k[0] for k in CARD_KINDS])
def test_card_kinds_presidio_misses_are_found_with_full_score(kind, prefix, length, sizes):
    recognizer = SupplementaryCardRecognizer()
    for seed in range(3):
        number = luhn_number(prefix, length, seed)
        for text_number in (number, grouped(number, sizes, " "), grouped(number, sizes, "-")):
            text = f"my card is {text_number}, thanks"
            results = analyze(recognizer, text)
            assert [(text[r.start : r.end], r.entity_type, r.score) for r in results] == [
                (text_number, "CREDIT_CARD", 1.0)
            ], kind


@pytest.mark.parametrize(("kind", "prefix", "length", "sizes"), CARD_KINDS, ids=[k[0] for k in CARD_KINDS])
def test_card_with_one_digit_changed_is_rejected(kind, prefix, length, sizes):
    recognizer = SupplementaryCardRecognizer()
    for seed in range(3):
        bad = one_digit_changed(luhn_number(prefix, length, seed))
        assert found(recognizer, f"card {bad} and {grouped(bad, sizes, ' ')}") == [], kind


def test_presidio_alone_misses_these_kinds():
    # The reason the supplementary recognizer exists; if Presidio learns these, it can go.
    presidio = CreditCardRecognizer()
    for _, prefix, length, sizes in CARD_KINDS:
        if prefix == "1800":  # Presidio's own pattern covers 1800 numbers grouped 4-4-4-3.
            continue
        text = grouped(luhn_number(prefix, length), sizes, " ")
        assert text not in found(presidio, text)


def test_cards_do_not_match_inside_longer_digit_runs_or_ordinary_numbers():
    recognizer = SupplementaryCardRecognizer()
    maestro = luhn_number("5018", 12)
    assert found(recognizer, f"order 9{maestro}") == []
    assert found(recognizer, f"ref {maestro}7") == []
    assert found(recognizer, "In 2024 we sold 2,500 units at $12.99; call 212-555-0199.") == []


@pytest.mark.parametrize("kind", list(SECRETS))
def test_provider_keys_are_found(kind):
    secret = SECRETS[kind]
    text = f"here is my key {secret} - please keep it safe"
    results = analyze(SecretRecognizer(), text)
    assert [(text[r.start : r.end], r.entity_type) for r in results] == [(secret, "SECRET")]


def test_google_key_has_exact_length():
    assert len(SECRETS["google"]) == 39


def test_bearer_token_span_is_the_token():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"
    text = f"curl -H 'Authorization: Bearer {token}' https://api.example.com"
    assert found(SecretRecognizer(), text) == [token]


def test_url_password_span_is_the_credentials():
    text = "DATABASE_URL=postgres://app_user:s3cr3t-P4ss@db.internal:5432/app"
    assert found(SecretRecognizer(), text) == ["app_user:s3cr3t-P4ss"]


def test_pem_private_key_block_is_one_span():
    block = (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n"
        "aFDrBz9vFqU4yVhHhjQkPmH1+W6ZS0ZRpXc=\n"
        "-----END RSA PRIVATE KEY-----"
    )
    text = f"my key:\n{block}\nthanks"
    assert found(SecretRecognizer(), text) == [block]
    unlabelled = block.replace("RSA ", "")
    assert found(SecretRecognizer(), f"x {unlabelled} y") == [unlabelled]


def test_truncated_pem_block_still_loses_its_base64_lines():
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n"
    assert found(SecretRecognizer(), text) == [text.rstrip("\n")]


@pytest.mark.parametrize(
    "text",
    [
        "The scikit-learn package is imported as sklearn; sk-learn is a common typo.",
        "Try sk-abc or sk-1234 in the demo.",
        "Request id 123e4567-e89b-12d3-a456-426614174000 failed.",
        "The bearer of this letter is a trusted friend; Bearer authentication is in RFC 6750.",
        "Use https://example.com/path?user=a:b and ftp://files.example.org/pub.",
        "AKIA is an acronym; ghp_short is not a token; xoxb- alone is nothing.",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "Our API key rotation policy: keys expire after 90 days.",
    ],
)
def test_no_secrets_in_ordinary_text(text):
    assert found(SecretRecognizer(), text) == []


def test_secret_patterns_are_case_sensitive():
    assert found(SecretRecognizer(), "akia" + "iosfodnn7example") == []


def test_custom_recognizers_returns_one_of_each():
    recognizers = custom_recognizers()
    assert [type(r) for r in recognizers] == [SupplementaryCardRecognizer, SecretRecognizer]
    assert all(isinstance(r, EntityRecognizer) for r in recognizers)
