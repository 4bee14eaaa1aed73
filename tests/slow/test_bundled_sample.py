import gzip
import json
import subprocess
import sys
from collections import Counter

import pytest

from deploysim.core.conversation import Conversation, Message, messages_payload
from deploysim.core.hashing import prefix_hash
from deploysim.core.releases import load_registry
from deploysim.privacy.deidentifier import Deidentifier
from deploysim.privacy.placeholders import strict_deidentify_messages
from deploysim.simulation.sampling import replayable_prefixes
from tests.support.paths import REPO

SAMPLE = REPO / "data" / "sample"


def _log() -> list[dict]:
    with gzip.open(SAMPLE / "production_log.jsonl.gz", "rt") as handle:
        return [json.loads(line) for line in handle]


def test_sample_is_rebuilt_byte_for_byte_from_the_public_data(shared_data, tmp_path):
    subprocess.run(
        [sys.executable, "scripts/build_sample.py", "--shared", str(shared_data), "--out", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file() and p.name != "NOTICE.md"
    )
    assert built == committed
    for relative in built:
        assert (tmp_path / relative).read_bytes() == (SAMPLE / relative).read_bytes(), relative


def test_sample_has_release_chains_with_disjoint_windows_and_multi_turn_traffic():
    rows = _log()
    registry = load_registry(REPO / "data" / "releases.yaml")
    released = [r.version for r in registry.releases if not r.is_candidate]
    by_version = Counter(row["model_version"] for row in rows)
    assert set(by_version) == set(released) and len(released) == 16
    assert sorted(Counter(registry.chains.values()).values()) == [2, 3, 3, 3, 6]
    # Each version serves its own time window, and no prompt is served twice within a chain.
    for row in rows:
        release = registry.get(row["model_version"])
        successor = next((r for r in registry.releases if r.prior_version == release.version), None)
        started = Conversation.model_validate(row).started_at
        assert release.released_at <= started
        assert successor is None or successor.released_at is None or started < successor.released_at
    prompts = Counter(
        (registry.chain_of(row["model_version"]), row["messages"][0]["content"])
        for row in rows
        if row["conversation_id"].startswith("alpaca-")
    )
    assert max(prompts.values()) == 1
    assert len({row["conversation_id"] for row in rows}) == len(rows)
    multi_turn = [row for row in rows if sum(m["role"] == "user" for m in row["messages"]) >= 2]
    assert {row["conversation_id"].split("-")[0] for row in multi_turn} == {"hh", "oasst"}
    assert all(Conversation.model_validate(row) for row in rows)
    assert (SAMPLE / "NOTICE.md").exists()
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 10 * 1024 * 1024


@pytest.mark.parametrize(
    "version",
    [
        "gpt-4-0613",
        "gpt-4-turbo-2024-04-09",
        "claude-2",
        "llama-3.1-70b-instruct",
        "mistral-7b-instruct-v0.3",
    ],
)
def test_archives_replay_every_single_turn_prefix_of_the_prior_window(version):
    """Archive keys are the de-identified prefix hashes the pipeline computes, so replay finds them."""
    registry = load_registry(REPO / "data" / "releases.yaml")
    with gzip.open(registry.get(version).backend.path, "rt") as handle:
        keys = {json.loads(line)["prefix_hash"] for line in handle}
    window = [row for row in _log() if row["model_version"] == registry.prior_of(version).version]
    alpaca = [Conversation.model_validate(row) for row in window if row["surface"] == "api"]
    assert alpaca
    # The strict tier runs first, over the whole window, as in the pipeline.
    alpaca = [
        c.model_copy(
            update={
                "messages": [
                    Message.model_validate(m)
                    for m in strict_deidentify_messages(messages_payload(c.messages)).messages
                ]
            }
        )
        for c in alpaca
    ]
    prefixes, _ = replayable_prefixes(alpaca, Deidentifier())
    for prefix in prefixes:
        assert prefix_hash(prefix.messages, prefix.tools) in keys, prefix.conversation_id
