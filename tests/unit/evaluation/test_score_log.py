"""`score_log`: the input is never destroyed or re-read, CSV has a layout, repeats and broken rows are
quarantined with their line, and counts add up."""

import csv
import gzip
import json
from collections.abc import Sequence

import pytest

from deploysim.core.grading import Grade, GradeItem
from deploysim.evaluation.score_log import ScoreInputError, score_log
from tests.support.builders import conversation, write_jsonl


class LengthEvaluator:
    """Flags responses longer than ten characters: enough to see what was graded."""

    name = "long_reply"
    version = "1.0.0"
    categories = ("long_reply",)

    def grade(self, items: Sequence[GradeItem]) -> list[Grade]:
        return [Grade(item_id=i.item_id, category="long_reply", label=len(i.response) > 10) for i in items]


def _score(source, output):
    return score_log(source, [LengthEvaluator()], output)


def _quarantine(report) -> list[dict]:
    with open(report.quarantine_file, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path):
    log = write_jsonl(tmp_path / "log.jsonl", [conversation("c1", "v1", "hi", "hello")])
    before = log.read_bytes()
    with pytest.raises(ScoreInputError, match="is the input itself"):
        _score(log, tmp_path / "." / "log.jsonl")
    assert log.read_bytes() == before
    folder = tmp_path / "logs"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [conversation("c1", "v1", "hi", "hello")])
    with pytest.raises(ScoreInputError, match="inside the input folder"):
        _score(folder, folder / "out" / "labels.csv")
    assert sorted(p.name for p in folder.rglob("*")) == ["a.jsonl"]
    # The quarantine file beside the output would overwrite an input named like it.
    quarantine_named = write_jsonl(tmp_path / "x.csv.quarantine.jsonl", [conversation("c", "v1", "a", "b")])
    with pytest.raises(ScoreInputError, match="is the input itself"):
        _score(quarantine_named, tmp_path / "x.csv")


def test_an_input_with_nothing_to_score_is_a_data_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(
        ScoreInputError, match=r"nothing to score in .*\(notes\.txt: not a log format: \.txt\)"
    ):
        _score(tmp_path, tmp_path.parent / "labels.jsonl")
    with pytest.raises(ScoreInputError, match="input not found"):
        _score(tmp_path / "missing.jsonl", tmp_path.parent / "labels.jsonl")
    with pytest.raises(ScoreInputError, match="must end in"):
        _score(tmp_path / "notes.txt", tmp_path.parent / "labels.txt")


def test_csv_input_in_the_documented_layout_is_scored_row_by_row(tmp_path):
    path = tmp_path / "log.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["conversation_id", "messages", "model_version", "note"])
        for cid, reply, note in [("c1", "short", "a note\non two lines"), ("c2", "a much longer reply", "")]:
            messages = [{"role": "user", "content": "hi, there"}, {"role": "assistant", "content": reply}]
            writer.writerow([cid, json.dumps(messages), "prod-1", note])
        writer.writerow(["c3", "not json", "prod-1", ""])
        writer.writerow(["c4", json.dumps([{"role": "user", "content": "x"}]), "", ""])
    out = tmp_path / "out" / "labels.jsonl"
    report = _score(path, out)
    assert (report.rows_in, report.scored, report.quarantined) == (4, 2, 2)
    labels = [json.loads(line) for line in out.read_text().splitlines()]
    assert {(r["conversation_id"], r["model_version"], r["label"]) for r in labels} == {
        ("c1", "prod-1", False),
        ("c2", "prod-1", True),
    }
    problems = _quarantine(report)
    # A quoted cell spans two lines, so the rows start on lines 2, 4, 5 and 6.
    assert [(p["line_no"], p["reason"].split(":")[0]) for p in problems] == [(5, "messages"), (6, "messages")]
    assert problems[0]["reason"] == "messages: invalid JSON: Expecting value"


def test_a_csv_without_the_required_columns_is_refused_in_one_line(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("prompt,response\nhi,hello\n")
    with pytest.raises(ScoreInputError) as error:
        _score(path, tmp_path / "labels.jsonl")
    assert str(error.value) == (
        "log.csv: CSV input needs the columns conversation_id, messages; missing conversation_id, messages "
        "(found: prompt, response)"
    )
    assert not (tmp_path / "labels.jsonl").exists()


def test_duplicate_ids_are_scored_once_and_the_repeats_quarantined(tmp_path):
    rows = [
        conversation("c1", "v1", "hi", "first answer here"),
        conversation("c2", "v1", "hi", "ok"),
        conversation("c1", "v1", "hi", "second"),
        conversation("c1", "v1", "hi", "third"),
    ]
    report = _score(write_jsonl(tmp_path / "log.jsonl", rows), tmp_path / "labels.csv")
    assert (report.rows_in, report.scored, report.quarantined, report.duplicates) == (4, 2, 2, 2)
    labels = list(csv.DictReader((tmp_path / "labels.csv").open()))
    assert [(r["conversation_id"], r["label"]) for r in labels] == [("c1", "True"), ("c2", "False")]
    assert [p["reason"] for p in _quarantine(report)] == [
        "duplicate conversation_id, first seen at log.jsonl:1"
    ] * 2


def test_deep_nesting_corrupt_gzip_and_oversized_rows_are_quarantined_not_fatal(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    write_jsonl(
        folder / "a.jsonl",
        [
            conversation("ok", "v1", "hi", "hello"),
            '{"conversation_id": "deep", "x": ' + "[" * 200_000 + "]" * 200_000 + "}",
            conversation("big", "v1", "x" * 99_000, "y" * 99_000, tools=[{"d": "z" * 5_000}]),
            conversation("huge", "v1", "x" * 99_000, "y" * 99_000 + "z" * 2_001),
        ],
    )
    with gzip.GzipFile(folder / "b.jsonl.gz", "wb", mtime=0) as handle:
        handle.write(
            b"".join(
                (json.dumps(conversation(f"g{i}", "v1", "hi", "ok")) + "\n").encode() for i in range(300)
            )
        )
    data = bytearray((folder / "b.jsonl.gz").read_bytes())
    data[30] ^= 0xFF
    (folder / "b.jsonl.gz").write_bytes(bytes(data))
    (folder / "notes.md").write_text("read me")
    report = _score(folder, tmp_path / "labels.parquet")
    assert report.scored == 2 and report.rows_in == report.scored + report.quarantined
    reasons = {(p["source"], p["line_no"]): p["reason"] for p in _quarantine(report)}
    assert reasons[("a.jsonl", 2)] == "nested too deeply (more than 64 levels)"
    assert reasons[("a.jsonl", 4)] == "messages.1: a text of 101,001 characters exceeds the 100,000 limit"
    assert reasons[("b.jsonl.gz", 1)].startswith("unreadable file after 0 rows: error: Error -3")
    assert [(s.path, s.reason) for s in report.skipped_files] == [("notes.md", "not a log format: .md")]


def test_a_failed_run_leaves_the_previous_output_in_place(tmp_path):
    class Broken(LengthEvaluator):
        def grade(self, items):
            raise RuntimeError("evaluator bug")

    log = write_jsonl(tmp_path / "log.jsonl", [conversation("c1", "v1", "hi", "hello")])
    out = tmp_path / "labels.jsonl"
    out.write_text("previous labels\n")
    with pytest.raises(RuntimeError):
        score_log(log, [Broken()], out)
    assert out.read_text() == "previous labels\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.jsonl", "log.jsonl"]
