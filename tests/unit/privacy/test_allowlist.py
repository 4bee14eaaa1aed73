"""The operator's allow-list: versioned, a reason for every pattern, applied in both tiers and the re-scan."""

from __future__ import annotations

import pytest

from deploysim.privacy.allowlist import (
    ALLOWLIST_ENV,
    DEFAULT_ALLOWLIST,
    allowlist_metadata,
    current_allowlist,
    load_allowlist,
    parse_allowlist,
)
from deploysim.privacy.deidentifier import Deidentifier
from deploysim.privacy.strict_scan import find_strict

GIT_HOSTS = r"git@(?:github\.com|gitlab\.com)"


@pytest.fixture
def git_hosts_allowed(tmp_path, monkeypatch):
    path = tmp_path / "allow.yaml"
    path.write_text(
        f"version: 1\npatterns:\n  - pattern: '{GIT_HOSTS}'\n    reason: SSH login of a code host\n"
    )
    monkeypatch.setenv(ALLOWLIST_ENV, str(path))
    return path


def test_the_shipped_allowlist_is_version_1_and_empty():
    shipped = load_allowlist(DEFAULT_ALLOWLIST)
    assert (shipped.version, shipped.patterns) == (1, ())


def test_the_environment_names_the_file_and_metadata_says_what_is_in_force(git_hosts_allowed, monkeypatch):
    assert current_allowlist().reasons == ("SSH login of a code host",)
    assert allowlist_metadata() == {"pii.allowlist_version": 1, "pii.allowlist_patterns": 1}
    monkeypatch.delenv(ALLOWLIST_ENV)
    assert allowlist_metadata() == {"pii.allowlist_version": 1, "pii.allowlist_patterns": 0}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": 2, "patterns": []}, "version must be one of [1]"),
        ({"patterns": []}, "version must be one of [1]"),
        (
            {"version": 1, "patterns": [{"pattern": "x"}]},
            "patterns[0]: expected exactly 'pattern' and 'reason'",
        ),
        ({"version": 1, "patterns": [{"pattern": "x", "reason": " "}]}, "patterns[0]: a reason is required"),
        (
            {"version": 1, "patterns": [{"pattern": "(", "reason": "r"}]},
            "patterns[0]: invalid regular expression",
        ),
        ({"version": 1, "patterns": "x"}, "'patterns' must be a list"),
        ({"version": 1, "pattern": []}, "unknown keys ['pattern']"),
    ],
)
def test_a_malformed_allowlist_is_refused_with_where_it_is_wrong(document, message):
    with pytest.raises(ValueError) as error:
        parse_allowlist(document, "allow.yaml")
    assert message in str(error.value) and str(error.value).startswith("allow.yaml")


def test_a_span_the_allowlist_fully_matches_is_left_alone_by_the_strict_tier(git_hosts_allowed):
    text = "git clone git@github.com:me/repo.git, then mail ann@gmail.com"
    assert [text[s.start : s.end] for s in find_strict(text)] == ["ann@gmail.com"]


def test_only_a_full_match_counts(tmp_path, monkeypatch):
    path = tmp_path / "partial.yaml"
    path.write_text("version: 1\npatterns:\n  - pattern: 'github'\n    reason: too loose to mean anything\n")
    monkeypatch.setenv(ALLOWLIST_ENV, str(path))
    assert [s.entity_type for s in find_strict("git@github.com")] == ["EMAIL_ADDRESS"]


def test_the_full_tier_and_the_rescan_honour_the_allowlist(git_hosts_allowed):
    deidentifier = Deidentifier()
    text = "Clone git@gitlab.com:me/project and tell ann@gmail.com"
    assert deidentifier.redact(text) == "Clone git@gitlab.com:me/project and tell <EMAIL_ADDRESS_1>"
    assert deidentifier.strict_hits("git@gitlab.com") == []


def test_without_the_allowlist_the_same_text_is_masked():
    assert [s.entity_type for s in find_strict("git@github.com")] == ["EMAIL_ADDRESS"]
    assert Deidentifier(ner=False).strict_hits("git@gitlab.com")[0].entity_type == "EMAIL_ADDRESS"
