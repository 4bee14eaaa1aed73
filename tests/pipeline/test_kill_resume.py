"""SIGKILL the regeneration process mid-run, rerun it, and count on the server that nothing completed is
requested again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from deploysim.core.arms import Arm
from deploysim.inference.backends import OpenAIBackend
from deploysim.inference.cache import request_key
from deploysim.inference.endpoint import Endpoint
from deploysim.inference.types import ChatRequest
from deploysim.simulation.regeneration import regenerate
from tests.support.engine import fixed_settings
from tests.support.paths import REPO
from tests.support.prefix_store import open_db, prompt, strict_redact, write_prefixes
from tests.support.stub_openai_server import Hang, completion, stub_openai_server

PREFIXES = 300
CONCURRENCY = 6


def _durable_keys(db: Path) -> set[str]:
    """What the killed run recorded: committed cache rows plus its journal's lines."""
    keys = set()
    with open_db(db) as con:
        keys |= {row[0] for row in con.execute("SELECT request_hash FROM response_cache").fetchall()}
    for journal in Path(f"{db}.journal").glob("*.jsonl"):
        for line in journal.read_text().splitlines():
            try:
                keys.add(json.loads(line)["key"])
            except json.JSONDecodeError:
                continue  # the line being written at the kill
    return keys


def test_a_killed_run_rerun_requests_no_completed_prefix_again(tmp_path):
    db = tmp_path / "deploysim.duckdb"
    with open_db(db) as con:
        ids = write_prefixes(con, "cand", PREFIXES)
    answered: Counter[str] = Counter()  # 200s the server sent, per prompt
    requested_after_kill: list[str] = []
    # Requests are numbered as they arrive; the child's are those numbered up to its death, even when a
    # handler thread gets to look at one only after the kill.
    calls_at_kill: list[int] = []
    lock = threading.Lock()

    def respond(body, number):
        text = body["messages"][-1]["content"]
        with lock:
            if calls_at_kill and number > calls_at_kill[0]:
                requested_after_kill.append(text)
            answered[text] += 1
        return Hang(0.03, (200, {}, completion(f"answer to {text}")))

    with stub_openai_server(respond) as (url, server):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.support.regeneration_child", str(db), url, str(CONCURRENCY)],
            cwd=REPO,
        )
        deadline = time.monotonic() + 60
        while server.calls < PREFIXES // 2 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        calls_at_kill.append(server.calls)
        assert PREFIXES // 2 <= server.calls < PREFIXES, "the child was not killed mid-run"

        backend = OpenAIBackend(base_url=url, model="stub")
        keys_by_prompt = {
            prompt(i): request_key(
                backend.address, ChatRequest(messages=[{"role": "user", "content": prompt(i)}])
            )
            for i in range(PREFIXES)
        }
        durable = _durable_keys(db)
        completed_before = {text for text, key in keys_by_prompt.items() if key in durable}
        # Only answers still on the wire when the process died may be lost.
        assert len(completed_before) >= sum(answered.values()) - CONCURRENCY

        arms = {Arm.CANDIDATE: Endpoint("cand", backend, fixed_settings(CONCURRENCY), backend.sampling)}
        with open_db(db) as con:
            [summary] = regenerate(con, "cand", arms, redact=strict_redact, journal_dir=Path(f"{db}.journal"))
            rows = con.execute(
                "SELECT conversation_id, status, cached FROM regenerations WHERE partition_key = 'cand'"
            ).fetchall()

    assert not completed_before & set(requested_after_kill), "a completed prefix was requested again"
    assert len(requested_after_kill) == PREFIXES - len(completed_before)
    assert sorted(cid for cid, _, _ in rows) == ids  # exactly one row per prefix
    assert all(status == "ok" for _, status, _ in rows)
    assert sum(cached for _, _, cached in rows) == len(completed_before)
    assert summary.usage["openai.cached_calls"] == len(completed_before)
    assert not list(Path(f"{db}.journal").glob("*.jsonl")), "the journal is removed once committed"
