import shutil

import duckdb

from orchestration.cli import main
from tests.support.paths import REPO

EXAMPLES = REPO / "data" / "examples"


def test_bring_your_own_log_and_registry(tmp_path, monkeypatch, capsys):
    """The README's own-data walkthrough: build archives, run, print the gate."""
    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("archive"))
    for version in ("assistant-v1", "assistant-v2", "assistant-v3"):
        assert (
            main(
                [
                    "build-archive",
                    str(work / "recorded" / f"{version}.jsonl"),
                    "--out",
                    str(work / "archive" / f"{version}.jsonl.gz"),
                ]
            )
            == 0
        )
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    for variable in ("DEPLOYSIM_LOG", "DEPLOYSIM_REGISTRY", "DEPLOYSIM_DUCKDB"):
        monkeypatch.delenv(variable, raising=False)
    database = tmp_path / "own.duckdb"
    status = main(
        [
            "run",
            "--log",
            str(work / "production_log.jsonl"),
            "--registry",
            str(work / "releases.yaml"),
            "--db",
            str(database),
            "--candidate",
            "assistant-v3",
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "## Release gate: assistant-v3 (prior assistant-v2)" in out
    assert "| refusal |" in out
    with duckdb.connect(str(database), read_only=True) as con:
        windows = dict(
            con.execute("SELECT partition_key, count(*) FROM conversations GROUP BY ALL").fetchall()
        )
        # v1 served 3 conversations; v2 served 5, one of which opted out of model-improvement use.
        assert windows == {"assistant-v2": 3, "assistant-v3": 4}
        statuses = dict(
            con.execute(
                "SELECT status, count(*) FROM regenerations "
                "WHERE partition_key = 'assistant-v3' AND arm = 'candidate' GROUP BY ALL"
            ).fetchall()
        )
        # The candidate's archive covers three single-turn prefixes; the tool conversation is a recorded miss.
        assert statuses == {"ok": 3, "miss": 1}
        email = con.execute(
            "SELECT count(*) FROM conversations WHERE messages::VARCHAR LIKE '%jo.lee@%'"
        ).fetchone()
        assert email == (0,)
    assert main(["gate", "assistant-v3", "--db", str(database)]) == 0
    assert main(["gate", "no-such-version", "--db", str(database)]) == 2


def test_the_gate_command_exits_non_zero_on_block_for_ci(tmp_path, capsys):
    import duckdb

    from deploysim.store.tables import ensure_schema

    database = tmp_path / "gates.duckdb"
    with duckdb.connect(str(database)) as con:
        ensure_schema(con)
        for version, verdict in (("a", "pass"), ("b", "warn"), ("c", "block")):
            con.execute(
                "INSERT INTO release_gates VALUES (?, ?, '{}', ?)", [version, verdict, f"gate {version}"]
            )
    codes = {v: main(["gate", v, "--db", str(database)]) for v in ("a", "b", "c", "missing")}
    assert codes == {"a": 0, "b": 0, "c": 1, "missing": 2}
    assert "gate c" in capsys.readouterr().out


def test_backfill_registers_the_partitions_and_queues_one_backfill(tmp_path, monkeypatch):
    import dagster as dg

    from tests.support.history_world import build

    for key, value in build(tmp_path, releases=4).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert main(["backfill", "--versions", "r1,nope"]) == 2
    assert main(["backfill"]) == 0  # default: every released version with a prior
    with dg.DagsterInstance.get() as instance:
        assert instance.get_dynamic_partitions("model_versions") == ["r1", "r2", "r3"]
        [backfill] = instance.get_backfills()
        assert sorted(backfill.partition_names) == ["r1", "r2", "r3"]
        assert backfill.job_name == "deployment_simulation_job"


def test_backfill_takes_a_range_of_versions_in_release_order(tmp_path, monkeypatch):
    import dagster as dg

    from tests.support.history_world import build

    for key, value in build(tmp_path, releases=6).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert main(["backfill", "--from", "r4", "--to", "r2"]) == 2
    assert main(["backfill", "--versions", "r1", "--to", "r2"]) == 2
    assert main(["backfill", "--from", "r2", "--to", "r4"]) == 0
    with dg.DagsterInstance.get() as instance:
        [backfill] = instance.get_backfills()
        assert sorted(backfill.partition_names) == ["r2", "r3", "r4"]
