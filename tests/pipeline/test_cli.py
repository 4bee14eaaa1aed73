import shutil

import duckdb

from orchestration.cli import main
from tests.support.paths import REPO
from tests.support.tiny_world import build

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
        # The candidate's archive covers every prefix, the tool conversation included.
        assert statuses == {"ok": 4}
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
        for version, verdict in (("a", "pass"), ("b", "warn"), ("c", "block"), ("d", "error")):
            con.execute(
                "INSERT INTO release_gates VALUES (?, ?, '{}', ?)", [version, verdict, f"gate {version}"]
            )
    codes = {v: main(["gate", v, "--db", str(database)]) for v in ("a", "b", "c", "d", "missing")}
    assert codes == {"a": 0, "b": 0, "c": 1, "d": 3, "missing": 2}
    assert "gate c" in capsys.readouterr().out


def test_gate_on_a_missing_or_busy_database_is_a_usage_error_in_one_line(tmp_path, capsys):
    import subprocess
    import sys

    assert main(["gate", "v", "--db", str(tmp_path / "absent.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no database at" in err and "Traceback" not in err
    database = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(database)!r}); "
         "c.execute('CREATE TABLE t (x INT)'); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["gate", "v", "--db", str(database)]) == 2
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open" in err and "Traceback" not in err


def test_run_stops_before_any_work_with_one_line_per_problem(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    settings = build(tmp_path)
    base = ["run", "--log", str(settings.production_log), "--db", str(tmp_path / "x.duckdb"), "--quiet"]
    cases = {
        "release registry not found": ["--registry", str(tmp_path / "absent.yaml")],
        "'nope' is not in the release registry": ["--registry", str(settings.release_registry),
                                                  "--candidate", "nope"],
        "'r0' has no prior_version": ["--registry", str(settings.release_registry), "--candidate", "r0"],
    }  # fmt: skip
    for expected, flags in cases.items():
        assert main(base + flags) == 2
        err = capsys.readouterr().err
        assert err.startswith("deploysim: ") and expected in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.duckdb").exists(), "nothing may run before the checks pass"
    assert not (tmp_path / "dagster_home").exists()


def test_an_unexpected_error_is_one_line_unless_debug(tmp_path, monkeypatch, capsys):
    import pytest

    import orchestration.cli as cli

    def explode(candidate, headline_only=False):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(cli, "print_gate", explode)
    assert main(["gate", "v"]) == 2
    err = capsys.readouterr().err
    assert err == "deploysim: RuntimeError: disk on fire (rerun with --debug for the traceback)\n"
    with pytest.raises(RuntimeError):
        main(["--debug", "gate", "v"])


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


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_dead_candidate_endpoint_is_an_incomplete_simulation_never_a_pass(tmp_path, monkeypatch, capsys):
    """Every candidate call refused: the gate is ERROR and `run` and `gate` exit 3, not 0."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    backend = {"kind": "openai", "base_url": f"http://127.0.0.1:{_closed_port()}/v1", "model": "m"}
    settings = build(tmp_path, candidate_backend=backend)
    database = tmp_path / "dead.duckdb"
    flags = ["--log", str(settings.production_log), "--registry", str(settings.release_registry)]
    status = main(["run", *flags, "--db", str(database), "--no-history", "--attempts", "1", "--quiet"])
    out, err = capsys.readouterr()
    assert status == 3, err
    assert "**ERROR** for cand against its prior r1: the simulation is incomplete" in out
    assert main(["gate", "cand", "--db", str(database)]) == 3
    with duckdb.connect(str(database), read_only=True) as con:
        errors = con.execute(
            "SELECT DISTINCT error_message FROM regenerations "
            "WHERE partition_key = 'cand' AND arm = 'candidate'"
        ).fetchall()
    assert errors and all("refused" in message.lower() for (message,) in errors), errors


def test_a_rejected_key_stops_the_run_at_the_first_call_with_one_line(tmp_path, monkeypatch, capsys):
    from tests.support.stub_openai_server import stub_openai_server

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("CANDIDATE_KEY", "sk-wrong")
    unauthorized = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    with stub_openai_server(lambda body, number: (401, {}, unauthorized)) as (url, server):
        backend = {"kind": "openai", "base_url": url, "model": "m", "api_key_env": "CANDIDATE_KEY"}
        settings = build(tmp_path, candidate_backend=backend)
        flags = ["--log", str(settings.production_log), "--registry", str(settings.release_registry)]
        status = main(["run", *flags, "--db", str(tmp_path / "k.duckdb"), "--no-history", "--quiet"])
        calls = server.calls
    err = capsys.readouterr().err
    assert status == 3
    failure = [line for line in err.splitlines() if line.startswith("deploysim: ")]
    assert failure == [
        "deploysim: the run for cand did not finish: the endpoint for cand rejected the key (401): check "
        f"CANDIDATE_KEY (run {failure[0].rsplit('(run ', 1)[1]}"
    ], err
    assert calls <= 8, "a rejected key must stop the calls, not retry every prefix"
    assert "sk-wrong" not in err
