"""One bad row never stops a window: each is quarantined with its reason, the counts add up, and what is
written reads back through the sampling code in any session time zone."""

import gzip
import json

import duckdb
import pytest

from deploysim.core.conversation import ContractLimits
from deploysim.ingestion.production_log import MAX_NESTING, read_log
from deploysim.ingestion.window import deidentify_window, ingest_window
from deploysim.simulation.sampling import cut_before_final_assistant_turn, load_conversations
from deploysim.store.tables import ensure_schema
from tests.support.builders import conversation, write_jsonl

KNOWN = {"v1", "v2"}


def _line(row: dict) -> str:
    return json.dumps(row)


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def _bad_rows() -> dict[str, tuple[str, str]]:
    """Each bad row of the issue, as a log line, and a fragment of the reason it must be quarantined with."""
    three_long_turns = conversation("too-large", "v1", "q" * 90_000, "a" * 90_000)
    three_long_turns["messages"] += [
        {"role": "user", "content": "u" * 90_000},
        {"role": "assistant", "content": "r"},
    ]
    return {
        # json.dumps escapes the surrogate as "\ud800", as the tester's log line had it.
        "surrogate": (_line(conversation("surrogate", "v1", "bad \ud800", "ok")), "lone surrogate U+D800"),
        "surrogate-id": (
            _line(conversation("id-\udfff", "v1", "hi", "ok")),
            "conversation_id: Input should be a valid string",
        ),
        "year-1": (
            _line(conversation("year-1", "v1", "hi", "ok", started_at="0001-01-01T00:00:00Z")),
            "year 1 ",
        ),
        "year-1-offset": (
            _line(conversation("year-1-offset", "v1", "hi", "ok", started_at="0001-01-01T00:00:00+05:00")),
            "year 1 ",
        ),
        "year-9999": (
            _line(conversation("year-9999", "v1", "hi", "ok", started_at="9999-12-31T23:59:59Z")),
            "year 9999 is outside the accepted 2000..2100",
        ),
        "too-large": (
            _line(three_long_turns),
            "too large for de-identification (270,001 characters > 200,000)",
        ),
        "nested-tools": (
            _line(conversation("nested-tools", "v1", "hi", "ok", tools=[{"x": _nested(MAX_NESTING)}])),
            "nested too deeply",
        ),
        "nan-tools": (
            _line(conversation("nan-tools", "v1", "hi", "ok", tools=[{"x": float("nan")}])),
            "tools: not valid JSON",
        ),
        "long-integer": ('{"model_version": "v1", "n": ' + "1" * 5000 + "}", "invalid JSON"),
        "deep-brackets": (
            '{"model_version": "v1", "x": ' + "[" * 200_000 + "]" * 200_000 + "}",
            "nested too deeply",
        ),
    }


@pytest.fixture
def log(tmp_path):
    good = [conversation(f"ok-{i}", "v1", f"question {i} \x00 with a NUL", f"answer {i}") for i in range(3)]
    lines = [_line(good[0]), *(line for line, _ in _bad_rows().values()), _line(good[1]), _line(good[2])]
    return write_jsonl(tmp_path / "log.jsonl", lines)


def test_each_bad_row_is_quarantined_with_its_reason_and_the_counts_add_up(log):
    window = ingest_window(read_log(log), "v1", KNOWN, redact=str)
    assert sorted(c.conversation_id for c in window.accepted) == ["ok-0", "ok-1", "ok-2"]
    reasons = [q.reason for q in window.quarantined + window.unroutable]
    for name, (_, fragment) in _bad_rows().items():
        assert any(fragment in reason for reason in reasons), (name, reasons)
    # A 5,000-digit number and 200,000 brackets cannot be parsed, so those rows name no version:
    # unroutable, and still recorded.
    assert [q.line_no for q in window.unroutable] == [10, 11]
    assert (
        window.rows_in_window == len(window.accepted) + len(window.quarantined) + window.excluded_no_consent
    )
    assert window.rows_read == window.rows_in_window + window.rows_other_windows + len(window.unroutable)
    assert window.rows_read == 3 + len(_bad_rows())


@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Tokyo", "America/New_York"])
def test_what_ingestion_writes_reads_back_through_sampling(log, time_zone):
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{time_zone}'")
    ensure_schema(con)
    summary = deidentify_window(con, "v2", "v1", read_log(log), KNOWN, redact=str)
    assert summary.accepted == 3
    assert summary.quarantined + summary.rows_unroutable == len(_bad_rows())
    assert summary.rows_read == summary.rows_in_window + summary.rows_other_windows + summary.rows_unroutable
    assert summary.quarantine_reasons["started_at"] == 3
    stored = con.execute("SELECT conversation_id, reason, excerpt FROM quarantine").fetchall()
    assert len(stored) == len(_bad_rows())
    assert all(reason and excerpt is not None for _, reason, excerpt in stored)
    loaded = load_conversations(con, "v2")
    assert [c.conversation_id for c in loaded] == ["ok-0", "ok-1", "ok-2"]
    prefixes = [cut_before_final_assistant_turn(c) for c in loaded]
    assert [p.messages[0]["content"] for p in prefixes] == [f"question {i} \x00 with a NUL" for i in range(3)]


def test_limits_are_configurable(tmp_path):
    rows = [
        conversation("old", "v1", "hi", "ok", started_at="1995-06-01T00:00:00Z"),
        conversation("long", "v1", "x" * 600, "ok"),
    ]
    path = write_jsonl(tmp_path / "log.jsonl", rows)
    default = ingest_window(read_log(path), "v1", KNOWN, redact=str)
    assert [c.conversation_id for c in default.accepted] == ["long"]
    limits = ContractLimits(min_year=1990, max_conversation_chars=500)
    custom = ingest_window(read_log(path), "v1", KNOWN, redact=str, limits=limits)
    assert [c.conversation_id for c in custom.accepted] == ["old"]
    assert custom.quarantined[0].reason == "too large for de-identification (602 characters > 500)"


def test_a_row_that_grows_past_a_limit_under_the_strict_tier_is_still_written(tmp_path):
    # Placeholders are longer than the emails they replace: the stored text may exceed the ingest limit,
    # and the stages after it must still read it back.
    emails = " ".join(f"{i}@b.co" for i in range(9_500))
    assert len(emails) < 100_000
    path = write_jsonl(tmp_path / "log.jsonl", [conversation("emails", "v1", emails, "ok")])
    con = duckdb.connect()
    ensure_schema(con)
    summary = deidentify_window(con, "v2", "v1", read_log(path), KNOWN, redact=str)
    assert summary.accepted == 1
    (loaded,) = load_conversations(con, "v2")
    assert len(loaded.messages[0].content) > 100_000 and "@" not in loaded.messages[0].content


def test_a_quarantined_row_with_a_lone_surrogate_everywhere_is_still_recorded(tmp_path):
    row = '{"conversation_id": "id-\\ud800", "model_version": "v1", "messages": "\\udfff"}'
    path = write_jsonl(tmp_path / "log-\udcff.jsonl", [row, '{"model_version": "v\\ud800"}'])
    con = duckdb.connect()
    ensure_schema(con)
    summary = deidentify_window(con, "v2", "v1", read_log(path), KNOWN, redact=str)
    assert summary.quarantined == 1 and summary.rows_unroutable == 1
    (stored,) = con.execute(
        "SELECT source, conversation_id FROM quarantine WHERE partition_key = 'v2'"
    ).fetchall()
    assert stored == ("log-\\xff.jsonl", "id-\\ud800")


def _corrupt_gzip(path, rows, flip_at: int) -> None:
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        handle.write("".join(json.dumps(r) + "\n" for r in rows).encode())
    data = bytearray(path.read_bytes())
    data[flip_at if flip_at >= 0 else len(data) + flip_at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_corrupt_gzip_becomes_one_unreadable_file_row(tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    rows = [conversation(f"c{i}", "v1", f"question {i} " * 20, f"answer {i}") for i in range(400)]
    _corrupt_gzip(folder / "a.jsonl.gz", rows, flip_at=100)  # a broken deflate stream: zlib.error
    _corrupt_gzip(folder / "b.jsonl.gz", rows, flip_at=-6)  # a wrong checksum: BadGzipFile
    write_jsonl(folder / "c.jsonl", [conversation("after", "v1", "hi", "ok")])
    window = ingest_window(read_log(folder), "v1", KNOWN, redact=str)
    unreadable = {q.source: q.reason for q in window.unroutable}
    assert unreadable["a.jsonl.gz"].startswith("unreadable file after 0 rows: error: Error -3")
    assert unreadable["b.jsonl.gz"].startswith("unreadable file after 400 rows: BadGzipFile: CRC check")
    assert window.accepted[-1].conversation_id == "after"
    assert window.rows_read == len(window.accepted) + len(window.quarantined) + len(window.unroutable)


def test_a_row_that_fails_on_its_way_to_the_table_is_quarantined_alone(tmp_path, monkeypatch):
    from deploysim.ingestion import window as window_module

    strict = window_module.strict_deidentify_messages

    def failing_on_boom(messages):
        if "boom" in messages[0]["content"]:
            raise RuntimeError("the strict tier failed")
        return strict(messages)

    monkeypatch.setattr(window_module, "strict_deidentify_messages", failing_on_boom)
    rows = [conversation("ok", "v1", "hi", "ok"), conversation("boom", "v1", "boom mail a@b.co", "ok")]
    con = duckdb.connect()
    ensure_schema(con)
    summary = deidentify_window(
        con,
        "v2",
        "v1",
        read_log(write_jsonl(tmp_path / "log.jsonl", rows)),
        KNOWN,
        redact=lambda t: t.replace("@", "(at)"),
    )
    assert (summary.accepted, summary.quarantined, summary.rows_in_window) == (1, 1, 2)
    assert summary.quarantine_reasons == {"cannot be stored": 1}
    (stored,) = con.execute(
        "SELECT source, line_no, conversation_id, reason, excerpt FROM quarantine"
    ).fetchall()
    assert stored[:4] == ("log.jsonl", 2, "boom", "cannot be stored: RuntimeError: the strict tier failed")
    assert "a(at)b.co" in stored[4]
    assert [c.conversation_id for c in load_conversations(con, "v2")] == ["ok"]


def test_a_conversation_the_rescan_still_flags_is_quarantined_and_the_rest_is_written(tmp_path):
    rows = [conversation(f"c{i}", "v1", f"question {i}", "answer") for i in range(3)]
    path = write_jsonl(tmp_path / "log.jsonl", rows)
    con = duckdb.connect()
    ensure_schema(con)
    scanned: list[str] = []

    def rescan(stored):
        scanned.extend(row["conversation_id"] for row in stored)
        return [r for r in stored if r["conversation_id"] != "c1"], [("c1", ["EMAIL_ADDRESS", "IP_ADDRESS"])]

    summary = deidentify_window(con, "v2", "v1", read_log(path), KNOWN, redact=str, rescan=rescan)
    assert scanned == ["c0", "c1", "c2"], "the rescan sees what would be stored, before it is"
    assert summary.accepted == 2 and summary.quarantined == 1
    assert summary.rows_in_window == summary.accepted + summary.quarantined + summary.excluded_no_consent
    written = [
        cid for (cid,) in con.execute("SELECT conversation_id FROM conversations ORDER BY 1").fetchall()
    ]
    assert written == ["c0", "c2"]
    [(cid, line_no, reason, excerpt)] = con.execute(
        "SELECT conversation_id, line_no, reason, excerpt FROM quarantine"
    ).fetchall()
    assert (cid, line_no) == ("c1", 2)
    assert reason == "strict PII remains after de-identification: EMAIL_ADDRESS, IP_ADDRESS"
    assert "question" not in excerpt, "the excerpt of a row with residual PII holds no text"
