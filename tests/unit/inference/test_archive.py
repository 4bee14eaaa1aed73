"""Building an archive: recorded lines are read from several files, a bad line is left out with its file,
1-based line number and reason, and the keys are the hashes sampling computes for the same prefix."""

import asyncio
import gzip
import json

from deploysim.core.conversation import Conversation
from deploysim.inference.archive import ArchiveClient, archive_records, read_recorded, write_jsonl_gz
from deploysim.inference.types import ChatRequest
from deploysim.simulation.sampling import cut_before_final_assistant_turn
from tests.support.builders import conversation, write_jsonl

PREFIX = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def _recorded(content: str, **extra) -> dict:
    return {"messages": PREFIX, "response": {"content": content}, **extra}


def test_bad_lines_are_left_out_with_their_file_line_and_reason(tmp_path):
    first = write_jsonl(
        tmp_path / "a.jsonl",
        [
            _recorded("one"),
            "",
            "{broken",
            {"messages": [], "response": {"content": "x"}},
            {"messages": PREFIX, "response": "not an object"},
            {"messages": [{"role": "robot", "content": "x"}], "response": {"content": "x"}},
            '{"messages": ' + "[" * 100_000 + "]" * 100_000 + "}",
            {"messages": [{"role": "user", "content": "x" * 200_001}], "response": {"content": "x"}},
            '{"messages": [{"role": "user", "content": "bad \\ud800"}], "response": {"content": "x"}}',
            {"messages": PREFIX, "response": {"content": None}},
        ],
    )
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as handle:
        handle.write(json.dumps(_recorded("two", tools=[{"type": "function"}])) + "\n[1]\n")
    read = read_recorded([first, tmp_path / "b.jsonl.gz"])
    assert [row["response"]["content"] for row in read.rows] == ["one", "two"]
    assert [(p.source.rsplit("/", 1)[-1], p.line_no, p.reason) for p in read.problems] == [
        ("a.jsonl", 3, "invalid JSON: Expecting property name enclosed in double quotes (column 2)"),
        ("a.jsonl", 4, "messages: must be a non-empty list of chat messages (the prefix)"),
        ("a.jsonl", 5, 'response: must be an object such as {"content": "..."}'),
        ("a.jsonl", 6, "messages.role: Input should be 'system', 'user', 'assistant' or 'tool'"),
        ("a.jsonl", 7, "nested too deeply"),
        ("a.jsonl", 8, "too large for de-identification (200,001 characters > 200,000)"),
        ("a.jsonl", 9, "messages.0: not valid Unicode (lone surrogate U+D800)"),
        ("a.jsonl", 10, "response: Value error, assistant message has neither content nor tool_calls"),
        ("b.jsonl.gz", 2, "a recorded row must be a JSON object"),
    ]
    assert read.lines_read == 12


def test_a_corrupt_file_is_one_problem_and_the_next_file_is_still_read(tmp_path):
    with gzip.GzipFile(tmp_path / "a.jsonl.gz", "wb", mtime=0) as handle:
        handle.write(b"".join((json.dumps(_recorded(f"r{i}")) + "\n").encode() for i in range(300)))
    data = bytearray((tmp_path / "a.jsonl.gz").read_bytes())
    data[30] ^= 0xFF
    (tmp_path / "a.jsonl.gz").write_bytes(bytes(data))
    second = write_jsonl(tmp_path / "b.jsonl", [_recorded("kept")])
    read = read_recorded([tmp_path / "a.jsonl.gz", second])
    assert [row["response"]["content"] for row in read.rows] == ["kept"]
    (problem,) = read.problems
    assert problem.line_no == 1 and problem.reason.startswith("unreadable file after line 0: error: Error -3")


def test_archive_keys_are_the_hashes_sampling_replays(tmp_path):
    # Extra OpenAI fields ("refusal": null) must not change the key: sampling hashes the contract's form.
    prefix = [{"role": "user", "content": "Hi", "name": None, "refusal": None}]
    recorded = write_jsonl(tmp_path / "r.jsonl", [{"messages": prefix, "response": {"content": "Hello"}}])
    read = read_recorded([recorded])
    path = tmp_path / "archive.jsonl.gz"
    write_jsonl_gz(path, archive_records(read.rows, lambda prefixes: prefixes))
    served = Conversation.model_validate(conversation("c1", "v1", "Hi", "whatever production said"))
    prefix = cut_before_final_assistant_turn(served)
    request = ChatRequest(messages=prefix.messages, tools=prefix.tools)
    assert asyncio.run(ArchiveClient(path).generate(request)).content == "Hello"
