"""Secrets out of every text that is stored or logged: key values, auth-header echoes, URL credentials.

An endpoint's error body may echo the request, Authorization header included, and a base URL may carry
`user:password@`; any text bound for a table, a log line or an exception passes `scrub_secrets` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit, urlunsplit

REDACTED = "[REDACTED]"
#: Shorter values are not scrubbed by value: "x" would shred every message, and no real key is that short.
_MIN_SECRET_CHARS = 6

# `Authorization: Bearer ...`, `"api-key": "..."`, `x-api-key=...`, in raw headers, JSON or a repr.
_HEADER = re.compile(
    r"""(?ix)
    (?P<name>["']?(?:proxy-)?(?:authorization|x-api-key|api[-_]key|openai[-_]api[-_]key)["']?)
    (?P<sep>\s*[:=]\s*(?:b?["'])?)
    (?P<value>(?:\[REDACTED\]|[^"'\r\n,;}\]])+)
    """
)
_SCHEME_TOKEN = re.compile(r"(?i)\b(?P<scheme>bearer|basic|token)\s+(?P<value>[A-Za-z0-9._~+/=-]{6,})")
# Userinfo of any URL: scheme://user[:password]@host
_USERINFO = re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s@?#\"']+@")
# Provider key shapes (OpenAI, Anthropic, Google, Hugging Face, GitHub, AWS), for echoes of other keys.
_KEY_SHAPES = re.compile(
    r"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{30,}|hf_[A-Za-z0-9]{30,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16})\b"
)


def scrub_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every secret value, auth-header value, bearer token and URL userinfo replaced."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET_CHARS}, key=len, reverse=True):
        for form in {secret, quote(secret, safe="")}:
            text = text.replace(form, REDACTED)
    text = _HEADER.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
    text = _SCHEME_TOKEN.sub(lambda m: f"{m['scheme']} {REDACTED}", text)
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    return _KEY_SHAPES.sub(REDACTED, text)


def strip_credentials(url: str) -> str:
    """`url` without its userinfo, for anything stored or shown: https://user:pass@host/v1 -> https://host/v1."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub_secrets(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=host))
