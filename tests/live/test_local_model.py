import socket

import dagster as dg
import duckdb

from deploysim.inference.backends import OpenAIBackend, SamplingParams
from deploysim.inference.engine import EngineSettings, run_requests
from deploysim.inference.local_server import serve_smollm2
from deploysim.inference.openai_client import OpenAICompatibleClient
from deploysim.inference.types import ChatRequest
from orchestration.definitions import build_defs
from orchestration.settings import DATA_DIR, Settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_smollm2_answers_concurrent_requests_through_the_openai_sdk():
    url = f"http://127.0.0.1:{_free_port()}/v1"
    backend = OpenAIBackend(
        base_url=url, model="smollm2-135m-instruct", sampling=SamplingParams(max_tokens=24)
    )
    prompts = ["What is the capital of France?", "Name a primary colour.", "Say hello.", "What is 2 + 2?"]
    items = [
        (str(i), ChatRequest(messages=[{"role": "user", "content": p}], sampling=backend.sampling))
        for i, p in enumerate(prompts)
    ]
    with serve_smollm2(url):
        results = []
        usage = run_requests(
            OpenAICompatibleClient(backend),
            items,
            cache=None,
            settings=EngineSettings.fixed(4),
            on_result=results.append,
        )
    # Concurrent requests must not come back empty (the server runs with request interruption off).
    assert len(results) == 4 and all(r.output and r.output.content for r in results)
    assert usage.calls == 4 and usage.completion_tokens > 0 and usage.prompt_tokens > 0


def test_candidate_partition_runs_end_to_end_on_the_local_model(tmp_path):
    port = _free_port()
    registry = (DATA_DIR / "releases.yaml").read_text().replace("127.0.0.1:8765", f"127.0.0.1:{port}")
    registry = registry.replace("path: sample/", f"path: {DATA_DIR}/sample/")
    (tmp_path / "releases.yaml").write_text(registry)
    settings = Settings(
        production_log=DATA_DIR / "sample" / "production_log.jsonl.gz",
        release_registry=tmp_path / "releases.yaml",
        gate_policy=DATA_DIR / "gate_policy.yaml",
        duckdb_path=tmp_path / "live.duckdb",
        evaluators=["refusal"],
    )
    defs = build_defs(settings)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("model_versions", ["smollm2-135m-instruct"])
        result = defs.resolve_job_def("deployment_simulation_job").execute_in_process(
            partition_key="smollm2-135m-instruct",
            instance=instance,
            run_config={
                "ops": {
                    "conversation_sample": {"config": {"sample_size": 4, "seed": 3}},
                    "eval_awareness_report": {"config": {"sample_size": 4, "seed": 3}},
                }
            },
        )
        assert result.success
        probe = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey("eval_awareness_report"), asset_partitions=["smollm2-135m-instruct"]
            ),
            limit=1,
        ).records[0]
        probe_metadata = {k: v.value for k, v in probe.asset_materialization.metadata.items()}
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = con.execute(
            "SELECT status, content, completion_tokens FROM regenerations WHERE arm = 'candidate'"
        ).fetchall()
        assert len(rows) == 4
        assert all(status == "ok" and content and tokens > 0 for status, content, tokens in rows)
        assert con.execute("SELECT verdict FROM release_gates").fetchone()[0] in {"pass", "warn", "block"}
        # The probe asked the candidate about four transcripts of each suite in every phrasing; whatever a
        # 135M model answers, each question ends as a label, unparseable or failed, none dropped.
        outcomes = con.execute("SELECT suite, status, label FROM eval_awareness").fetchall()
        summary = con.execute("SELECT summary FROM eval_awareness_verdicts").fetchone()[0]
    assert len(outcomes) == 4 * 4 * 3
    assert {suite for suite, _, _ in outcomes} == {"replayed", "production", "adversarial", "benchmark"}
    assert all(status in {"ok", "unparseable", "failed"} for _, status, _ in outcomes)
    assert all((label is not None) == (status == "ok") for _, status, label in outcomes)
    assert probe_metadata["probed_model"] == "smollm2-135m-instruct"
    assert probe_metadata["openai.total_tokens"] > 0
    shares, unparseable = probe_metadata["flagged_share_by_suite"], probe_metadata["unparseable_by_suite"]
    print("\nprobe:", shares, unparseable, summary)
