import pytest

from deploysim.core.releases import load_registry, parse_registry
from deploysim.inference.backends import ArchiveBackend, OpenAIBackend
from tests.support.paths import REPO


def test_bundled_registry_has_a_chain_of_four_historical_versions_and_a_candidate():
    registry = load_registry(REPO / "data" / "releases.yaml")
    assert registry.rejected == []
    released = [r for r in registry.releases if not r.is_candidate]
    assert len(released) >= 4
    assert registry.candidates == ["smollm2-135m-instruct"]
    candidate = registry.get("smollm2-135m-instruct")
    assert isinstance(candidate.backend, OpenAIBackend)
    assert registry.prior_of(candidate.version).version == released[-1].version
    for release in released:
        assert isinstance(release.backend, ArchiveBackend)
        assert release.backend.path.exists(), release.backend.path
    # Releases without a prior are not simulated: they only provide the first traffic window.
    assert registry.simulated_versions == [r.version for r in registry.releases[1:]]


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
