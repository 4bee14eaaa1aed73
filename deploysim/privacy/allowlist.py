"""The operator's allow-list: values that look like PII to a detector but are known not to be.

A versioned YAML file (``data/pii_allowlist.yaml`` unless ``DEPLOYSIM_PII_ALLOWLIST`` names another)::

    version: 1
    patterns:
      - pattern: 'git@(?:github\\.com|gitlab\\.com)'
        reason: the SSH login of a code host, not a person's address

A detected span (of any type, in either tier and in the re-scan) whose whole text matches a pattern, or
that lies inside a pattern's match, is not masked. Every pattern needs a reason, so that a reviewer can
tell why real-looking data is let through; the version and pattern count go into the de-identification's
metadata.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ALLOWLIST_ENV = "DEPLOYSIM_PII_ALLOWLIST"
DEFAULT_ALLOWLIST = Path(__file__).resolve().parents[2] / "data" / "pii_allowlist.yaml"
SUPPORTED_VERSIONS = (1,)


@dataclass(frozen=True)
class AllowList:
    version: int
    patterns: tuple[re.Pattern[str], ...] = ()
    reasons: tuple[str, ...] = ()

    def allows(self, value: str) -> bool:
        return any(pattern.fullmatch(value) for pattern in self.patterns)

    def permits(self, text: str) -> Callable[[int, int], bool]:
        """Whether the span text[start:end] stays: a pattern matches it whole, or it lies inside a
        pattern's match in `text` (a URL detector's "gitlab.com" inside an allowed "git@gitlab.com")."""
        regions: list[tuple[int, int]] | None = None

        def permitted(start: int, end: int) -> bool:
            nonlocal regions
            if self.allows(text[start:end]):
                return True
            if regions is None:
                regions = [m.span() for p in self.patterns for m in p.finditer(text) if m.end() > m.start()]
            return any(s <= start and end <= e for s, e in regions)

        return permitted

    def metadata(self) -> dict[str, int]:
        return {"pii.allowlist_version": self.version, "pii.allowlist_patterns": len(self.patterns)}


def parse_allowlist(document: Any, source: str = "allow-list") -> AllowList:
    """Validate a loaded YAML document; every problem is reported with where it is."""
    if not isinstance(document, dict):
        raise ValueError(f"{source}: expected a mapping with 'version' and 'patterns'")
    unknown = set(document) - {"version", "patterns"}
    if unknown:
        raise ValueError(f"{source}: unknown keys {sorted(unknown)}")
    version = document.get("version")
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        raise ValueError(f"{source}: version must be one of {list(SUPPORTED_VERSIONS)}, not {version!r}")
    entries = document.get("patterns") or []
    if not isinstance(entries, list):
        raise ValueError(f"{source}: 'patterns' must be a list")
    patterns, reasons = [], []
    for i, entry in enumerate(entries):
        where = f"{source}: patterns[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"pattern", "reason"}:
            raise ValueError(f"{where}: expected exactly 'pattern' and 'reason'")
        if not isinstance(entry["reason"], str) or not entry["reason"].strip():
            raise ValueError(f"{where}: a reason is required")
        if not isinstance(entry["pattern"], str) or not entry["pattern"]:
            raise ValueError(f"{where}: the pattern must be a non-empty string")
        try:
            patterns.append(re.compile(entry["pattern"]))
        except re.error as error:
            raise ValueError(f"{where}: invalid regular expression: {error}") from error
        reasons.append(entry["reason"].strip())
    return AllowList(version=version, patterns=tuple(patterns), reasons=tuple(reasons))


@functools.cache
def load_allowlist(path: Path) -> AllowList:
    """The allow-list at `path`, read once per process."""
    return parse_allowlist(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


def allowlist_path() -> Path:
    return Path(os.environ.get(ALLOWLIST_ENV) or DEFAULT_ALLOWLIST)


def current_allowlist() -> AllowList:
    # Keyed by the raw setting: this runs once per scanned text, where building a Path would show.
    return _allowlist_for(os.environ.get(ALLOWLIST_ENV) or "")


@functools.cache
def _allowlist_for(configured: str) -> AllowList:
    return load_allowlist(Path(configured) if configured else DEFAULT_ALLOWLIST)


def allowlist_metadata() -> dict[str, int]:
    """``pii.allowlist_version`` and ``pii.allowlist_patterns`` of the allow-list in force."""
    return current_allowlist().metadata()
