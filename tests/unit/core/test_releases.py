from datetime import UTC, datetime

import pytest

from deploysim.core.releases import load_registry, parse_registry
from deploysim.inference.backends import ArchiveBackend, OpenAIBackend
from tests.support.paths import REPO


def test_bundled_registry_has_five_release_chains_and_a_candidate_on_the_gpt4_chain():
    registry = load_registry(REPO / "data" / "releases.yaml")
    assert registry.rejected == []
    released = [r for r in registry.releases if not r.is_candidate]
    assert len(released) == 16
    assert registry.candidates == ["smollm2-135m-instruct"]
    candidate = registry.get("smollm2-135m-instruct")
    assert isinstance(candidate.backend, OpenAIBackend)
    assert registry.prior_of(candidate.version).version == "gpt-4-turbo-2024-04-09"
    chains = registry.chains
    assert sorted(set(chains.values())) == [
        "claude-1", "gpt-3.5-turbo-0301", "gpt-4-0314", "llama-2-70b-chat", "mistral-7b-instruct-v0.2"
    ]  # fmt: skip
    assert chains[candidate.version] == "gpt-4-0314"
    for release in released:
        assert isinstance(release.backend, ArchiveBackend)
        assert release.backend.path.exists(), release.backend.path
    # Releases without a prior are not simulated: they only provide the first traffic window of a chain.
    firsts = {r.version for r in registry.releases if r.prior_version is None}
    assert firsts == set(chains.values())
    assert registry.simulated_versions == [r.version for r in registry.releases if r.version not in firsts]
    # The candidate is the last simulated version, so a history run covers every chain.
    assert registry.simulated_versions[-1] == candidate.version


def test_bad_entries_are_rejected_with_reasons_and_the_rest_load(tmp_path):
    document = {
        "registry_version": 3,
        "releases": [
            {
                "version": "a",
                "released_at": "2024-01-01",
                "prior_version": None,
                "backend": {"kind": "archive", "path": "a.jsonl.gz"},
            },
            {
                "version": "b",
                "released_at": "2024-02-01",
                "prior_version": "a",
                "backend": {"kind": "openai", "base_url": "http://x/v1", "model": "m", "api_key_env": "KEY"},
            },
            {
                "version": "c",
                "released_at": "2024-03-01",
                "prior_version": "missing",
                "backend": {"kind": "archive", "path": "c.jsonl.gz"},
            },
            {"version": "d", "released_at": "2024-04-01", "prior_version": "b", "backend": {"kind": "ftp"}},
            {
                "version": "b",
                "released_at": "2024-05-01",
                "prior_version": "a",
                "backend": {"kind": "archive", "path": "b.jsonl.gz"},
            },
            {
                "version": "e",
                "released_at": "2023-01-01",
                "prior_version": "a",
                "backend": {"kind": "archive", "path": "e.jsonl.gz"},
            },
            "not a mapping",
        ],
    }
    registry = parse_registry(document, tmp_path)
    assert [r.version for r in registry.releases] == ["a", "b"]
    reasons = {r.version: r.reason for r in registry.rejected}
    assert "not a valid release" in reasons["c"]
    assert "backend" in reasons["d"]
    assert reasons["b"] == "duplicate version"
    assert "not after its prior" in reasons["e"]
    assert len(registry.rejected) == 5
    assert registry.get("a").backend.path == (tmp_path / "a.jsonl.gz").resolve()
    with pytest.raises(KeyError, match="no prior"):
        registry.prior_of("a")


def test_a_release_whose_prior_was_rejected_is_rejected_too(tmp_path):
    document = {
        "releases": [
            {"version": "a", "released_at": "2024-01-01", "prior_version": None, "backend": {"kind": "nope"}},
            {
                "version": "b",
                "released_at": "2024-02-01",
                "prior_version": "a",
                "backend": {"kind": "archive", "path": "b"},
            },
            {
                "version": "c",
                "released_at": "2024-03-01",
                "prior_version": "b",
                "backend": {"kind": "archive", "path": "c"},
            },
        ]
    }
    registry = parse_registry(document, tmp_path)
    assert registry.releases == []
    assert sorted(r.version for r in registry.rejected) == ["a", "b", "c"]


def test_a_range_of_versions_follows_release_order(tmp_path):
    releases = [
        {
            "version": f"r{i}",
            "released_at": f"2024-0{i + 1}-01",
            "prior_version": f"r{i - 1}" if i else None,
            "backend": {"kind": "archive", "path": f"r{i}.jsonl.gz"},
        }
        for i in range(5)
    ]
    registry = parse_registry({"registry_version": 1, "releases": releases}, tmp_path)
    assert registry.versions_between("r2", "r4") == ["r2", "r3", "r4"]
    assert registry.versions_between("r3", "r3") == ["r3"]
    with pytest.raises(ValueError, match="oldest first"):
        registry.versions_between("r4", "r2")
    with pytest.raises(KeyError, match="r0"):
        registry.versions_between("r0", "r2")  # r0 has no prior: it is not simulated


def test_a_registry_holds_several_release_chains(tmp_path):
    def release(version, prior, month):
        return {
            "version": version,
            "released_at": f"2024-{month:02d}-01",
            "prior_version": prior,
            "backend": {"kind": "archive", "path": f"{version}.jsonl.gz"},
        }

    document = {
        "registry_version": 1,
        "releases": [
            release("gpt-a", None, 1),
            release("claude-a", None, 2),
            release("gpt-b", "gpt-a", 3),
            release("claude-b", "claude-a", 4),
            release("gpt-c", "gpt-b", 5),
        ],
    }
    registry = parse_registry(document, tmp_path)
    assert registry.chains == {
        "gpt-a": "gpt-a",
        "claude-a": "claude-a",
        "gpt-b": "gpt-a",
        "claude-b": "claude-a",
        "gpt-c": "gpt-a",
    }
    # Interleaved in time, each chain's windows still run from its own prior's release.
    window = registry.window("gpt-c", now=datetime(2025, 1, 1, tzinfo=UTC))
    assert (window.start, window.end) == (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC))
    assert window.describe() == "[2024-03-01T00:00:00+00:00, 2024-05-01T00:00:00+00:00)"
