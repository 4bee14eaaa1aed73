"""Preflight: every way a run cannot finish is found before any work, as one line that says what to do."""

from __future__ import annotations

import gzip
from pathlib import Path

import yaml

from deploysim.release.preflight import preflight
from orchestration.settings import DATA_DIR

POLICY = DATA_DIR / "gate_policy.yaml"


def _world(tmp_path: Path, *, candidate_backend: dict | None = None, extra: list[dict] | None = None) -> Path:
    archive = tmp_path / "prior.jsonl.gz"
    with gzip.open(archive, "wt") as handle:
        handle.write('{"prefix_hash": "x", "response": {"role": "assistant", "content": "hi"}}\n')
    releases = [
        {"version": "v1", "released_at": "2024-01-01T00:00:00Z", "prior_version": None,
         "backend": {"kind": "archive", "path": str(archive)}},
        {"version": "v2", "released_at": None, "prior_version": "v1",
         "backend": candidate_backend or {"kind": "fake"}},
        *(extra or []),
    ]  # fmt: skip
    registry = tmp_path / "releases.yaml"
    registry.write_text(yaml.safe_dump({"registry_version": 1, "releases": releases}))
    log = tmp_path / "log.jsonl"
    log.write_text('{"conversation_id": "c1"}\n')
    return registry


def _check(tmp_path: Path, registry: Path, candidate: str | None = None, env: dict | None = None, log=None):
    return preflight(
        registry_path=registry,
        policy_path=POLICY,
        log_path=log or tmp_path / "log.jsonl",
        candidate=candidate,
        env=env or {},
    )


def test_a_sound_setup_passes_and_names_the_versions_to_simulate(tmp_path):
    check = _check(tmp_path, _world(tmp_path))
    assert check.ok and check.candidate == "v2" and check.versions == ["v2"]


def test_the_bundled_demo_passes():
    check = preflight(
        registry_path=DATA_DIR / "releases.yaml",
        policy_path=POLICY,
        log_path=DATA_DIR / "sample" / "production_log.jsonl.gz",
        candidate=None,
    )
    assert check.ok, check.problems
    assert check.candidate == "smollm2-135m-instruct" and len(check.versions) == 12


def test_a_missing_or_invalid_registry_is_one_line(tmp_path):
    _world(tmp_path)
    [problem] = _check(tmp_path, tmp_path / "nowhere.yaml").problems
    assert problem.startswith("release registry not found") and "--registry" in problem
    broken = tmp_path / "broken.yaml"
    broken.write_text("releases: [unclosed\n")
    [problem] = _check(tmp_path, broken).problems
    assert "is invalid" in problem and "\n" not in problem


def test_an_unknown_candidate_or_one_without_a_prior_is_named(tmp_path):
    registry = _world(tmp_path)
    [problem] = _check(tmp_path, registry, candidate="v9").problems
    assert "'v9' is not in the release registry" in problem and "v2" in problem
    [problem] = _check(tmp_path, registry, candidate="v1").problems
    assert "'v1' has no prior_version" in problem


def test_a_rejected_candidate_says_why(tmp_path):
    registry = _world(tmp_path, extra=[{"version": "v3", "released_at": None, "prior_version": "v2",
                                        "backend": {"kind": "teleport"}}])  # fmt: skip
    [problem] = _check(tmp_path, registry, candidate="v3").problems
    assert "'v3' is in" in problem and "rejected" in problem
    assert any("registry entry 2 (v3) skipped" in w for w in _check(tmp_path, registry).warnings)


def test_missing_and_corrupt_archives_are_found_before_the_run(tmp_path):
    registry = _world(tmp_path)
    (tmp_path / "prior.jsonl.gz").unlink()
    [problem] = _check(tmp_path, registry).problems
    assert "the archive of v1" in problem and "does not exist" in problem
    (tmp_path / "prior.jsonl.gz").write_bytes(b"not gzip at all")
    [problem] = _check(tmp_path, registry).problems
    assert "unreadable" in problem and "build-archive" in problem
    flipped = bytearray(gzip.compress(b'{"a": 1}\n' * 1000))
    flipped[len(flipped) // 2] ^= 0xFF
    (tmp_path / "prior.jsonl.gz").write_bytes(bytes(flipped))
    [problem] = _check(tmp_path, registry).problems
    assert "unreadable" in problem


def test_an_unset_key_variable_is_named_without_any_value(tmp_path):
    backend = {"kind": "openai", "base_url": "https://api.example.com/v1", "model": "m",
               "api_key_env": "CANDIDATE_KEY"}  # fmt: skip
    registry = _world(tmp_path, candidate_backend=backend)
    [problem] = _check(tmp_path, registry).problems
    assert "$CANDIDATE_KEY, which is not set" in problem
    assert _check(tmp_path, registry, env={"CANDIDATE_KEY": "sk-set"}).ok


def test_a_missing_or_empty_log_stops_and_other_files_are_reported(tmp_path):
    registry = _world(tmp_path)
    [problem] = _check(tmp_path, registry, log=tmp_path / "absent").problems
    assert problem.startswith("production log not found") and "--log" in problem
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "empty.jsonl").write_text("")
    (folder / "notes.csv").write_text("a,b\n")
    check = _check(tmp_path, registry, log=folder)
    assert [p for p in check.problems if p.startswith("no log rows")]
    assert any("notes.csv skipped" in w for w in check.warnings)
    assert any("empty.jsonl is empty" in w for w in check.warnings)
