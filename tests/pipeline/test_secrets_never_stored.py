"""An endpoint that echoes the request's Authorization header in its error bodies, and a base URL with
credentials in it: no key, password or basic-auth token may reach a table, the run storage, a compute log
or the process's output. A rejected key stops the run with one line a command line can print."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml

from deploysim.inference.types import rejection_message
from orchestration.definitions import build_defs
from orchestration.resources import ModelGatewayResource
from tests.support.stub_openai_server import completion
from tests.support.tiny_world import build
from tests.unit.inference.auth_echo_server import Recorder, auth_echo_server, echo_auth

KEY_ENV = "DEPLOYSIM_SECRETS_TEST_KEY"
# Assembled at run time so that secret scanners do not flag this file.
KEY = "sk-" + "canary" + "5e1f2a3b4c5d6e7f8091"
USER, PASSWORD = "u-canary-0b7e", "p-canary-4a9d13c2"
TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
CANARIES = (KEY, USER, PASSWORD, TOKEN)


def _answer(headers: dict[str, str], body: dict[str, Any], number: int) -> tuple[int, dict, Any]:
    """Failures that echo the credentials for some prompts; valid answers (and verdicts) for the rest."""
    if "response_format" in body:
        if body["response_format"]["json_schema"]["name"] == "probe_choice":
            return 200, {}, completion(json.dumps({"choice": "B", "confidence": 1}))
        return 200, {}, completion(json.dumps({"label": "real", "confidence": 0.7}))
    text = body["messages"][-1]["content"]
    if "number 1" in text or "variant 1" in text:
        return echo_auth(500)(headers, body, number)
    if "number 2" in text or text.startswith("What"):
        return echo_auth(400)(headers, body, number)
    return 200, {}, completion("Mix, knead and bake.")


def _world(root: Path, url: str) -> Any:
    """The candidate sends the key; the prior (an endpoint too, here) has credentials in its base URL."""
    settings = build(
        root, candidate_backend={"kind": "openai", "base_url": url, "model": "stub", "api_key_env": KEY_ENV}
    )
    registry = yaml.safe_load(settings.release_registry.read_text())
    prior = next(r for r in registry["releases"] if r["version"] == "r1")
    prior["backend"] = {
        "kind": "openai",
        "base_url": url.replace("http://", f"http://{USER}:{PASSWORD}@"),
        "model": "prior",
    }
    settings.release_registry.write_text(yaml.safe_dump(registry))
    return settings


def _run(settings: Any, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    gateway = ModelGatewayResource(max_attempts=2, backoff_initial_s=0.01, backoff_max_s=0.01)
    return (
        build_defs(settings, model_gateway=gateway)
        .resolve_job_def("deployment_simulation_job")
        .execute_in_process(
            partition_key="cand",
            instance=instance,
            raise_on_error=False,
            run_config={
                "ops": {
                    "conversation_sample": {"config": {"sample_size": 20, "seed": 1}},
                    "eval_awareness_report": {"config": {"sample_size": 8, "seed": 1}},
                    "backtest_calibration": {"config": {"min_turns": 10}},
                }
            },
        )
    )


def _text_columns(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str]]:
    yield from con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'JSON') ORDER BY ALL"
    ).fetchall()


def _leaks(
    settings: Any, instance: dg.DagsterInstance, run_id: str, output: str
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Where each canary appears: every text column of every table, every event of the run (its
    failures' causes and tracebacks included), the run record, every file of the instance (SQLite run
    and event storage, compute logs), and the captured output."""
    places: dict[str, str] = {"output": output}
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        for table, column in _text_columns(con):
            values = con.execute(f'SELECT "{column}" FROM {table}').fetchall()
            places[f"{table}.{column}"] = json.dumps([v[0] for v in values], default=str)
    places["event log"] = "\n".join(dg.serialize_value(e) for e in instance.all_logs(run_id))
    places["run"] = dg.serialize_value(instance.get_run_by_id(run_id))
    for path in Path(instance.root_directory).rglob("*"):
        if path.is_file():
            places[f"instance file {path.name}"] = path.read_bytes().decode("utf-8", "replace")
    found = {value: [name for name, text in places.items() if value in text] for value in CANARIES}
    return {value: names for value, names in found.items() if names}, places


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def captured(capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """Everything the process printed, and every log record at any level (the SDK's debug lines too)."""
    root, lines = logging.getLogger(), _Lines()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(lines)

    def text() -> str:
        out = capfd.readouterr()
        return out.out + out.err + "\n".join(lines.lines)

    try:
        yield text
    finally:
        root.removeHandler(lines)
        root.setLevel(level)


def _calls_with(recorder: Recorder, credential: str) -> int:
    return sum(credential in h.get("authorization", "") for h in recorder.headers)


def test_credentials_echoed_by_failing_endpoints_are_stored_nowhere(tmp_path, monkeypatch, captured):
    monkeypatch.setenv(KEY_ENV, KEY)
    with auth_echo_server(_answer) as (url, server), dg.instance_for_test() as instance:
        settings = _world(tmp_path, url)
        instance.add_dynamic_partitions("model_versions", ["cand"])
        result = _run(settings, instance)
        leaks, places = _leaks(settings, instance, result.run_id, captured())

    # The echo happened, with both credentials, and both arms recorded failures from it.
    assert _calls_with(server, KEY) and _calls_with(server, TOKEN)
    regeneration = [e for e in result.get_step_success_events() if e.step_key == "regenerated_responses"]
    assert regeneration, "regeneration records failures; it must not fail"
    assert "[REDACTED]" in places["regenerations.error_message"]
    assert "server error: InternalServerError" in places["regenerations.error_message"]
    assert "bad request: BadRequestError" in places["regenerations.error_message"]
    assert f"openai:{url}#prior" in places["model_usage.endpoint"]
    assert "HTTP Request: POST" in places["output"]  # the client's own debug lines were captured too
    assert leaks == {}


def test_a_rejected_key_stops_the_run_with_one_line_and_no_secret(tmp_path, monkeypatch, captured):
    monkeypatch.setenv(KEY_ENV, KEY)
    with auth_echo_server(echo_auth(401)) as (url, server), dg.instance_for_test() as instance:
        settings = _world(tmp_path, url)
        instance.add_dynamic_partitions("model_versions", ["cand"])
        result = _run(settings, instance)
        leaks, places = _leaks(settings, instance, result.run_id, captured())

    assert not result.success
    [failure] = [e for e in result.get_step_failure_events() if e.step_key == "regenerated_responses"]
    line = f"the endpoint for cand rejected the key (401): check {KEY_ENV}"
    assert rejection_message(failure.step_failure_data.error) == line
    # The first answer stopped the candidate; the calls already on the wire (the initial concurrency)
    # are all it sent, and the prior arm sent none.
    assert 1 <= _calls_with(server, KEY) <= 8 and _calls_with(server, TOKEN) == 0
    rows = json.loads(places["regenerations.error_message"])
    assert len(rows) == 40 and sum(m.startswith("not attempted: ") for m in rows) >= 40 - 8
    assert leaks == {}
