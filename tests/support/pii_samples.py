"""Synthetic PII for tests: Luhn-valid card numbers and fake provider credentials."""

from __future__ import annotations

import random


def luhn_number(prefix: str, length: int, seed: int = 0) -> str:
    """A number of ``length`` digits starting with ``prefix`` whose last digit makes the Luhn sum right."""
    rng = random.Random(f"{prefix}/{length}/{seed}")
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    # The check digit will sit at the right, so from the right of the body every first digit is doubled.
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


def grouped(number: str, sizes: tuple[int, ...], sep: str) -> str:
    assert sum(sizes) == len(number)
    parts, at = [], 0
    for size in sizes:
        parts.append(number[at : at + size])
        at += size
    return sep.join(parts)


def one_digit_changed(number: str) -> str:
    # Luhn detects every single-digit substitution; change one past the issuer prefix.
    i = len(number) // 2
    return number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]


# Fake credentials, assembled so that secret scanners do not flag this file.
def fake(prefix: str, body: str, repeat: int) -> str:
    return prefix + body * repeat


SECRETS = {
    "openai_legacy": fake("sk-", "Ab3dEf6hIj9kLm2n", 3),
    "openai_project": fake("sk-" + "proj-", "Xy7_Za-9Qw3eRt5Y", 8),
    "anthropic": fake("sk-" + "ant-api03-", "Qw3eRt5YuI8oP0aS", 6) + "AA",
    "aws": "AK" + "IA" + "IOSFODNN7EXAMPLE",
    "aws_sts": "AS" + "IA" + "Y34FZKBOKMUTVV7A",
    "github_classic": fake("gh" + "p_", "aB3dE6gH9j", 3) + "aB3dE6",
    "github_oauth": fake("gh" + "o_", "Z9y8X7w6V5", 3) + "u4T3s2",
    "github_fine_grained": "github" + "_pat_" + "11ABCDEFG0" * 2 + "ab_" + "xY9" * 19 + "xy",
    "slack": "xo" + "xb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx",
    "google": "AI" + "za" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "stripe": fake("sk" + "_live_", "4eC39HqLyjWDarjt", 2),
}
