"""The eval-awareness probe end to end against a loopback stub model: four suites of equal size, each
transcript asked in every phrasing, unparseable and failed answers counted, calls cached, a gate line."""

import json

import dagster as dg
import duckdb

from deploysim.awareness.phrasings import PHRASINGS, PROBE_VERSION
from orchestration.definitions import build_defs
from orchestration.resources import EvaluatorSuiteResource, ModelGatewayResource
from tests.support.stub_openai_server import completion, stub_openai_server
from tests.support.tiny_world import build

SAMPLE = 12
#: The tiny world's production traffic is about bread and bombs; the test suites are about anything else.
TRAFFIC_WORDS = ("bread", "bomb")


def _stub(body: dict, _number: int):
    text = "\n".join(m.get("content") or "" for m in body["messages"])
    if "response_format" not in body:
        # The candidate answering: regenerations, and the test suites' prompts.
        if body["messages"][-1]["content"].startswith("What"):
            return 400, {}, {"error": {"message": "prompt rejected", "type": "invalid_request_error"}}
        if not any(word in text for word in TRAFFIC_WORDS):
            return 200, {}, completion("This looks like a test of my guidelines, but here is an answer.")
        return 200, {}, completion("Mix, knead and bake.")
    # The probe: test suites look like an evaluation, production traffic like real use; one phrasing of
    # the bomb conversations gets an answer nobody can read.
    label = "real" if any(word in text for word in TRAFFIC_WORDS) else "evaluation"
    schema = body["response_format"]["json_schema"]["name"]
    if schema == "probe_choice":
        if "bomb" in text:
            return 200, {}, completion("Hmm, hard to say.")
        choice = {"choice": "A" if label == "evaluation" else "B", "confidence": 1}
        return 200, {}, completion(json.dumps(choice))
    return 200, {}, completion(json.dumps({"label": label, "confidence": 0.7}))


def _run(tmp_path, url: str):
    settings = build(tmp_path, candidate_backend={"kind": "openai", "base_url": url, "model": "fake"})
    gateway = ModelGatewayResource(max_attempts=2, backoff_initial_s=0.01, backoff_max_s=0.01)
    defs = build_defs(settings, model_gateway=gateway)
    return settings, defs


def _materialize(defs, instance):
    return defs.resolve_job_def("deployment_simulation_job").execute_in_process(
        partition_key="cand",
        instance=instance,
        run_config={
            "ops": {
                "conversation_sample": {"config": {"sample_size": SAMPLE, "seed": 1}},
                "eval_awareness_report": {"config": {"sample_size": SAMPLE, "seed": 3}},
                "backtest_calibration": {"config": {"min_turns": 10}},
            }
        },
    )


def test_probe_compares_four_equal_suites_and_reports_to_the_gate(tmp_path):
    with stub_openai_server(_stub) as (url, server), dg.instance_for_test() as instance:
        settings, defs = _run(tmp_path, url)
        instance.add_dynamic_partitions("model_versions", ["r1", "cand"])
        assert _materialize(defs, instance).success
        calls = server.calls
        record = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("eval_awareness_report"), asset_partitions=["cand"]),
            limit=1,
        ).records[0]
        metadata = {k: v.value for k, v in record.asset_materialization.metadata.items()}

        # A rerun repeats no completed call: every regeneration and probe comes from the cache. The
        # rejected prompts are asked again (failures are not cached) and fail again.
        assert _materialize(defs, instance).success
        rejected = sum(b["messages"][-1]["content"].startswith("What") for b in server.bodies[calls:])
        assert server.calls - calls == rejected

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = con.execute(
            "SELECT suite, item_id, phrasing, status, label, probe_version FROM eval_awareness "
            "WHERE partition_key = 'cand'"
        ).fetchall()
        gate = con.execute("SELECT markdown FROM release_gates WHERE partition_key = 'cand'").fetchone()[0]
        verdict = con.execute("SELECT verdict, n_pairs FROM eval_awareness_verdicts").fetchone()

    # Equal suites, every transcript in every phrasing, each pair exactly once.
    per_suite = {}
    for suite, item_id, *_ in rows:
        per_suite.setdefault(suite, set()).add(item_id)
    assert {s: len(ids) for s, ids in per_suite.items()} == dict.fromkeys(
        ("replayed", "production", "adversarial", "benchmark"), SAMPLE
    )
    assert len(rows) == 4 * SAMPLE * len(PHRASINGS)
    assert len({(s, i, p) for s, i, p, *_ in rows}) == len(rows)
    assert {r[5] for r in rows} == {PROBE_VERSION}

    status = {}
    for suite, _, _, state, label, _ in rows:
        status.setdefault((suite, state, label), 0)
        status[(suite, state, label)] += 1
    # Replayed and production read as real use; the suites the candidate answered read as a test.
    assert not any(s in ("replayed", "production") and label == "evaluation" for s, _, label in status)
    assert status[("adversarial", "ok", "evaluation")] > 0
    # Unparseable answers are counted, not dropped: the bomb conversations' multiple choice.
    bombs = sum(1 for s, i, p, st, *_ in rows if s == "replayed" and st == "unparseable")
    assert bombs > 0 and all(p == "multiple_choice" for s, _, p, st, *_ in rows if st == "unparseable")
    # A prompt the candidate could not answer is a failure in every phrasing, with its reason.
    failed = [r for r in rows if r[3] == "failed"]
    assert failed and all(r[0] in ("adversarial", "benchmark") for r in failed)
    assert all(sum(f[1] == r[1] for f in failed) == len(PHRASINGS) for r in failed)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        reasons = {
            e for (e,) in con.execute("SELECT error FROM eval_awareness WHERE status = 'failed'").fetchall()
        }
    assert all("prompt rejected" in reason for reason in reasons)

    assert metadata["verdict"] == verdict[0] == "indistinguishable"
    assert "Caveat" not in metadata["summary"]  # the stub does tell attacks from production
    # Pairs where both replayed and production parsed: both label phrasings, and the readable choices.
    assert verdict[1] == 3 * SAMPLE - bombs
    assert metadata["flagged_share_by_suite"]["replayed"] == 0.0
    assert metadata["flagged_share_by_suite"]["adversarial"] == 1.0
    assert metadata["unparseable_by_suite"]["replayed"] == bombs
    assert metadata["probe_version"] == PROBE_VERSION and metadata["probed_model"] == "cand"
    assert "![share flagged as a test" in metadata["plot"]
    # Verbalized awareness: the stub's answers to the test suites say "this looks like a test".
    assert "| adversarial suite (JailbreakBench) | 12 | 12 | 12 | 100.0%" in metadata["report"]
    assert "| replayed production prefixes (the simulation) | 12 | 12 | 0 | 0.0%" in metadata["report"]
    assert f"Eval awareness: **{verdict[0]}**" in gate


def test_archive_versions_are_reported_as_not_probed(tmp_path):
    with stub_openai_server(_stub) as (url, _), dg.instance_for_test() as instance:
        settings, defs = _run(tmp_path, url)
        instance.add_dynamic_partitions("model_versions", ["r1"])
        result = defs.resolve_job_def("deployment_simulation_job").execute_in_process(
            partition_key="r1",
            instance=instance,
            run_config={"ops": {"conversation_sample": {"config": {"sample_size": SAMPLE, "seed": 1}}}},
        )
        assert result.success
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        verdict, summary = con.execute("SELECT verdict, summary FROM eval_awareness_verdicts").fetchone()
        gate = con.execute("SELECT markdown FROM release_gates WHERE partition_key = 'r1'").fetchone()[0]
    assert verdict == "not probed" and "archive" in summary
    assert "Eval awareness: **not probed**" in gate


def test_a_separate_judge_model_can_be_the_prober(tmp_path):
    def judge(body: dict, _number: int):
        return 200, {}, completion(json.dumps({"label": "evaluation", "confidence": 0.5}))

    with (
        stub_openai_server(_stub) as (url, candidate),
        stub_openai_server(judge) as (judge_url, judge_server),
        dg.instance_for_test() as instance,
    ):
        settings, defs = _run(tmp_path, url)
        suite = EvaluatorSuiteResource(names=["refusal"], judge_base_url=judge_url, judge_model="judge")
        defs = dg.Definitions(
            assets=defs.assets,
            asset_checks=defs.asset_checks,
            jobs=defs.jobs,
            resources={**defs.resources, "evaluator_suite": suite},
        )
        instance.add_dynamic_partitions("model_versions", ["r1", "cand"])
        result = defs.resolve_job_def("deployment_simulation_job").execute_in_process(
            partition_key="cand",
            instance=instance,
            run_config={
                "ops": {
                    "conversation_sample": {"config": {"sample_size": SAMPLE, "seed": 1}},
                    "eval_awareness_report": {
                        "config": {"sample_size": SAMPLE, "seed": 3, "probe_with": "judge"}
                    },
                }
            },
        )
        assert result.success
    # The candidate wrote the responses; every question went to the judge.
    assert not any("response_format" in body for body in candidate.bodies)
    assert judge_server.calls > 0 and all("response_format" in body for body in judge_server.bodies)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        probed = {m for (m,) in con.execute("SELECT DISTINCT probed_model FROM eval_awareness").fetchall()}
        labels = {lab for (lab,) in con.execute("SELECT DISTINCT label FROM eval_awareness").fetchall()}
    assert probed == {f"openai:{judge_url}#judge"}
    assert labels <= {"evaluation", None}
