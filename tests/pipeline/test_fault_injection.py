"""A 20% fault rate on a real HTTP server: 429 with Retry-After, 500, timeouts, malformed JSON and dropped
connections. The run completes, and every prefix ends with exactly one response or one recorded failure."""

from __future__ import annotations

import random
import threading
from collections import Counter
from pathlib import Path

from deploysim.core.arms import Arm
from deploysim.inference.backends import OpenAIBackend
from deploysim.inference.endpoint import Endpoint
from deploysim.inference.engine import EngineSettings
from deploysim.inference.limiter import ConcurrencyBounds
from deploysim.inference.retry import RetryPolicy
from deploysim.simulation.regeneration import regenerate
from tests.support.prefix_store import open_db, strict_redact, write_prefixes
from tests.support.stub_openai_server import Drop, Hang, completion, stub_openai_server

PREFIXES = 240
FAULT_RATE = 0.2
#: Prefixes the server always fails: they must end as recorded failures, not vanish or loop.
POISONED = {"question number 00007", "question number 00100"}
ATTEMPTS = 8


def test_a_run_through_a_faulty_server_gives_each_prefix_exactly_one_outcome(tmp_path: Path):
    rng = random.Random(4)
    lock = threading.Lock()
    faults: Counter[str] = Counter()
    answers: Counter[str] = Counter()  # successful answers the client could have received, per prompt

    def respond(body, number):
        text = body["messages"][-1]["content"]
        with lock:
            draw = rng.random()
            kind = rng.choice(["429", "500", "timeout", "malformed", "drop"])
        if text in POISONED:
            return 500, {}, {"error": {"message": "poisoned"}}
        if draw >= FAULT_RATE:
            with lock:
                answers[text] += 1
            return 200, {}, completion(f"answer to {text}")
        with lock:
            faults[kind] += 1
        if kind == "429":
            return 429, {"Retry-After": "0.2"}, {"error": {"message": "rate limited", "type": "requests"}}
        if kind == "500":
            return 500, {}, {"error": {"message": "internal error"}}
        if kind == "timeout":
            return Hang(3.0, (200, {}, completion("too late")))
        if kind == "malformed":
            return 200, {}, '{"id": "chatcmpl-1", "choices": [{"message": '
        return Drop()

    settings = EngineSettings(
        concurrency=ConcurrencyBounds(min_concurrency=1, max_concurrency=12, initial_concurrency=4),
        retry=RetryPolicy(
            # Eight attempts: at a 20% fault rate a healthy prefix fails them all once in ~2,000 runs.
            max_attempts=ATTEMPTS,
            attempt_timeout_s=1.5,
            max_retry_time_s=30,
            backoff_initial_s=0.02,
            jitter_s=0.02,
        ),
        batch_size=50,
    )
    db = tmp_path / "faults.duckdb"
    with open_db(db) as con, stub_openai_server(respond) as (url, server):
        ids = write_prefixes(con, "cand", PREFIXES)
        backend = OpenAIBackend(base_url=url, model="stub")
        arms = {Arm.CANDIDATE: Endpoint("cand", backend, settings, backend.sampling)}
        [summary] = regenerate(con, "cand", arms, redact=strict_redact, journal_dir=Path(f"{db}.journal"))
        rows = con.execute(
            "SELECT conversation_id, status, content, error_class, error_message, attempts "
            "FROM regenerations WHERE partition_key = 'cand' ORDER BY conversation_id"
        ).fetchall()
        usage_rows = con.execute("SELECT calls, attempts, failures FROM model_usage").fetchall()

    assert set(faults) == {"429", "500", "timeout", "malformed", "drop"}
    assert sum(faults.values()) >= 0.15 * server.calls
    # Exactly one row per prefix, no duplicates, nothing lost.
    assert [row[0] for row in rows] == ids
    by_status = Counter(row[1] for row in rows)
    assert by_status == {"ok": PREFIXES - len(POISONED), "failed": len(POISONED)}
    for _cid, status, content, error_class, error_message, attempts in rows:
        if status == "ok":
            assert content.startswith("answer to question") and error_class is None
        else:
            assert error_class == "transient" and "poisoned" in error_message and attempts == ATTEMPTS
    # Every success was received once: no prefix was asked again after its answer arrived.
    ok_prompts = {f"question number {int(cid[1:]):05d}" for cid, status, *_ in rows if status == "ok"}
    assert all(answers[text] == 1 for text in ok_prompts)
    # Poisoned prefixes were tried exactly max_attempts times, never forever.
    assert sum(1 for body in server.bodies if body["messages"][-1]["content"] in POISONED) == 2 * ATTEMPTS
    assert summary.usage["openai.calls"] == PREFIXES - len(POISONED)
    assert summary.usage["openai.retries"] > 0
    assert summary.usage["openai.concurrency_cuts"] > 0  # 429s shrank the in-flight limit
    assert summary.usage["openai.failures.transient"] == len(POISONED)
    calls, attempts, failures = usage_rows[0]
    assert calls == PREFIXES - len(POISONED)
    # Every request the server saw is an accounted attempt (an attempt that timed out while queued on a
    # starved machine never reaches the server, so attempts may exceed the server's count).
    assert server.calls <= attempts
    assert failures == '{"transient": 2}'
