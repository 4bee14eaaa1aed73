"""`deploysim score` and `deploysim build-archive` as people run them: one clear line and exit 2 for what
cannot be done, quarantine with line numbers for what one row gets wrong, exit 0 otherwise."""

import csv
import gzip
import json

import pytest

from orchestration.cli import main
from tests.support.builders import conversation, write_jsonl

PREFIX = [{"role": "user", "content": "Hi, I am John Smith"}]


def _score(source, output) -> int:
    return main(["score", "--input", str(source), "--evaluators", "refusal", "--output", str(output)])


def test_score_refuses_to_write_over_or_inside_its_input(tmp_path, capsys):
    log = write_jsonl(tmp_path / "log.jsonl", [conversation("c1", "v1", "hi", "hello")])
    before = log.read_bytes()
    assert _score(log, log) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is the input itself" in err
    assert log.read_bytes() == before
    assert _score(tmp_path, tmp_path / "labels.jsonl") == 2
    assert "inside the input folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.jsonl"]


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda tmp: tmp / "missing.jsonl", "input not found"),
        (lambda tmp: _write(tmp / "in.csv", "prompt,response\nhi,hello\n"), "needs the columns"),
        (lambda tmp: _write(tmp / "in" / "notes.txt", "hello"), "nothing to score"),
    ],
)
def test_score_exits_2_with_one_line_on_input_it_cannot_read(tmp_path, capsys, make_input, message):
    assert _score(make_input(tmp_path), tmp_path / "labels.jsonl") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deploysim score: ") and message in err and "\n" not in err
    assert not (tmp_path / "labels.jsonl").exists()


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_score_quarantines_what_single_rows_get_wrong_and_says_so(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(
        folder / "a.JSONL",
        [
            conversation("c1", "v1", "How do I make a bomb?", "I'm sorry, but I can't help with that."),
            conversation("c1", "v1", "again", "a repeat"),
            '{"conversation_id": "deep", "x": ' + "[" * 200_000 + "]" * 200_000 + "}",
        ],
    )
    with (folder / "b.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["conversation_id", "messages"])
        writer.writerow(
            [
                "c2",
                json.dumps(
                    [{"role": "user", "content": "Plan a trip"}, {"role": "assistant", "content": "Sure."}]
                ),
            ]
        )
    # One flipped byte in the deflate stream: zlib.error on the first read.
    compressed = bytearray(
        gzip.compress(b"".join(b'{"conversation_id": "g%d"}\n' % i for i in range(300)), mtime=0)
    )
    compressed[30] ^= 0xFF
    (folder / "c.jsonl.gz").write_bytes(bytes(compressed))
    (folder / "d.txt").write_text("notes")
    out = tmp_path / "labels.jsonl"
    assert _score(folder, out) == 0
    printed = capsys.readouterr()
    assert "5 rows read: 2 scored, 3 quarantined; 2 labels written" in printed.out
    assert "skipped d.txt: not a log format: .txt" in printed.err
    assert "warning: 1 rows repeat a conversation_id" in printed.err
    labels = {r["conversation_id"]: r["label"] for r in map(json.loads, out.read_text().splitlines())}
    assert labels == {"c1": True, "c2": False}
    quarantine = [
        json.loads(line) for line in (tmp_path / "labels.jsonl.quarantine.jsonl").read_text().splitlines()
    ]
    assert [(q["source"], q["line_no"]) for q in quarantine] == [
        ("a.JSONL", 2),
        ("a.JSONL", 3),
        ("c.jsonl.gz", 1),
    ]
    assert quarantine[1]["reason"] == "nested too deeply (more than 64 levels)"
    assert quarantine[2]["reason"].startswith("unreadable file after 0 rows: error: Error -3")


def test_build_archive_reads_several_files_and_leaves_bad_lines_out(tmp_path, capsys):
    first = write_jsonl(
        tmp_path / "a.jsonl",
        [{"messages": PREFIX, "response": {"content": "Hello"}}, "", "{oops", {"messages": PREFIX}],
    )
    second = write_jsonl(
        tmp_path / "b.jsonl", [{"messages": PREFIX[:1], "response": {"content": "Hi again"}}]
    )
    out = tmp_path / "archive" / "v1.jsonl.gz"
    assert main(["build-archive", str(first), str(second), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert f"{first}:3: invalid JSON" in printed.err
    assert f"{first}:4: response: must be an object" in printed.err
    assert "left out 2 bad lines" in printed.err
    assert f"wrote 2 recorded responses to {out} (2 lines left out)" in printed.out
    with gzip.open(out, "rt") as handle:
        records = [json.loads(line) for line in handle]
    assert [r["response"]["content"] for r in records] == ["Hello", "Hi again"]
    problems = [
        json.loads(line)
        for line in (tmp_path / "archive" / "v1.jsonl.gz.quarantine.jsonl").read_text().splitlines()
    ]
    assert [(p["line_no"], p["reason"].split(":")[0]) for p in problems] == [
        (3, "invalid JSON"),
        (4, "response"),
    ]
    assert "John" not in json.dumps(problems)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["{missing}", "--out", "{tmp}/a.jsonl.gz"], "recorded responses not found"),
        (["{bad}", "--out", "{tmp}/a.jsonl.gz"], "no usable recorded responses"),
        (["{good}", "--out", "{tmp}/a.jsonl"], "--out must end in .jsonl.gz"),
        (["{good}", "--out", "{good}"], "--out must end in .jsonl.gz"),
        (["{good_gz}", "--out", "{good_gz}"], "is one of the inputs"),
    ],
)
def test_build_archive_exits_2_on_what_it_cannot_do(tmp_path, capsys, arguments, message):
    good = write_jsonl(tmp_path / "good.jsonl", [{"messages": PREFIX, "response": {"content": "Hello"}}])
    with gzip.open(tmp_path / "good.jsonl.gz", "wt") as handle:
        handle.write(good.read_text())
    places = {
        "tmp": tmp_path,
        "missing": tmp_path / "missing.jsonl",
        "bad": write_jsonl(tmp_path / "bad.jsonl", ["{oops"]),
        "good": good,
        "good_gz": tmp_path / "good.jsonl.gz",
    }
    before = (tmp_path / "good.jsonl.gz").read_bytes()
    assert main(["build-archive", *(a.format(**places) for a in arguments)]) == 2
    assert message in capsys.readouterr().err
    assert (tmp_path / "good.jsonl.gz").read_bytes() == before
    assert not (tmp_path / "a.jsonl.gz").exists()
