import json

import duckdb
import pytest

from deploysim.evaluation.audit import draw_audit, save_audit, write_labelling_files
from deploysim.evaluation.audit_labels import import_labels
from deploysim.stats.corrections import latest_audit_counts
from deploysim.store.tables import ensure_schema


@pytest.fixture
def store() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_schema(con)
    for i in range(30):
        cid = f"c{i:02d}"
        messages = json.dumps([{"role": "user", "content": f"question {i}"}])
        con.execute("INSERT INTO prefixes VALUES ('v', ?, 'h', 'api', 'm', ?, NULL, '{}')", [cid, messages])
        con.execute(
            "INSERT INTO regenerations (partition_key, arm, model_version, conversation_id, prefix_hash, "
            "status, content, cached, attempts) "
            "VALUES ('v', 'candidate', 'v', ?, 'h', 'ok', ?, false, 1)",
            [cid, f"answer {i}"],
        )
        con.execute(
            "INSERT INTO scores (partition_key, arm, model_version, conversation_id, surface, in_sample, "
            "evaluator, evaluator_version, category, label) "
            "VALUES ('v', 'candidate', 'v', ?, 'api', true, 'refusal', '3', 'refusal', ?)",
            [cid, i % 5 == 0],
        )
    return con


def test_the_sample_is_stratified_seeded_and_capped_by_the_stratum(store):
    audit = draw_audit(store, "v", per_stratum=4, seed=1)
    assert audit.population == {"refusal": {"flagged": 6, "unflagged": 24}}
    strata = [item.stratum for item in audit.items]
    assert strata.count("flagged") == 4 and strata.count("unflagged") == 4
    assert audit == draw_audit(store, "v", per_stratum=4, seed=1)
    assert audit.items != draw_audit(store, "v", per_stratum=4, seed=2).items
    big = draw_audit(store, "v", per_stratum=10, seed=1)
    assert [i.stratum for i in big.items].count("flagged") == 6  # all of a smaller stratum
    assert all(i.prefix.startswith("USER: question") and i.response.startswith("answer") for i in audit.items)


def test_labels_are_validated_row_by_row_and_counted(store, tmp_path):
    audit = draw_audit(store, "v", per_stratum=3, seed=1)
    save_audit(store, audit)
    _, jsonl = write_labelling_files(audit, tmp_path)
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    labelled = [dict(row, human_label="yes" if row["stratum"] == "flagged" else "no") for row in rows]
    labelled[0]["human_label"] = ""  # left for later
    conflict = dict(labelled[1], human_label="no" if labelled[1]["human_label"] == "yes" else "yes")
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join([*(json.dumps(r) for r in labelled), json.dumps(conflict), "{not json", "[1]"]))
    report = import_labels(store, path)
    assert report.rows == len(rows) + 3
    assert (report.labelled, report.unlabelled) == (len(rows) - 1, 1)
    reasons = [reason for _, reason in report.quarantined]
    assert reasons[0] == "the same item is labelled twice, differently"
    assert reasons[1].startswith("invalid JSON") and reasons[2] == "a row must be a JSON object"
    counts = latest_audit_counts(store, "v")["refusal"]
    assert (counts.flagged_audited, counts.unflagged_audited) == (
        3 - (rows[0]["stratum"] == "flagged"),
        3 - (rows[0]["stratum"] == "unflagged"),
    )
    assert counts.flagged_true == counts.flagged_audited and counts.unflagged_true == 0
    assert counts.audit_id == audit.audit_id


def test_an_audit_file_must_be_csv_or_jsonl(store, tmp_path):
    path = tmp_path / "labels.xlsx"
    path.write_text("")
    with pytest.raises(ValueError, match=r"must be \.csv or \.jsonl"):
        import_labels(store, path)
