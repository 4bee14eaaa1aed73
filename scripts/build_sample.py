"""Build the bundled sample production log and archives from public data sets, reproducibly.

    python scripts/build_sample.py --shared ../shared/data --out data/sample

The same inputs always give byte-identical outputs (fixed seed, sorted keys, gzip mtime 0).
What is real and what is constructed is spelled out in data/sample/NOTICE.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deploysim.inference.archive import archive_records, write_jsonl_gz
from deploysim.privacy.deidentifier import Deidentifier

SEED = 20240409
#: The gpt-4 chain, with multi-turn chat traffic: (AlpacaEval results folder, registry version, release
#: date), oldest first. Its last window ends on LOG_END.
CHAIN = [
    ("gpt4_0314", "gpt-4-0314", datetime(2023, 3, 14, tzinfo=UTC)),
    ("gpt4_0613", "gpt-4-0613", datetime(2023, 6, 13, tzinfo=UTC)),
    ("gpt4_1106_preview", "gpt-4-1106-preview", datetime(2023, 11, 6, tzinfo=UTC)),
    ("gpt-4-0125-preview", "gpt-4-0125-preview", datetime(2024, 1, 25, tzinfo=UTC)),
    ("gpt-4-turbo-2024-04-09", "gpt-4-turbo-2024-04-09", datetime(2024, 4, 9, tzinfo=UTC)),
]
LOG_END = datetime(2024, 7, 1, tzinfo=UTC)
#: Four more release chains, single-turn API traffic only, each with its own shuffle of the 805 prompts and
#: its own public release dates; a chain's last window ends when its next version (not bundled) shipped.
MORE_CHAINS: dict[str, tuple[list[tuple[str, str, datetime]], datetime]] = {
    "gpt-3.5-turbo": (
        [
            ("gpt-3.5-turbo-0301", "gpt-3.5-turbo-0301", datetime(2023, 3, 1, tzinfo=UTC)),
            ("gpt-3.5-turbo-0613", "gpt-3.5-turbo-0613", datetime(2023, 6, 13, tzinfo=UTC)),
            ("gpt-3.5-turbo-1106", "gpt-3.5-turbo-1106", datetime(2023, 11, 6, tzinfo=UTC)),
        ],
        datetime(2024, 1, 25, tzinfo=UTC),
    ),
    "claude": (
        [
            ("claude", "claude-1", datetime(2023, 3, 14, tzinfo=UTC)),
            ("claude-2", "claude-2", datetime(2023, 7, 11, tzinfo=UTC)),
            ("claude-2.1", "claude-2.1", datetime(2023, 11, 21, tzinfo=UTC)),
        ],
        datetime(2024, 3, 4, tzinfo=UTC),
    ),
    "llama": (
        [
            ("llama-2-70b-chat-hf", "llama-2-70b-chat", datetime(2023, 7, 18, tzinfo=UTC)),
            ("Meta-Llama-3-70B-Instruct", "llama-3-70b-instruct", datetime(2024, 4, 18, tzinfo=UTC)),
            (
                "Meta-Llama-3.1-70B-Instruct-Turbo",
                "llama-3.1-70b-instruct",
                datetime(2024, 7, 23, tzinfo=UTC),
            ),
        ],
        datetime(2024, 9, 25, tzinfo=UTC),
    ),
    "mistral-7b": (
        [
            ("Mistral-7B-Instruct-v0.2", "mistral-7b-instruct-v0.2", datetime(2023, 12, 11, tzinfo=UTC)),
            ("Mistral-7B-Instruct-v0.3", "mistral-7b-instruct-v0.3", datetime(2024, 5, 22, tzinfo=UTC)),
        ],
        datetime(2024, 7, 18, tzinfo=UTC),
    ),
}
HH_PER_WINDOW = 60
OASST_PER_WINDOW = 16
NO_CONSENT_SHARE = 0.03
_HH_TURN = re.compile(r"\n\n(Human|Assistant): ")


def parse_hh_transcript(text: str) -> list[dict[str, str]] | None:
    """'\\n\\nHuman: ...\\n\\nAssistant: ...' into chat messages; None if it does not alternate cleanly."""
    parts = _HH_TURN.split(text)
    if parts[0].strip():
        return None
    messages = []
    for speaker, content in zip(parts[1::2], parts[2::2], strict=True):
        role = "user" if speaker == "Human" else "assistant"
        if messages and messages[-1]["role"] == role:
            return None
        messages.append({"role": role, "content": content.strip()})
    if len(messages) < 4 or messages[-1]["role"] != "assistant" or any(not m["content"] for m in messages):
        return None
    return messages


def oasst_threads(tree: dict[str, Any]) -> list[dict[str, str]] | None:
    """Follow the best-ranked reply at each step: the conversation the community preferred."""
    messages = []
    node: dict[str, Any] | None = tree["prompt"]
    while node is not None:
        role = "user" if node["role"] == "prompter" else "assistant"
        messages.append({"role": role, "content": node["text"].strip()})
        replies = [r for r in node.get("replies", []) if not r.get("deleted")]
        node = min(replies, key=lambda r: (r.get("rank") is None, r.get("rank") or 0)) if replies else None
    while messages and messages[-1]["role"] != "assistant":
        messages.pop()
    return messages if len(messages) >= 4 else None


def _windows(chain: list[tuple[str, str, datetime]], end: datetime) -> list[tuple[str, datetime, datetime]]:
    """Each version serves from its release to its successor's; the last one until `end`."""
    ends = [released for _, _, released in chain[1:]] + [end]
    return [(version, start, stop) for (_, version, start), stop in zip(chain, ends, strict=True)]


def _timestamp(rng: random.Random, start: datetime, end: datetime) -> str:
    seconds = rng.uniform(0, (end - start).total_seconds())
    return (start + timedelta(seconds=int(seconds))).isoformat()


def _log_row(
    rng: random.Random, version: str, start: datetime, end: datetime, row: tuple[str, str, list]
) -> dict[str, Any]:
    surface, conversation_id, messages = row
    return {
        "conversation_id": conversation_id,
        "model_version": version,
        "started_at": _timestamp(rng, start, end),
        "surface": surface,
        "locale": "en",
        "consent_model_improvement": rng.random() >= NO_CONSENT_SHARE,
        "messages": messages,
    }


def _single_turn(instruction: str, output: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": instruction}, {"role": "assistant", "content": output}]


def _load_outputs(shared: Path, folder: str) -> dict[str, str]:
    """A version's recorded answer per AlpacaEval instruction (one set lacks one instruction)."""
    rows = json.loads((shared / "alpaca_eval/results" / folder / "model_outputs.json").read_text())
    return {row["instruction"]: row["output"] for row in rows}


def _gpt4_log(shared: Path, instructions: list[str], outputs: dict[str, dict[str, str]]) -> list[dict]:
    """The gpt-4 chain: disjoint single-turn slices plus multi-turn chat traffic in every window."""
    rng = random.Random(SEED)
    order = list(range(len(instructions)))
    rng.shuffle(order)
    slices = [sorted(order[i :: len(CHAIN)]) for i in range(len(CHAIN))]

    with gzip.open(shared / "hh_rlhf_harmless_test/harmless-base_test.jsonl.gz", "rt") as handle:
        hh = [m for m in (parse_hh_transcript(json.loads(line)["chosen"]) for line in handle) if m]
    trees = [json.loads(line) for line in (shared / "oasst_en_100_trees/en_100_tree.jsonl").open()]
    oasst = [(t["message_tree_id"], m) for t in trees if (m := oasst_threads(t))]
    hh_order = list(range(len(hh)))
    rng.shuffle(hh_order)
    oasst_order = list(range(len(oasst)))
    rng.shuffle(oasst_order)

    log = []
    for w, (version, start, end) in enumerate(_windows(CHAIN, LOG_END)):
        rows = [
            ("api", f"alpaca-{i:03d}", _single_turn(instructions[i], outputs[version][instructions[i]]))
            for i in slices[w]
        ]
        rows += [
            ("chat", f"hh-harmless-test-{i:04d}", hh[i])
            for i in hh_order[w * HH_PER_WINDOW : (w + 1) * HH_PER_WINDOW]
        ]
        for i in oasst_order[w * OASST_PER_WINDOW : (w + 1) * OASST_PER_WINDOW]:
            tree_id, messages = oasst[i]
            rows.append(("chat", f"oasst-{tree_id}", messages))
        log += [_log_row(rng, version, start, end, row) for row in rows]
    return log


def _chain_log(
    name: str,
    chain: list[tuple[str, str, datetime]],
    end: datetime,
    instructions: list[str],
    outputs: dict[str, dict[str, str]],
) -> tuple[list[dict], dict[str, set[str]]]:
    """A single-turn chain: its own shuffle of the prompts, one disjoint slice per version's window (a
    version without a recorded answer to a prompt of its slice does not serve it). Also returns the prompts
    each version's archive keeps: its prior's slice, which it is replayed on, and its own."""
    rng = random.Random(f"{SEED}:{name}")
    order = list(range(len(instructions)))
    rng.shuffle(order)
    log, kept, previous = [], {}, set()
    for w, (version, start, stop) in enumerate(_windows(chain, end)):
        own = {instructions[i] for i in order[w :: len(chain)]}
        kept[version] = own | previous
        previous = own
        for i in sorted(order[w :: len(chain)]):
            answer = outputs[version].get(instructions[i])
            if answer is not None:
                row = ("api", f"alpaca-{name}-{i:03d}", _single_turn(instructions[i], answer))
                log.append(_log_row(rng, version, start, stop, row))
    return log, kept


def build(shared: Path, out: Path) -> dict[str, int]:
    chains = [(folder, version) for folder, version, _ in CHAIN] + [
        (folder, version) for chain, _ in MORE_CHAINS.values() for folder, version, _ in chain
    ]
    outputs = {version: _load_outputs(shared, folder) for folder, version in chains}
    reference = json.loads((shared / "alpaca_eval/results/gpt4_0314/model_outputs.json").read_text())
    instructions = [row["instruction"] for row in reference]
    for version, answers in outputs.items():
        if not set(answers) <= set(instructions):
            raise ValueError(f"{version}: AlpacaEval instructions differ from gpt4_0314's")

    log = _gpt4_log(shared, instructions, outputs)
    # The gpt-4 archives keep every recorded answer; the other chains' keep what can be replayed.
    kept = {version: set(instructions) for _, version, _ in CHAIN}
    for name, (chain, end) in MORE_CHAINS.items():
        chain_log, chain_kept = _chain_log(name, chain, end, instructions, outputs)
        log += chain_log
        kept.update(chain_kept)
    log.sort(key=lambda row: (row["started_at"], row["conversation_id"]))
    write_jsonl_gz(out / "production_log.jsonl.gz", log)

    # Archives: each version's recorded answers to the prompts it keeps, keyed like the pipeline
    # keys a replayed prefix: the hash of the de-identified prefix. Every version answers the same
    # prompts, so they are de-identified once.
    prefixes = [[{"role": "user", "content": text}] for text in instructions]
    cleaned = dict(zip(instructions, Deidentifier().deidentify_prefixes(prefixes), strict=True))
    records = 0
    for _, version in chains:
        recorded = [
            {
                "messages": [{"role": "user", "content": text}],
                "response": {"content": answer, "finish_reason": "stop"},
            }
            for text in instructions
            if text in kept[version] and (answer := outputs[version].get(text)) is not None
        ]
        keys = [cleaned[row["messages"][0]["content"]] for row in recorded]
        write_jsonl_gz(
            out / "archive" / f"{version}.jsonl.gz", archive_records(recorded, lambda _, keys=keys: keys)
        )
        records += len(recorded)

    licences = out / "licenses"
    licences.mkdir(parents=True, exist_ok=True)
    for folder in ("alpaca_eval", "hh_rlhf_harmless_test", "oasst_en_100_trees"):
        shutil.copyfile(shared / folder / "LICENSE", licences / f"{folder}.LICENSE")
        shutil.copyfile(shared / folder / "SOURCE.txt", licences / f"{folder}.SOURCE.txt")
    return {"conversations": len(log), "archive_records": records}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/sample"))
    args = parser.parse_args()
    counts = build(args.shared, args.out)
    print(
        f"wrote {counts['conversations']} conversations and {counts['archive_records']} archive records "
        f"to {args.out}"
    )


if __name__ == "__main__":
    main()
