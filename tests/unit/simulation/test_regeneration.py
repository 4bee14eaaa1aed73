"""The regeneration stage on a real DuckDB file and a loopback server: tools, the control arm, redaction,
accounting and sampling replicas."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb

from deploysim.core.arms import Arm
from deploysim.core.hashing import prefix_hash
from deploysim.inference.backends import ArchiveBackend, OpenAIBackend, SamplingParams
from deploysim.inference.endpoint import Endpoint
from deploysim.inference.engine import Progress
from deploysim.simulation.regeneration import regenerate, regeneration_completeness
from deploysim.store.tables import ensure_schema
from tests.support.engine import fixed_settings
from tests.support.prefix_store import open_db, prompt, strict_redact, write_prefixes
from tests.support.stub_openai_server import completion, stub_openai_server

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _tool_call_reply(body, number):
    reply = completion("")
    reply["choices"][0]["finish_reason"] = "tool_calls"
    reply["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{number}",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris", "notify": "a@b.io"}'},
            }
        ],
    }
    return 200, {}, reply


def _archive(path: Path, answered: dict[str, str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for text, answer in answered.items():
            key = prefix_hash([{"role": "user", "content": text}], [WEATHER_TOOL])
            handle.write(json.dumps({"prefix_hash": key, "response": {"content": answer}}) + "\n")
    return path


def test_tools_are_sent_tool_calls_stored_and_the_prior_arm_replays_its_archive(tmp_path):
    db = tmp_path / "r.duckdb"
    archive = _archive(
        tmp_path / "prior.jsonl.gz", {prompt(0): "Call me at +1 212-555-0147.", prompt(1): "Sunny."}
    )
    progress: list[str] = []
    with open_db(db) as con, stub_openai_server(_tool_call_reply) as (url, server):
        write_prefixes(con, "cand", 3, tools=[WEATHER_TOOL])
        backend = OpenAIBackend(
            base_url=url, model="stub", usd_per_million_input_tokens=2.0, usd_per_million_output_tokens=8.0
        )
        arms = {
            Arm.CANDIDATE: Endpoint("cand", backend, fixed_settings(2), backend.sampling),
            Arm.PRIOR: Endpoint("prod", ArchiveBackend(path=archive), fixed_settings(2), SamplingParams()),
        }
        summaries = regenerate(
            con,
            "cand",
            arms,
            redact=strict_redact,
            progress=lambda arm, p: progress.append(p.line(arm)),
        )
        rows = {
            (arm, cid): (status, content, tool_calls, masked, error_class)
            for arm, cid, status, content, tool_calls, masked, error_class in con.execute(
                "SELECT arm, conversation_id, status, content, tool_calls, redacted_entities, error_class "
                "FROM regenerations"
            ).fetchall()
        }
        usage = con.execute(
            "SELECT arm, calls, prompt_tokens, cost_usd FROM model_usage ORDER BY arm"
        ).fetchall()

    assert all(body["tools"] == [WEATHER_TOOL] for body in server.bodies) and server.calls == 3
    status, content, tool_calls, masked, _ = rows[("candidate", "c00000")]
    assert status == "ok" and content is None
    [call] = json.loads(tool_calls)
    assert call["function"]["name"] == "get_weather"
    # Tool-call arguments are redacted like any text before they land.
    assert "a@b.io" not in call["function"]["arguments"] and json.loads(masked) == {"EMAIL_ADDRESS": 1}
    assert rows[("prior", "c00000")][:2] == ("ok", "Call me at <PHONE_NUMBER_1>.")
    assert rows[("prior", "c00001")][:2] == ("ok", "Sunny.")
    # The archive never saw the third prefix: a miss, recorded, never invented.
    assert rows[("prior", "c00002")] == ("miss", None, None, None, "archive_miss")
    # Two answers replayed from the archive, free; three billed candidate calls at the configured prices.
    assert usage == [("candidate", 3, 30, 3 * (10 * 2.0 + 5 * 8.0) / 1e6), ("prior", 2, 0, 0.0)]
    candidate = next(s for s in summaries if s.arm == "candidate")
    assert candidate.usage["openai.total_tokens"] == 45 and candidate.usage["openai.calls"] == 3
    assert progress[0].startswith("candidate: 3/3 (100.0%) · ok 3 · failed 0 · cached 0")
    # An archive's misses are not failed calls.
    assert progress[-1].startswith("prior: 3/3 (100.0%) · ok 2 · failed 0 · missed 1 · cached 0")


def test_identical_prefixes_share_a_call_at_temperature_zero_but_not_when_sampling(tmp_path):
    with (
        open_db(tmp_path / "r.duckdb") as con,
        stub_openai_server(lambda body, n: (200, {}, completion(f"draw {n}"))) as (url, server),
    ):
        write_prefixes(con, "p", 4)
        con.execute('UPDATE prefixes SET messages = \'[{"role": "user", "content": "hi"}]\'')
        for temperature, expected_calls in ((0.0, 1), (0.8, 4)):
            backend = OpenAIBackend(
                base_url=url, model="stub", sampling=SamplingParams(temperature=temperature)
            )
            before = server.calls
            arms = {Arm.CANDIDATE: Endpoint("p", backend, fixed_settings(4), backend.sampling)}
            regenerate(con, "p", arms, redact=strict_redact)
            assert server.calls - before == expected_calls
            contents = {r[0] for r in con.execute("SELECT content FROM regenerations").fetchall()}
            assert len(contents) == expected_calls
        # A rerun maps each draw back to its own cached answer.
        regenerate(con, "p", arms, redact=strict_redact)
        assert server.calls == 5


def test_a_database_from_an_older_release_gains_the_new_columns(tmp_path):
    with open_db(tmp_path / "old.duckdb") as con:
        con.execute(
            "CREATE TABLE regenerations (partition_key VARCHAR, arm VARCHAR, conversation_id VARCHAR)"
        )
        con.execute("CREATE TABLE scores (partition_key VARCHAR NOT NULL, label BOOLEAN NOT NULL)")
        con.execute("CREATE TABLE release_gates (partition_key VARCHAR PRIMARY KEY)")
        ensure_schema(con)
        columns = {r[0] for r in con.execute("DESCRIBE regenerations").fetchall()}
        # A failed judge grade has no label: the old NOT NULL is lifted, key columns keep theirs.
        con.execute("INSERT INTO scores (partition_key, label, error) VALUES ('p', NULL, 'malformed')")
        nullable = dict(
            con.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'scores'"
            ).fetchall()
        )
    assert {"redacted_entities", "attempts", "tool_calls", "prefix_hash"} <= columns
    assert nullable["partition_key"] == "NO" and nullable["label"] == "YES"


def test_the_progress_line_reads_well():
    line = Progress(
        done=4210,
        total=100_000,
        ok=4200,
        failed=10,
        missed=0,
        cached=0,
        elapsed_s=100.0,
        concurrency=64,
        in_flight=60,
    ).line("candidate")
    assert line == (
        "candidate: 4,210/100,000 (4.2%) · ok 4,200 · failed 10 · cached 0 · 42.1/s"
        " · concurrency 64 (60 in flight) · eta 38m"
    )


def test_regeneration_completeness_detects_missing_and_duplicated_results():
    con = duckdb.connect()
    ensure_schema(con)
    for cid in ("a", "b"):
        con.execute("INSERT INTO prefixes VALUES ('v', ?, 'h', 'api', 'm', '[]', NULL, '{}')", [cid])

    def add(cid: str, arm: str) -> None:
        con.execute(
            "INSERT INTO regenerations (partition_key, arm, model_version, conversation_id, prefix_hash, "
            "status, cached, attempts) VALUES ('v', ?, 'm', ?, 'h', 'ok', false, 1)",
            [arm, cid],
        )

    for cid in ("a", "b"):
        add(cid, "candidate")
    add("a", "prior")
    result = regeneration_completeness(con, "v")
    assert (result.prefixes, result.missing_results, result.duplicated_results) == (2, 1, 0)
    assert not result.complete
    add("b", "prior")
    assert regeneration_completeness(con, "v").complete
    assert not regeneration_completeness(con, "other").complete
