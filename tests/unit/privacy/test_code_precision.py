"""Code, versions, slices and package@version strings are not contact data; real addresses in prose are.

Both the strict tier (find_strict) and the Presidio pattern re-scan (Deidentifier.strict_hits) are held
to it, since the re-scan stops (or quarantines) a conversation for anything the strict tier left alone.
"""

from __future__ import annotations

import pytest

from deploysim.privacy.deidentifier import Deidentifier
from deploysim.privacy.plausibility import code_regions
from deploysim.privacy.strict_scan import find_strict


@pytest.fixture(scope="module")
def rescan() -> Deidentifier:
    return Deidentifier(ner=False)


def strict(text: str) -> list[tuple[str, str]]:
    return [(s.entity_type, text[s.start : s.end]) for s in find_strict(text)]


def rescanned(deidentifier: Deidentifier, text: str) -> list[tuple[str, str]]:
    return [(r.entity_type, text[r.start : r.end]) for r in deidentifier.strict_hits(text)]


NOT_CONTACT_DATA = [
    "every sixth column: `solution[:,::6]`",
    "x = solution[:,::6]\ny = a[1::2] + b[::3]",
    "```python\nevens = values[::2]\nodds = values[1::2]\n```",
    '<link href="https://cdn.jsdelivr.net/npm/tailwindcss@2.2.19/dist/tailwind.min.css" rel="stylesheet">',
    "npm i tailwindcss@2.2.19/dist and react@18.2.0; see icon@2x.png and bundle@1.2.beta",
    "import it from https://unpkg.com/lodash@4.17.21/lodash.min.js",
    "```python\nout = x@self.weight\n```",
    "Install version 1.0.0.0 or pkg==2.0.1.3; the OID is 1.3.6.1.4.1.311.",
    "Invalid examples: 192.168.1.100.100 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334.100",
    "In C++, f::a and dead::beef are names, and std::vector is a type.",
]


@pytest.mark.parametrize("text", NOT_CONTACT_DATA)
def test_code_and_versions_are_not_masked_by_the_strict_tier(text):
    assert strict(text) == []


@pytest.mark.parametrize("text", NOT_CONTACT_DATA)
def test_code_and_versions_are_not_flagged_by_the_rescan(rescan, text):
    assert rescanned(rescan, text) == []


REAL = [
    ("EMAIL_ADDRESS", "Please write to maria.lopez@gmail.com about the refund.", "maria.lopez@gmail.com"),
    ("EMAIL_ADDRESS", "My email is UtaKortig@jourrapide.com?", "UtaKortig@jourrapide.com"),
    ("EMAIL_ADDRESS", "`cy.get('#email').type('jane.roe@gmail.com')`", "jane.roe@gmail.com"),
    ("EMAIL_ADDRESS", "Mail x@163.com or y@mail.example.co.uk", "x@163.com"),
    ("IP_ADDRESS", "keep getting address 41.173.96.26 blocked", "41.173.96.26"),
    ("IP_ADDRESS", "my server is at 2001:db8:85a3::8a2e:370:7334 now", "2001:db8:85a3::8a2e:370:7334"),
    ("IP_ADDRESS", "connect to http://[2001:db8::1]:8080/ today", "2001:db8::1"),
    ("IP_ADDRESS", "the gateway address is fe80::1 on eth0", "fe80::1"),
    ("IP_ADDRESS", "```\nip = 'fe80::1'\n```", "fe80::1"),
    ("IP_ADDRESS", "ping ::ffff:192.0.2.128 please", "::ffff:192.0.2.128"),
    ("IP_ADDRESS", "then run `ssh root@203.0.113.5`", "203.0.113.5"),
    ("IP_ADDRESS", "the router's address (fe80::1) is fixed", "fe80::1"),
]


@pytest.mark.parametrize(("entity", "text", "value"), REAL, ids=[r[2] for r in REAL])
def test_real_addresses_in_prose_and_code_are_still_masked(entity, text, value):
    assert (entity, value) in strict(text)


@pytest.mark.parametrize(("entity", "text", "value"), REAL, ids=[r[2] for r in REAL])
def test_real_addresses_are_still_flagged_by_the_rescan(rescan, entity, text, value):
    assert entity in {e for e, _ in rescanned(rescan, text)}


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0", "255.255.255.0", "255.255.240.0", "::1"])
def test_loopback_unspecified_and_netmasks_name_no_host(rescan, address):
    text = f"bind the server to {address} with port 5000"
    assert strict(text) == [] and rescanned(rescan, text) == []


def test_a_short_ipv6_needs_a_networking_word_and_no_slicing_position():
    assert strict("values fe80::1 and 2001::1") == []
    assert strict("host 2001::1") == [("IP_ADDRESS", "2001::1")]
    # Even after a networking word, a slice is a slice.
    assert strict("ip_list = addresses[1::2]") == []


def test_a_short_ipv6_that_is_the_whole_text_is_an_address():
    # A JSON value ({"ip": "fe80::1"}) is scanned on its own, without its key.
    assert strict("fe80::1") == [("IP_ADDRESS", "fe80::1")]


def test_email_with_a_file_extension_or_version_for_a_domain_is_not_an_email():
    for text in ["logo@2x.webp", "font@latest.woff2", "module@1.2.min", "pkg@v1.2.mjs", "a@b.py"]:
        assert strict(f"see {text} here") == [], text


def test_inside_code_an_email_needs_a_real_top_level_domain():
    assert strict("```\nh = x@self.weights\n```") == []
    assert strict("h = x@self.weights") == [("EMAIL_ADDRESS", "x@self.weights")]  # prose: kept masked
    assert strict("```\nsend('ann@corp.com')\n```") == [("EMAIL_ADDRESS", "ann@corp.com")]


def test_presidio_card_and_ssn_hits_must_pass_the_strict_tiers_checks(rescan):
    # Luhn-valid digit runs that no issuer uses, and an ISBN in a DOI, from real answers.
    assert rescanned(rescan, 'binary_string = "10011000101100"') == []
    assert rescanned(rescan, "which simplifies to approximately 1931851652578137/1000000000000000.") == []
    assert rescanned(rescan, "https://doi.org/10.1007/978-536-90-4399-4_3") == []
    assert rescanned(rescan, "my ssn is 536-90-4399") == [("US_SSN", "536-90-4399")]
    assert rescanned(rescan, "card 4111 1111 1111 1111") == [("CREDIT_CARD", "4111 1111 1111 1111")]


def test_code_regions_are_fences_and_inline_spans():
    text = "a `b` c\n```py\nd\n```\ne ``f`g`` h\n~~~\nopen"
    spans = [text[s:e] for s, e in code_regions(text)]
    assert spans == ["```py\nd\n```", "~~~\nopen", "`b`", "``f`g``"]
    assert code_regions("no code here") == []
