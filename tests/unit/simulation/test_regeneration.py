"""The regeneration stage on a real DuckDB file and a loopback server: tools, the control arm, redaction,
accounting and sampling replicas."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import duckdb
import pytest

from deploysim.core.arms import Arm
from deploysim.core.hashing import prefix_hash
from deploysim.inference.backends import ArchiveBackend, OpenAIBackend, SamplingParams
from deploysim.inference.endpoint import Endpoint
from deploysim.inference.engine import Progress
from deploysim.inference.retry import RetryPolicy
from deploysim.inference.types import EndpointRejected
from deploysim.simulation.regeneration import regenerate, regeneration_completeness
from deploysim.store.tables import ensure_schema
from tests.support.engine import fixed_settings
from tests.support.prefix_store import open_db, prompt, strict_redact, write_prefixes
from tests.support.stub_openai_server import completion, stub_openai_server
from tests.unit.inference.auth_echo_server import auth_echo_server, echo_auth

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
        " · concurrency 64 (60 in flight) · 1m40s elapsed · eta 38m"
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


KEY_ENV = "DEPLOYSIM_REGENERATION_TEST_KEY"
# Assembled at run time so that secret scanners do not flag this file.
KEY = "sk-" + "canary" + "c0ffee00d15ea5e0b0a7"


def _text_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    columns: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'JSON') ORDER BY ALL"
    ).fetchall():
        columns.setdefault(table, []).append(column)
    return columns


def test_a_rejected_candidate_stops_the_partition_with_every_prefix_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    with (
        open_db(tmp_path / "r.duckdb") as con,
        auth_echo_server(echo_auth(401)) as (bad_url, bad),
        stub_openai_server(lambda body, n: (200, {}, completion("fine"))) as (good_url, good),
    ):
        write_prefixes(con, "cand", 6)
        candidate = OpenAIBackend(base_url=bad_url, model="stub", api_key_env=KEY_ENV)
        prior = OpenAIBackend(base_url=good_url, model="stub")
        arms = {
            Arm.CANDIDATE: Endpoint("cand", candidate, fixed_settings(1), candidate.sampling),
            Arm.PRIOR: Endpoint("prod", prior, fixed_settings(1), prior.sampling),
        }
        with pytest.raises(EndpointRejected) as raised:
            regenerate(con, "cand", arms, redact=strict_redact)
        rows = con.execute(
            "SELECT arm, status, error_class, error_message FROM regenerations ORDER BY arm, conversation_id"
        ).fetchall()
        usage = con.execute("SELECT arm, endpoint, calls, failures FROM model_usage ORDER BY arm").fetchall()
        complete = regeneration_completeness(con, "cand").complete
    line = f"the endpoint for cand rejected the key (401): check {KEY_ENV}"
    assert str(raised.value) == line
    assert bad.calls == 1 and good.calls == 0  # the control arm is not run for a partition that fails
    assert complete  # still exactly one row per prefix and arm
    candidate_rows = [r for r in rows if r[0] == "candidate"]
    assert candidate_rows[0][1:3] == ("failed", "fatal")
    assert candidate_rows[0][3].startswith("auth rejected: AuthenticationError: Error code: 401")
    not_attempted = ("failed", "not_attempted", f"not attempted: {line}")
    assert candidate_rows[1:] == [("candidate", *not_attempted)] * 5
    assert [r for r in rows if r[0] == "prior"] == [("prior", *not_attempted)] * 6
    assert [(arm, calls, json.loads(failures)) for arm, _, calls, failures in usage] == [
        ("candidate", 0, {"fatal": 1, "not_attempted": 5}),
        ("prior", 0, {"not_attempted": 6}),
    ]
    assert usage[0][1] == f"openai:{bad_url}#stub"


def test_a_missing_key_is_a_rejection_before_any_call(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with (
        open_db(tmp_path / "r.duckdb") as con,
        stub_openai_server(lambda b, n: (200, {}, completion("x"))) as (
            url,
            server,
        ),
    ):
        write_prefixes(con, "cand", 3)
        backend = OpenAIBackend(base_url=url, model="stub", api_key_env=KEY_ENV)
        arms = {Arm.CANDIDATE: Endpoint("cand", backend, fixed_settings(1), backend.sampling)}
        with pytest.raises(
            EndpointRejected, match=f"^the endpoint for cand has no key: {KEY_ENV} is not set$"
        ):
            regenerate(con, "cand", arms, redact=strict_redact)
        statuses = con.execute("SELECT DISTINCT error_class FROM regenerations").fetchall()
        complete = regeneration_completeness(con, "cand", (Arm.CANDIDATE,)).complete
    assert server.calls == 0 and statuses == [("not_attempted",)] and complete


def test_no_key_or_url_credential_lands_in_any_table(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    user, password = "u-canary-51d0", "p-canary-e7c2a99f"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()

    def respond(headers, body, number):
        text = body["messages"][-1]["content"]
        if text.endswith(("1", "4")):
            return echo_auth(500)(headers, body, number)
        if text.endswith(("2", "5")):
            return echo_auth(400)(headers, body, number)
        return 200, {}, completion(f"answer {number}")

    with open_db(tmp_path / "r.duckdb") as con, auth_echo_server(respond) as (url, server):
        write_prefixes(con, "cand", 6)
        candidate = OpenAIBackend(base_url=url, model="stub", api_key_env=KEY_ENV)
        prior = OpenAIBackend(base_url=url.replace("http://", f"http://{user}:{password}@"), model="prior")
        settings = fixed_settings(2, retry=RetryPolicy(max_attempts=2, backoff_initial_s=0.01, jitter_s=0.01))
        arms = {
            Arm.CANDIDATE: Endpoint("cand", candidate, settings, candidate.sampling),
            Arm.PRIOR: Endpoint("prod", prior, settings, prior.sampling),
        }
        regenerate(con, "cand", arms, redact=strict_redact, journal_dir=tmp_path / "journal")
        dumps = {
            f"{table}.{column}": json.dumps(
                [row[0] for row in con.execute(f'SELECT "{column}" FROM {table}').fetchall()]
            )
            for table, columns in _text_columns(con).items()
            for column in columns
        }
        failed = con.execute("SELECT count(*) FROM regenerations WHERE status = 'failed'").fetchone()[0]
        endpoints = {r[0] for r in con.execute("SELECT endpoint FROM model_usage").fetchall()}
    sent = {h["authorization"] for h in server.headers}
    assert sent == {f"Bearer {KEY}", f"Basic {token}"}  # both credentials went out, and were echoed
    assert failed == 8 and "model_usage.endpoint" in dumps and "regenerations.error_message" in dumps
    assert "[REDACTED]" in dumps["regenerations.error_message"]
    for value in (KEY, user, password, token):
        assert not [name for name, dump in dumps.items() if value in dump], value
    assert endpoints == {f"openai:{url}#stub", f"openai:{url}#prior"}
