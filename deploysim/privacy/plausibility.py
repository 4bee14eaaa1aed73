"""Whether a candidate email, IP address or SSN is PII where it stands, or code.

Both tiers and the blocking re-scan ask the same questions here, so what one tier leaves alone the re-scan
does not flag: a hit the tiers judged code would otherwise stop (or quarantine) a healthy conversation.
Each rule was read off the hits on real prompts and answers (benchmarks/pii_code_precision.py):

- IP: never loopback, unspecified or a netmask (127.0.0.1, 0.0.0.0, ::1, 255.255.255.0), which name no
  host of anyone's; the strict tier already left "::" and "::1" alone for that reason.
- IPv4: a valid address that is not part of a longer dotted run ("192.168.1.100.100", "1.3.6.1.4.1")
  and not a version ("version 1.0.0.0", "pkg==2.0.1.3"); "root@203.0.113.5" stays an address.
- IPv6: a valid address (``ipaddress``) with context. Three or more groups (a routing prefix and a host
  part, ``2001:db8::1``, an embedded IPv4 counting as two) is an address wherever it stands, since no
  slice or scope operator has that shape; two groups ("fe80::1", but also numpy's ``a[1::2]`` or
  ``x[:,::6]``, C++'s ``f::a``) needs a networking word shortly before it on its line (ip, host, server,
  address, gateway, ...), or to be the whole text (a JSON value), and never stands in slicing position.
- Email: a plausible domain. The last label is alphabetic, 2+ letters and not a file extension
  (``icon@2x.png``, ``x@bundle.min``), no label pair is a version (``tailwindcss@2.2.19``), and the local
  part is not a URL path (Presidio's pattern reads ``cdn.example.net/npm/pkg@2.2.19`` as one address).
  Inside code (fenced blocks, inline code spans) the last label must also be a real top-level domain,
  which keeps matrix products such as ``x@self.weight`` out.
- SSN: not part of a longer hyphenated number (an ISBN in a DOI, ``978-123-45-6789-4``), which the strict
  tier's own pattern already refuses and Presidio's does not.

Real addresses in prose keep every check they had: the rules only drop shapes that are not contact data.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable

import tldextract

# File extensions that look like a top-level domain after an '@' ("icon@2x.png", "pkg@latest.tgz").
FILE_EXTENSIONS = frozenset(
    {
        "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "js", "mjs", "cjs", "css",
        "scss", "sass", "less", "ts", "tsx", "jsx", "vue", "json", "yaml", "yml", "toml", "ini", "cfg", "txt",
        "log", "html", "htm", "xml", "pdf", "gz", "tgz", "bz2", "xz", "zip", "tar", "whl", "mp3", "mp4",
        "wav", "lock", "py", "pyc", "ipynb", "rb", "php", "java", "kt", "swift", "cpp", "hpp", "min", "map",
        "md", "rst", "sh", "bat", "exe", "dll", "wasm", "woff", "woff2", "ttf", "otf",
    }
)  # fmt: skip

_FENCED = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"(`+)(?!`)[^\n]+?(?<!`)\1(?!`)")
_VERSION_LABELS = re.compile(r"(?:^|\.)[vV]?\d+\.\d+(?:\.|$)")
# Not '@': "ssh root@203.0.113.5" is an address.
_IPV4_VERSION_CUE = re.compile(r"(?i:\bv|\bversion|\bver\.?|\brelease|\bbuild|==|>=|<=|~=)\s*:?\s*$")
_IP_CUE = re.compile(
    r"(?<![A-Za-z])(?i:ip|ipv6|ip6|inet6?|addr|address|addresses|host|hostname|server|gateway|dns"
    r"|nameserver|router?|subnet|prefix|ping|peer|listen|bind|interface|endpoint|proxy)(?![A-Za-z])"
)
IP_CUE_CHARS = 48


def code_regions(text: str) -> list[tuple[int, int]]:
    """Fenced blocks (an unclosed fence runs to the end) and inline code spans, as (start, end)."""
    if "`" not in text and "~~~" not in text:
        return []
    regions = [m.span() for m in _FENCED.finditer(text)]
    for match in _INLINE.finditer(text):
        if not any(start <= match.start() < end for start, end in regions):
            regions.append(match.span())
    return regions


@functools.cache
def _public_suffixes() -> tldextract.TLDExtract:
    # The bundled snapshot of the public suffix list: never fetched at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def email_plausible(text: str, start: int, end: int, in_code: Callable[[], bool]) -> bool:
    local, _, domain = text[start:end].rpartition("@")
    local = local.rsplit("/", 1)[-1]
    labels = domain.split(".")
    tld = labels[-1]
    if not local or len(labels) < 2 or not (tld.isascii() and tld.isalpha() and len(tld) >= 2):
        return False
    if tld.lower() in FILE_EXTENSIONS or _VERSION_LABELS.search(domain):
        return False
    return not in_code() or _public_suffixes()(domain).suffix != ""


def _ip_valid(value: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface | None:
    try:
        return ipaddress.ip_interface(value.split("%", 1)[0])
    except ValueError:
        return None


def _is_netmask(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # Contiguous one bits from the top, starting with a full first octet: 255.255.240.0, not 255.1.2.3.
    if address.version != 4 or int(address) >> 24 != 255:
        return False
    host_bits = ~int(address) & 0xFFFFFFFF
    return host_bits & (host_bits + 1) == 0


def _ipv6_groups(value: str) -> int:
    address = value.split("/", 1)[0].split("%", 1)[0]
    groups = [part for part in address.split(":") if part]
    return len(groups) + (1 if groups and "." in groups[-1] else 0)


def _slicing_position(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 8) : start].rstrip(" ")
    after = text[end : end + 8].lstrip(" ")
    if before.endswith("://["):
        return False
    return before[-1:] in ("[", ",") or after[:1] in ("]", ",")


def ip_plausible(text: str, start: int, end: int) -> bool:
    value = text[start:end]
    interface = _ip_valid(value)
    if interface is None:
        return False
    address = interface.ip
    if address.is_loopback or address.is_unspecified or _is_netmask(address):
        return False
    before, after = text[max(0, start - IP_CUE_CHARS) : start], text[end : end + 2]
    if re.match(r"\.\d", after) or before.endswith("."):
        return False  # a longer dotted run: an OID, a version, an invalid example
    if interface.version == 4:
        return _IPV4_VERSION_CUE.search(before) is None
    if _ipv6_groups(value) >= 3:
        return True
    if text.strip() == value:
        return True
    if _slicing_position(text, start, end):
        return False
    line = before.rsplit("\n", 1)[-1]
    return _IP_CUE.search(line) is not None


def ssn_plausible(text: str, start: int, end: int) -> bool:
    return not (re.search(r"\d-$", text[max(0, start - 2) : start]) or re.match(r"-\d", text[end : end + 2]))


class ContextChecks:
    """The checks for one text; its code regions are found once, and only if an email asks."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._regions: list[tuple[int, int]] | None = None

    def _in_code(self, start: int, end: int) -> bool:
        if self._regions is None:
            self._regions = code_regions(self.text)
        return any(s <= start and end <= e for s, e in self._regions)

    def plausible(self, entity_type: str, start: int, end: int) -> bool:
        if entity_type == "EMAIL_ADDRESS":
            return email_plausible(self.text, start, end, lambda: self._in_code(start, end))
        if entity_type == "IP_ADDRESS":
            return ip_plausible(self.text, start, end)
        if entity_type == "US_SSN":
            return ssn_plausible(self.text, start, end)
        return True
