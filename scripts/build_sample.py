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
#: (alpaca_eval results folder, registry version, release date), oldest first.
CHAIN = [
    ("gpt4_0314", "gpt-4-0314", datetime(2023, 3, 14, tzinfo=UTC)),
    ("gpt4_0613", "gpt-4-0613", datetime(2023, 6, 13, tzinfo=UTC)),
    ("gpt4_1106_preview", "gpt-4-1106-preview", datetime(2023, 11, 6, tzinfo=UTC)),
    ("gpt-4-0125-preview", "gpt-4-0125-preview", datetime(2024, 1, 25, tzinfo=UTC)),
    ("gpt-4-turbo-2024-04-09", "gpt-4-turbo-2024-04-09", datetime(2024, 4, 9, tzinfo=UTC)),
]
LOG_END = datetime(2024, 7, 1, tzinfo=UTC)
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


def _windows() -> list[tuple[str, datetime, datetime]]:
    ends = [released for _, _, released in CHAIN[1:]] + [LOG_END]
    return [(version, start, end) for (_, version, start), end in zip(CHAIN, ends, strict=True)]


def _timestamp(rng: random.Random, start: datetime, end: datetime) -> str:
    seconds = rng.uniform(0, (end - start).total_seconds())
    return (start + timedelta(seconds=int(seconds))).isoformat()


def build(shared: Path, out: Path) -> dict[str, int]:
    rng = random.Random(SEED)
    outputs = {
        version: json.loads((shared / "alpaca_eval/results" / folder / "model_outputs.json").read_text())
        for folder, version, _ in CHAIN
    }
    instructions = [row["instruction"] for row in outputs[CHAIN[0][1]]]
    for version, rows in outputs.items():
        if [row["instruction"] for row in rows] != instructions:
            raise ValueError(f"{version}: AlpacaEval instructions are not in the same order")

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

    log: list[dict[str, Any]] = []
    for w, (version, start, end) in enumerate(_windows()):
        window_rows = []
        for index in slices[w]:
            window_rows.append(
                (
                    "api",
                    f"alpaca-{index:03d}",
                    [
                        {"role": "user", "content": instructions[index]},
                        {"role": "assistant", "content": outputs[version][index]["output"]},
                    ],
                )
            )
        for index in hh_order[w * HH_PER_WINDOW : (w + 1) * HH_PER_WINDOW]:
            window_rows.append(("chat", f"hh-harmless-test-{index:04d}", hh[index]))
        for index in oasst_order[w * OASST_PER_WINDOW : (w + 1) * OASST_PER_WINDOW]:
            tree_id, messages = oasst[index]
            window_rows.append(("chat", f"oasst-{tree_id}", messages))
        for surface, conversation_id, messages in window_rows:
            log.append(
                {
                    "conversation_id": conversation_id,
                    "model_version": version,
                    "started_at": _timestamp(rng, start, end),
                    "surface": surface,
                    "locale": "en",
                    "consent_model_improvement": rng.random() >= NO_CONSENT_SHARE,
                    "messages": messages,
                }
            )
    log.sort(key=lambda row: (row["started_at"], row["conversation_id"]))
    write_jsonl_gz(out / "production_log.jsonl.gz", log)

    # Archives: each version's recorded answer to every AlpacaEval instruction, keyed like the pipeline
    # keys a replayed prefix: the hash of the de-identified prefix.
    deidentifier = Deidentifier()
    for _, version, _ in CHAIN:
        recorded = (
            {
                "messages": [{"role": "user", "content": text}],
                "response": {"content": row["output"], "finish_reason": "stop"},
            }
            for text, row in zip(instructions, outputs[version], strict=True)
        )
        write_jsonl_gz(
            out / "archive" / f"{version}.jsonl.gz",
            archive_records(recorded, deidentifier.deidentify_prefixes),
        )

    licences = out / "licenses"
    licences.mkdir(parents=True, exist_ok=True)
    for folder in ("alpaca_eval", "hh_rlhf_harmless_test", "oasst_en_100_trees"):
        shutil.copyfile(shared / folder / "LICENSE", licences / f"{folder}.LICENSE")
        shutil.copyfile(shared / folder / "SOURCE.txt", licences / f"{folder}.SOURCE.txt")
    return {"conversations": len(log), "archive_records": len(instructions) * len(CHAIN)}


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
