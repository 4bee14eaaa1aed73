import json

import dagster as dg
import duckdb

from deploysim.store.schema import TABLES as STORE_TABLES
from orchestration.cli import main
from orchestration.definitions import build_defs
from tests.support.tiny_world import RAW_PII, build

# Every table the pipeline writes: none may hold a raw value.
TABLES = [*STORE_TABLES]


def _run(defs, instance, partition):
    return defs.resolve_job_def("deployment_simulation_job").execute_in_process(
        partition_key=partition,
        instance=instance,
        run_config={
            "ops": {
                "conversation_sample": {"config": {"sample_size": 15, "seed": 1}},
                "backtest_calibration": {"config": {"min_turns": 10}},
            }
        },
    )


def test_whole_chain_materializes_for_history_and_candidate(tmp_path):
    settings = build(tmp_path)
    defs = build_defs(settings)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("model_versions", ["r1", "cand"])
        for partition in ("r1", "cand"):
            assert _run(defs, instance, partition).success

        def metadata(asset: str, partition: str) -> dict:
            event = instance.get_latest_materialization_event(dg.AssetKey(asset))
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
            ).records
            assert event is not None and records
            return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}

        ingest = metadata("deidentified_conversations", "cand")
        assert ingest["model_version"] == "cand" and ingest["prior_version"] == "r1"
        assert ingest["rows.accepted"] == 20 and ingest["rows.quarantined"] == 1
        assert (
            ingest["rows.in_window"]
            == ingest["rows.accepted"] + ingest["rows.quarantined"] + ingest["rows.excluded_no_consent"]
        )
        assert ingest["rows.unroutable"] == 1
        assert ingest["rows.read"] == ingest["rows.in_window"] + ingest["rows.other_windows"] + 1
        assert ingest["pii.entity_counts"]["EMAIL_ADDRESS"] >= 5

        sample = metadata("conversation_sample", "cand")
        assert sample["sample.size"] == 15 and sample["sample.seed"] == 1
        regen = metadata("regenerated_responses", "cand")
        assert regen["openai.calls"] == 15 and regen["openai.total_tokens"] == 150
        assert regen["openai.cost_usd"] > 0
        gate = metadata("release_gate", "cand")
        assert gate["verdict"] in {"pass", "warn", "block"}
        assert "| refusal |" in gate["report"]
        backtest = metadata("backtest_calibration", "cand")
        assert backtest["computed_from_releases"] == ["r1"]

        # Lineage: each downstream page names the upstream materializations (same partition, their runs)
        # it read and carries the run's facts down to the gate.
        assert regen["endpoint"] == "fake:cand" and regen["prior.endpoint"] == "archive:r1.jsonl.gz"
        # The prior arm is replayed from its archive: both arms are counted, the archive costs nothing.
        assert regen["prior.total_tokens"] == 0 and regen["prior.cost_usd"] == 0
        assert regen["simulation.total_tokens"] == regen["openai.total_tokens"] == 150
        assert regen["simulation.cost_usd"] == round(regen["openai.cost_usd"], 6)
        run_of = {
            asset: instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=["cand"]), limit=1
            )
            .records[0]
            .run_id
            for asset in ("behavior_rates", "backtest_calibration")
        }
        for asset in ("behavior_rates", "backtest_calibration"):
            assert f"| {asset} | cand | {run_of[asset]} |" in gate["computed_from"]
        assert "| regenerated_responses | cand |" in metadata("evaluator_scores", "cand")["computed_from"]
        assert "evaluator_validation" in metadata("behavior_rates", "cand")["computed_from"]
        assert gate["sample.seed"] == 1 and gate["sample.size"] == 15
        assert gate["endpoint"] == "fake:cand" and gate["prior.endpoint"] == "archive:r1.jsonl.gz"
        assert gate["simulation.total_tokens"] == 150
        assert gate["evaluator_versions"] == metadata("evaluator_scores", "cand")["evaluator_versions"]
        assert gate["model_version"] == "cand" and gate["prior_version"] == "r1"

        checks = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(
                dg.AssetKey("deidentified_conversations"), "conversations_contain_no_strict_pii"
            ),
            limit=5,
        )
        assert checks and all(c.status.value == "SUCCEEDED" for c in checks)

        # The gate's verdict is also an asset check whose severity follows it.
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("release_gate"), "release_gate_passes"), limit=5
        )
        [evaluation] = [c.evaluation for c in history if c.partition == "cand"]
        expected = {"pass": (True, None), "warn": (False, "WARN"), "block": (False, "ERROR")}[gate["verdict"]]
        assert evaluation.passed == expected[0]
        if not evaluation.passed:
            assert evaluation.severity.value == expected[1]

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        # r1 forecast: r1's archive on r0's prefixes; observed: r1's own window, scored in partition cand.
        pairs = con.execute(
            "SELECT release, prior_version FROM backtest WHERE partition_key = 'cand'"
        ).fetchall()
        assert pairs == [("r1", "r0")]
        misses = con.execute("SELECT count(*) FROM regenerations WHERE status <> 'ok'").fetchone()[0]
        assert misses == 0  # every sampled prefix hits its archive: keys are built like the pipeline's
        # No raw PII in any table, anywhere.
        for table in TABLES:
            dump = json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str)
            for value in RAW_PII:
                assert value not in dump, (table, value)
        quarantined = con.execute("SELECT partition_key, reason FROM quarantine ORDER BY 1").fetchall()
        assert (
            "cand",
            "messages.1: Value error, assistant message has neither content nor tool_calls",
        ) in quarantined
        assert any(p is None and r.startswith("invalid JSON") for p, r in quarantined)
        # The candidate's refusal rate is measured on the very prefixes the prior answered.
        (n_paired,) = con.execute("SELECT n_paired FROM change_tests WHERE partition_key = 'cand'").fetchone()
        assert n_paired == 15
        # r1's archive holds the answers production served: fidelity is stated as vacuous, not as 1.00x.
        stored = json.loads(
            con.execute("SELECT gate FROM release_gates WHERE partition_key = 'cand'").fetchone()[0]
        )
        [refusal] = stored["categories"]
        assert refusal["fidelity_fold_error"] is None
        assert (
            refusal["fidelity_note"]
            == "not informative (archive replay: 15 of 15 prior replies are what production served)"
        )
        assert set(refusal["forecasts"]) == {"raw", "ratio", "calibrated", "persistence"}


def test_paired_examples_show_only_de_identified_text(tmp_path, capsys):
    settings = build(tmp_path)
    defs = build_defs(settings)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("model_versions", ["cand"])
        assert _run(defs, instance, "cand").success
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("release_gate"), asset_partitions=["cand"]), limit=1
        ).records
        shown = record.asset_materialization.metadata["examples"].value
    db = str(settings.duckdb_path)
    # The fake candidate refuses every bomb prompt, r1 only half of them: the other half flipped.
    assert main(["examples", "cand", "--db", db, "--format", "jsonl", "--flipped", "--limit", "50"]) == 0
    flipped = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert flipped and all(e["flipped"] and e["candidate_label"] and not e["prior_label"] for e in flipped)
    assert all("bomb" in e["prefix"] for e in flipped)
    assert main(["examples", "cand", "--db", db, "--category", "refusal", "--limit", "3"]) == 0
    table = capsys.readouterr().out
    assert table.count("| refusal |") == 3 and "| yes |" in table
    assert main(["examples", "cand", "--db", db, "--category", "no_such_category"]) == 2
    # What a release engineer is shown, in the terminal and on the version's page, is de-identified.
    for text in (json.dumps(flipped), table, shown):
        assert "<EMAIL_ADDRESS_" in text or "<PHONE_NUMBER_" in text
        for value in RAW_PII:
            assert value not in text, value


def test_rerun_of_a_partition_replaces_its_rows(tmp_path):
    settings = build(tmp_path)
    defs = build_defs(settings)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("model_versions", ["r1"])
        assert _run(defs, instance, "r1").success
        assert _run(defs, instance, "r1").success
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        counts = dict(con.execute("SELECT arm, count(*) FROM regenerations GROUP BY arm").fetchall())
        assert counts == {"candidate": 15, "prior": 15}
        assert con.execute("SELECT count(*) FROM conversations").fetchone()[0] == 20


def test_a_window_where_every_row_is_bad_is_quarantined_and_blocks_downstream(tmp_path):
    from tests.support.builders import conversation, write_jsonl

    settings = build(tmp_path)
    write_jsonl(settings.production_log, [conversation(f"bad-{i}", "r1", "", "hi") for i in range(3)])
    defs = build_defs(settings)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("model_versions", ["cand"])
        result = defs.resolve_job_def("deployment_simulation_job").execute_in_process(
            partition_key="cand", instance=instance, raise_on_error=False
        )
        materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    # The stage itself succeeds and records the quarantine; the blocking contract check stops the rest.
    assert materialized == {"deidentified_conversations"}
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM quarantine WHERE partition_key = 'cand'").fetchone() == (3,)
        assert con.execute("SELECT count(*) FROM conversations").fetchone() == (0,)
