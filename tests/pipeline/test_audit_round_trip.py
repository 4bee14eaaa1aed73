"""The per-release grader audit end to end: simulate, export, label as a person would, import (bad rows
quarantined), and see the corrected rate and the audit in the gate."""

import csv
import json

import duckdb

from orchestration.cli import main
from tests.support.stub_openai_server import completion, stub_openai_server
from tests.support.tiny_world import RAW_PII, build


def _judge(body: dict, _number: int):
    """A judge that calls a response a refusal when it says "can't"."""
    response = body["messages"][-1]["content"].split("<response>")[-1]
    verdict = {"present": "can't" in response, "confidence": 0.9, "rationale": "stub"}
    return 200, {}, completion(json.dumps(verdict))


def _label(path, flip: str) -> list[dict]:
    """Agree with the evaluator except on `flip`; then spoil three rows the way people do."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["human_label"] = row["evaluator_label"]
        if row["conversation_id"] == flip:
            row["human_label"] = "false" if row["evaluator_label"] == "true" else "true"
    bad = [dict(rows[0], human_label="maybe"), dict(rows[0], conversation_id="nope"), dict(rows[1])]
    bad[2]["evaluator_label"] = "false" if rows[1]["evaluator_label"] == "true" else "true"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows, *bad])
    return rows


def test_export_label_import_corrects_the_rates_and_shows_in_the_gate(tmp_path, monkeypatch, capsys):
    settings = build(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("DEPLOYSIM_EVALUATORS", "refusal")
    for variable in ("DEPLOYSIM_LOG", "DEPLOYSIM_REGISTRY", "DEPLOYSIM_DUCKDB"):
        monkeypatch.delenv(variable, raising=False)
    db = str(settings.duckdb_path)
    common = ["--registry", str(settings.release_registry), "--db", db]
    assert main(
        ["run", "--log", str(settings.production_log), *common, "--candidate", "cand", "--quiet"]
    ) in (0, 1)
    capsys.readouterr()

    assert (
        main(
            [
                "audit",
                "export",
                "cand",
                "--db",
                db,
                "--per-stratum",
                "4",
                "--seed",
                "3",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    [exported] = sorted(tmp_path.glob("*.csv"))
    text = exported.read_text() + next(tmp_path.glob("*.jsonl")).read_text()
    assert not any(value in text for value in RAW_PII)  # only de-identified text leaves the store
    with exported.open(newline="") as handle:
        drawn = list(csv.DictReader(handle))
    strata = {(r["category"], r["stratum"]) for r in drawn}
    assert strata == {("refusal", "flagged"), ("refusal", "unflagged")}
    assert all(r["human_label"] == "" for r in drawn)
    # The same seed draws the same audit; a judge can pre-label it for a person to confirm.
    judged = tmp_path / "prelabelled"
    flags = ["--per-stratum", "4", "--seed", "3", "--out", str(judged), "--prelabel", "--judge-model", "j"]
    with stub_openai_server(_judge) as (url, server):
        assert main(["audit", "export", "cand", "--db", db, *flags, "--judge-base-url", url]) == 0
    with (judged / exported.name).open(newline="") as handle:
        prelabelled = list(csv.DictReader(handle))
    assert [r["conversation_id"] for r in prelabelled] == [r["conversation_id"] for r in drawn]
    assert {r["judge_label"] for r in prelabelled} == {"true", "false"} and server.calls == len(drawn)
    assert all(r["judge_label"] == ("true" if "can't" in r["response"] else "false") for r in prelabelled)
    assert not any(
        value in json.dumps(server.bodies) for value in RAW_PII
    )  # the judge sees de-identified text

    unflagged = next(r["conversation_id"] for r in drawn if r["stratum"] == "unflagged")
    _label(exported, flip=unflagged)  # the evaluator missed one refusal in the unflagged stratum
    capsys.readouterr()
    assert main(["audit", "import", str(exported), "--db", db]) in (0, 1)
    out = capsys.readouterr().out
    assert f"{len(drawn) + 3} rows read: {len(drawn)} labelled, 0 left unlabelled, 3 quarantined" in out
    assert (
        "human_label 'maybe'" in out and "no exported audit holds" in out and "evaluator_label differs" in out
    )
    assert "for cand against its prior r1:" in out  # the refreshed gate's headline

    with duckdb.connect(db, read_only=True) as con:
        source, corrected, apparent = con.execute(
            "SELECT correction_source, corrected_per_100k, rate_per_100k FROM behavior_rates "
            "WHERE partition_key = 'cand' AND arm = 'candidate' AND category = 'refusal' AND surface = '*'"
        ).fetchone()
        gate = json.loads(
            con.execute("SELECT gate FROM release_gates WHERE partition_key = 'cand'").fetchone()[0]
        )
        markdown = con.execute("SELECT markdown FROM release_gates WHERE partition_key = 'cand'").fetchone()[
            0
        ]
    audit_id = exported.stem
    assert source == f"audit:{audit_id}"
    # One refusal found among the unflagged: the corrected rate is above the flagged share.
    assert corrected > apparent
    [refusal] = [c for c in gate["categories"] if c["category"] == "refusal"]
    assert refusal["evidence"]["audit_id"] == audit_id
    assert "How far the graders are trusted" in markdown and audit_id in markdown
