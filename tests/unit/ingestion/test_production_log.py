import gzip
import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from deploysim.core.releases import parse_registry
from deploysim.ingestion.production_log import read_log, scan_log
from deploysim.ingestion.window import ingest_window
from tests.support.builders import conversation, write_jsonl

KNOWN = {"v1", "v2"}
ARCHIVE = {"kind": "archive", "path": "archive.jsonl"}


def _ingest(path, version="v1"):
    return ingest_window(read_log(path), version, KNOWN, redact=lambda text: text.replace("@", "(at)"))


def test_every_row_is_accepted_quarantined_excluded_or_routed_elsewhere(tmp_path):
    rows = [
        conversation("ok-1", "v1", "hi", "hello"),
        conversation("ok-2", "v1", "how are you", "fine"),
        conversation("other-window", "v2", "hi", "hello"),
        conversation("no-consent", "v1", "hi", "hello", consent_model_improvement=False),
        conversation("bad-order", "v1", "hi", "hello", messages=[{"role": "user", "content": "a"}]),
        conversation("ok-1", "v1", "again", "dup"),
        conversation("unknown-version", "v9", "hi", "hello"),
        {**conversation("no-version", "v1", "hi", "hello"), "model_version": None},
        '{"conversation_id": "broken", ',
        "[1, 2, 3]",
        conversation("bad-date", "v1", "mail me at a@b.co", "ok", started_at="yesterday"),
    ]
    window = _ingest(write_jsonl(tmp_path / "log.jsonl", rows))

    assert [c.conversation_id for c in window.accepted] == ["ok-1", "ok-2"]
    assert window.excluded_no_consent == 1
    assert window.rows_other_windows == 1
    reasons = {q.conversation_id: q.reason for q in window.quarantined}
    assert set(reasons) == {"bad-order", "ok-1", "bad-date"}
    assert "duplicate conversation_id" in reasons["ok-1"]
    assert "messages" in reasons["bad-order"]
    assert reasons["bad-date"].startswith("started_at")
    unroutable = sorted(q.reason for q in window.unroutable)
    assert any("'v9' is not in the release registry" in r for r in unroutable)
    assert any("missing" in r for r in unroutable)
    assert any(r.startswith("invalid JSON") for r in unroutable)
    assert any("JSON object" in r for r in unroutable)
    # Nothing is dropped silently.
    assert (
        window.rows_in_window == len(window.accepted) + len(window.quarantined) + window.excluded_no_consent
    )
    assert window.rows_read == window.rows_in_window + window.rows_other_windows + len(window.unroutable)
    assert window.rows_read == len(rows)
    # Quarantine excerpts go through the redactor, never raw.
    bad_date = next(q for q in window.quarantined if q.conversation_id == "bad-date")
    assert "a@b.co" not in bad_date.excerpt and "a(at)b.co" in bad_date.excerpt
    assert bad_date.line_no == 11


def test_gzipped_jsonl_and_parquet_give_the_same_conversations(tmp_path):
    rows = [conversation(f"c{i}", "v1", f"question {i}", f"answer {i}") for i in range(5)]
    with gzip.open(tmp_path / "log.jsonl.gz", "wt") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    # Parquet writers often store nested columns as JSON strings; both layouts are read.
    as_strings = [{**r, "messages": json.dumps(r["messages"])} for r in rows[:3]]
    pq.write_table(pa.Table.from_pylist(as_strings), tmp_path / "a.parquet")
    pq.write_table(pa.Table.from_pylist(rows[3:]), tmp_path / "b.parquet")

    from_jsonl = _ingest(tmp_path / "log.jsonl.gz")
    parquet_dir = tmp_path / "parquet"
    parquet_dir.mkdir()
    for name in ("a.parquet", "b.parquet"):
        (tmp_path / name).rename(parquet_dir / name)
    from_parquet = _ingest(parquet_dir)
    assert [c.model_dump() for c in from_parquet.accepted] == [c.model_dump() for c in from_jsonl.accepted]
    assert from_parquet.quarantined == []


def test_parquet_row_with_broken_json_column_is_quarantined(tmp_path):
    rows = [{**conversation("c1", "v1", "q", "a"), "messages": "[{not json"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "log.parquet")
    window = _ingest(tmp_path / "log.parquet")
    assert window.accepted == []
    assert window.quarantined[0].reason.startswith("messages: invalid JSON")


def test_bad_bytes_huge_and_empty_messages_are_quarantined_and_counted(tmp_path):
    good = conversation("ok", "v1", "hi", "hello")
    huge = conversation("huge", "v1", "x" * 1_000_000, "hello")
    empty = conversation("empty", "v1", "", "hello")
    path = tmp_path / "log.jsonl"
    with path.open("wb") as handle:
        handle.write((json.dumps(good) + "\n").encode())
        handle.write(latin1 := b'{"conversation_id": "latin1", "model_version": "v1", "note": "caf\xe9"}\n')
        handle.write((json.dumps(huge) + "\n").encode())
        handle.write((json.dumps(empty) + "\n").encode())
    window = _ingest(path)
    assert [c.conversation_id for c in window.accepted] == ["ok"]
    reasons = {q.conversation_id: q.reason for q in window.quarantined}
    assert "1,000,000 characters exceeds" in reasons["huge"]
    assert "empty content" in reasons["empty"]
    assert [q.reason for q in window.unroutable] == [f"not valid UTF-8 (byte {latin1.index(0xE9)})"]
    assert window.rows_read == 4 == len(window.accepted) + len(window.quarantined) + len(window.unroutable)
    assert all(len(q.excerpt) <= 240 for q in window.quarantined + window.unroutable)


def test_an_unreadable_file_is_recorded_and_the_other_files_are_still_read(tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [conversation("ok", "v1", "hi", "hello")])
    (folder / "b.parquet").write_bytes(b"PAR1 this is not a parquet file")
    with gzip.open(folder / "c.jsonl.gz", "wb") as handle:
        handle.write((json.dumps(conversation("ok-2", "v1", "hi", "hello")) + "\n").encode() * 50)
    (folder / "c.jsonl.gz").write_bytes((folder / "c.jsonl.gz").read_bytes()[:-20])  # truncated
    window = _ingest(folder)
    assert [c.conversation_id for c in window.accepted][:2] == ["ok", "ok-2"]
    reasons = [q.reason for q in window.unroutable]
    assert any(r.startswith("unreadable file after 0 rows: ArrowInvalid") for r in reasons)
    assert any(
        r.startswith("unreadable file after") and ("EOFError" in r or "BadGzipFile" in r) for r in reasons
    )


def test_a_window_follows_started_at_when_releases_overlap(tmp_path):
    # v1 shipped 2024-01-01 and v2 2024-03-01, but v1 kept serving after v2 shipped (a staged rollout) and
    # v2 served a canary before it: the dates overlap. v2's window is v1's traffic in [Jan 1, Mar 1).
    registry = parse_registry(
        {
            "registry_version": 1,
            "releases": [
                {"version": "v1", "released_at": "2024-01-01T00:00:00Z", "backend": ARCHIVE},
                {
                    "version": "v2",
                    "released_at": "2024-03-01T00:00:00Z",
                    "prior_version": "v1",
                    "backend": ARCHIVE,
                },
                {"version": "v3", "released_at": None, "prior_version": "v2", "backend": ARCHIVE},
            ],
        },
        base_dir=tmp_path,
    )
    window = registry.window("v2", now=datetime(2024, 6, 1, tzinfo=UTC))
    rows = [
        conversation("before-release", "v1", "hi", "a", started_at="2023-12-31T23:59:59Z"),
        conversation("first-second", "v1", "hi", "a", started_at="2024-01-01T00:00:00Z"),
        conversation("inside", "v1", "hi", "a", started_at="2024-02-01T10:00:00Z"),
        conversation("last-second", "v1", "hi", "a", started_at="2024-02-29T23:59:59Z"),
        conversation("rollout-tail", "v1", "hi", "a", started_at="2024-03-01T00:00:00Z"),
        conversation("rollout-tail-2", "v1", "hi", "a", started_at="2024-04-15T00:00:00Z"),
        conversation("canary", "v2", "hi", "a", started_at="2024-02-15T00:00:00Z"),
        conversation("v2-live", "v2", "hi", "a", started_at="2024-03-02T00:00:00Z"),
    ]
    path = write_jsonl(tmp_path / "log.jsonl", rows)
    ingested = ingest_window(read_log(path), "v1", {"v1", "v2", "v3"}, redact=str, window=window)
    assert [c.conversation_id for c in ingested.accepted] == ["first-second", "inside", "last-second"]
    assert ingested.rows_outside_window == 3 and ingested.rows_other_windows == 2
    assert ingested.rows_read == (
        ingested.rows_in_window
        + ingested.rows_other_windows
        + ingested.rows_outside_window
        + len(ingested.unroutable)
    )
    # The pending v3's window is v2's own traffic from v2's release: the canary falls outside it.
    pending = registry.window("v3", now=datetime(2024, 6, 1, tzinfo=UTC))
    ingested = ingest_window(read_log(path), "v2", {"v1", "v2", "v3"}, redact=str, window=pending)
    assert [c.conversation_id for c in ingested.accepted] == ["v2-live"] and ingested.rows_outside_window == 1
    # A look-back of 60 days from June 1 starts on April 2: v2-live (March 2) is outside it too.
    recent = registry.window("v3", now=datetime(2024, 6, 1, tzinfo=UTC), window_days=60)
    assert recent.start == datetime(2024, 4, 2, tzinfo=UTC)
    ingested = ingest_window(read_log(path), "v2", {"v1", "v2", "v3"}, redact=str, window=recent)
    assert ingested.accepted == [] and ingested.rows_outside_window == 2


def test_every_file_in_a_folder_is_read_or_listed_as_skipped_with_its_reason(tmp_path):
    folder = tmp_path / "log"
    (folder / "sub").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / ".git" / "config.jsonl").write_text("not a log")
    write_jsonl(folder / "a.jsonl", [conversation("a", "v1", "hi", "ok")])
    write_jsonl(folder / "b.NDJSON", [conversation("b", "v1", "hi", "ok")])
    write_jsonl(folder / "c.JSONL", [conversation("c", "v1", "hi", "ok")])
    # A .json file is one array of objects when it starts with "[", JSON Lines otherwise.
    (folder / "d.json").write_text(
        json.dumps([conversation("d1", "v1", "hi", "ok"), conversation("d2", "v1", "hi", "ok")], indent=2)
    )
    write_jsonl(folder / "e.json", [conversation("e", "v1", "hi", "ok")])
    with gzip.open(folder / "sub" / "f.Json.GZ", "wt") as handle:
        handle.write(json.dumps(conversation("f", "v1", "hi", "ok")) + "\n")
    pq.write_table(pa.Table.from_pylist([conversation("g", "v1", "hi", "ok")]), folder / "g.PARQUET")
    write_jsonl(folder / "h.csv", ["conversation_id,messages"])
    (folder / "notes.txt").write_text("hello")
    (folder / "README").write_text("hello")
    write_jsonl(folder / ".hidden.jsonl", [conversation("hidden", "v1", "hi", "ok")])
    (folder / "archive.tar.gz").write_bytes(b"")

    scan = scan_log(folder)
    assert [scan.source(p) for p in scan.read] == [
        "a.jsonl",
        "b.NDJSON",
        "c.JSONL",
        "d.json",
        "e.json",
        "g.PARQUET",
        "sub/f.Json.GZ",
    ]
    assert {s.path: s.reason for s in scan.skipped} == {
        ".git/": "hidden folder",
        ".hidden.jsonl": "hidden file",
        "README": "not a log format: no file extension",
        "archive.tar.gz": "not a log format: .tar.gz",
        "h.csv": "not a log format: .csv",
        "notes.txt": "not a log format: .txt",
    }
    window = _ingest(folder)
    assert sorted(c.conversation_id for c in window.accepted) == ["a", "b", "c", "d1", "d2", "e", "f", "g"]
    assert window.rows_read == 8


def test_a_single_file_of_an_unknown_format_is_skipped_not_misread(tmp_path):
    path = write_jsonl(tmp_path / "log.csv", ["conversation_id,messages"])
    scan = scan_log(path)
    assert scan.read == [] and [(s.path, s.reason) for s in scan.skipped] == [
        ("log.csv", "not a log format: .csv")
    ]
    assert scan_log(path, csv=True).read == [path]


def test_a_json_array_quarantines_its_bad_elements_by_position(tmp_path):
    path = tmp_path / "log.json"
    path.write_text(
        json.dumps([conversation("ok", "v1", "hi", "ok"), [1, 2], conversation("bad", "v1", "", "ok")])
    )
    window = _ingest(path)
    assert [c.conversation_id for c in window.accepted] == ["ok"]
    assert [(q.line_no, q.reason) for q in window.unroutable] == [(2, "a log row must be a JSON object")]
    assert [q.line_no for q in window.quarantined] == [3]
    broken = tmp_path / "broken.json"
    broken.write_text('[{"conversation_id": "x"},\n{oops}]')
    (record,) = list(read_log(broken))
    assert record.parse_error.startswith("invalid JSON") and record.parse_error.endswith("(the whole file)")


def test_deep_nesting_and_huge_numbers_are_row_errors_not_crashes(tmp_path):
    rows = [
        '{"model_version": "v1", "x": ' + "[" * 200_000 + "]" * 200_000 + "}",
        '{"model_version": "v1", "n": ' + "9" * 5_000 + "}",
        json.dumps(conversation("ok", "v1", "hi", "ok")),
    ]
    records = list(read_log(write_jsonl(tmp_path / "log.jsonl", rows)))
    assert records[0].parse_error == "nested too deeply (more than 64 levels)"
    assert records[1].parse_error.startswith("invalid JSON")
    assert records[2].parse_error is None
    # Parquet and CSV keep nested columns as JSON text: the same holds there.
    pq.write_table(
        pa.Table.from_pylist(
            [{**conversation("deep", "v1", "hi", "ok"), "messages": "[" * 5_000 + "]" * 5_000}]
        ),
        tmp_path / "log.parquet",
    )
    (deep,) = _ingest(tmp_path / "log.parquet").quarantined
    assert deep.reason == "messages: nested too deeply (more than 64 levels)"
