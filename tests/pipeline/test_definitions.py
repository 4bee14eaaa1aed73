import dagster as dg

from orchestration.definitions import defs


def test_definitions_load_with_every_stage_and_check():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    names = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert names == {
        "deidentified_conversations",
        "conversation_sample",
        "regenerated_responses",
        "evaluator_scores",
        "evaluator_validation",
        "eval_awareness_report",
        "behavior_rates",
        "backtest_calibration",
        "release_gate",
    }
    job = defs.resolve_job_def("deployment_simulation_job")
    assert job.partitions_def.name == "model_versions"
    assert "evaluator_validation" not in {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert defs.resolve_job_def("evaluator_validation_job").partitions_def is None
    checks = {key.name for key in graph.asset_check_keys}
    assert {
        "conversations_satisfy_contract",
        "conversations_contain_no_strict_pii",
        "every_prefix_has_one_result_per_arm",
        "every_response_is_graded",
        "release_gate_passes",
    } <= checks


def test_every_asset_has_kinds_group_description_and_code_version():
    for spec in defs.resolve_all_asset_specs():
        assert spec.kinds, spec.key
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.description and "\n" not in spec.description, spec.key
        assert spec.code_version, spec.key
        if spec.key.to_user_string() == "evaluator_validation":
            # Evaluators are validated once against human labels, not per release.
            assert spec.partitions_def is None
            continue
        assert spec.partitions_def is not None and spec.partitions_def.name == "model_versions"


def test_blocking_checks_guard_each_handoff():
    graph = defs.resolve_asset_graph()
    blocking = {
        key.asset_key.to_user_string() for key in graph.asset_check_keys if graph.get_check_spec(key).blocking
    }
    assert blocking == {"deidentified_conversations", "regenerated_responses", "evaluator_scores"}


def test_every_step_opens_duckdb_through_the_turn_taking_resource():
    from orchestration.resources import SerializedDuckDBResource

    for node in [*defs.assets, *defs.asset_checks]:
        assert "duckdb" in node.required_resource_keys, node
    assert isinstance(defs.resources["duckdb"], SerializedDuckDBResource)


def test_jobs_run_each_step_in_a_process_forked_from_the_preloaded_definitions():
    for name in ("deployment_simulation_job", "release_refresh_job", "evaluator_validation_job"):
        executor = defs.resolve_job_def(name).executor_def
        assert executor.name == "forkserver_multiprocess_executor", name


def test_the_gate_verdict_check_takes_the_verdicts_severity():
    from assets.release import gate_check_result
    from deploysim.release.policy import Verdict

    assert gate_check_result(Verdict.PASS).passed
    warn, block, missing = (gate_check_result(v) for v in (Verdict.WARN, Verdict.BLOCK, None))
    assert not warn.passed and warn.severity == dg.AssetCheckSeverity.WARN
    assert not block.passed and block.severity == dg.AssetCheckSeverity.ERROR
    assert not missing.passed and missing.severity == dg.AssetCheckSeverity.ERROR
