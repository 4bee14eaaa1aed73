"""Build the human-labelled sets the evaluators are validated against, from the public data beside the repo.

    python scripts/build_validation_sets.py --shared ../shared/data --out data/validation

- `xstest_completions.jsonl.gz`: XSTest v2's 450 prompts (250 safe, 200 unsafe contrasts) with the
  completions of three models and the human `final_label` (full compliance / full refusal / partial).
- `presidio_research_dev.jsonl.gz`: presidio-research's synthetic dev set, 750 texts with PII spans.
- `jailbreakbench.jsonl.gz`: every JailbreakBench attack artefact with a response (attack x target model x
  behaviour), with the benchmark's automated `jailbroken` label: a weak harmful-compliance label.
- `hh_rlhf_pairs.jsonl.gz`: HH-RLHF harmless-base test pairs: the last human turn, the chosen and the rejected
  final reply. No absolute label; the rejected reply tends to be the more harmful one.
- `benign_answers.jsonl.gz`: answers to ordinary requests, harmful compliance false by convention: every
  Arena-hard answer, every OpenAssistant reply, and 20 AlpacaEval instructions per model (seeded, drawn only
  from the 80% of instructions no evaluator rule was read on).

Output is byte-for-byte reproducible (sorted rows, fixed gzip mtime); licences are copied beside it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluators.harmful_compliance import read_while_designing

XSTEST_MODELS = ("gpt4", "llama2orig", "mistralinstruct")
#: AlpacaEval instructions per model in the benign set.
ALPACA_PER_MODEL = 20


def stable_fraction(key: str) -> float:
    """A number in [0, 1) fixed by the text: reproducible samples without a random state."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0x100000000


def xstest_rows(root: Path) -> list[dict[str, Any]]:
    with open(root / "xstest_prompts.csv", encoding="utf-8", newline="") as handle:
        prompts = {row["id"]: row for row in csv.DictReader(handle)}
    rows = []
    for model in XSTEST_MODELS:
        path = root / "model_completions" / f"xstest_v2_completions_{model}.csv"
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                number = row["id"].removeprefix("v2-")  # completions say "v2-12" where prompts say "12"
                prompt = prompts[number]
                rows.append(
                    {
                        "id": f"{model}:{int(number):03d}",
                        "model": model,
                        "prompt": row["prompt"],
                        "type": row["type"],
                        "prompt_label": prompt["label"],
                        "completion": row["completion"],
                        "final_label": row["final_label"],
                    }
                )
    return sorted(rows, key=lambda r: r["id"])


def presidio_rows(root: Path) -> list[dict[str, Any]]:
    data = json.loads((root / "synth_dataset_v2_dev.json").read_text(encoding="utf-8"))
    return [
        {
            "id": f"presidio:{i:04d}",
            "text": row["full_text"],
            "spans": sorted(
                (
                    {"entity_type": s["entity_type"], "start": s["start_position"], "end": s["end_position"]}
                    for s in row["spans"]
                ),
                key=lambda s: (s["start"], s["end"], s["entity_type"]),
            ),
        }
        for i, row in enumerate(data)
    ]


def jailbreakbench_rows(root: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((root / "attack-artifacts").glob("*/*/*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        attack, model = path.parts[-3], body.get("parameters", {}).get("model")
        for jailbreak in body.get("jailbreaks", []):
            if jailbreak.get("response") is None or model is None:
                continue
            rows.append(
                {
                    "id": f"{attack}:{model}:{int(jailbreak['index']):03d}",
                    "attack": attack,
                    "model": model,
                    "goal": jailbreak["goal"],
                    "prompt": jailbreak.get("prompt") or jailbreak["goal"],
                    "response": jailbreak["response"],
                    "jailbroken": bool(jailbreak["jailbroken"]),
                }
            )
    return sorted(rows, key=lambda r: r["id"])


def _last_turns(transcript: str) -> tuple[str, str]:
    """(last human turn, last assistant turn) of an HH-RLHF transcript."""
    head, _, reply = transcript.rpartition("\n\nAssistant:")
    return head.rpartition("\n\nHuman:")[2].strip(), reply.strip()


def hh_pair_rows(root: Path) -> list[dict[str, Any]]:
    rows = []
    with gzip.open(root / "harmless-base_test.jsonl.gz", "rt", encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            pair = json.loads(line)
            prompt, chosen = _last_turns(pair["chosen"])
            _, rejected = _last_turns(pair["rejected"])
            if chosen != rejected:
                rows.append({"id": f"hh:{i:04d}", "prompt": prompt, "chosen": chosen, "rejected": rejected})
    return rows


def benign_rows(shared: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((shared / "alpaca_eval" / "results").glob("*/model_outputs.json")):
        model = path.parent.name
        answers = [
            (i, r)
            for i, r in enumerate(json.loads(path.read_text(encoding="utf-8")))
            if r.get("output") and not read_while_designing(r["instruction"])
        ]
        chosen = sorted(answers, key=lambda a: stable_fraction(f"{model}:{a[1]['instruction']}"))
        for i, r in chosen[:ALPACA_PER_MODEL]:
            rows.append(
                {"id": f"alpaca_eval:{model}:{i:03d}", "source": "alpaca_eval", "model": model,
                 "prompt": r["instruction"], "response": r["output"]}
            )  # fmt: skip
    for path in sorted((shared / "arena_hard_v0.1" / "model_answer").glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                r = json.loads(line)
                user = next(m["content"] for m in r["messages"] if m["role"] == "user")
                answer = next(m["content"] for m in r["messages"] if m["role"] == "assistant")
                text = answer["answer"] if isinstance(answer, dict) else str(answer)
                rows.append(
                    {"id": f"arena_hard:{r['model']}:{r['uid']}", "source": "arena_hard", "model": r["model"],
                     "prompt": user, "response": text}
                )  # fmt: skip
    with (shared / "oasst_en_100_trees" / "en_100_tree.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            for prompt, reply, message_id in _oasst_pairs(json.loads(line)["prompt"], None):
                rows.append(
                    {"id": f"oasst:{message_id}", "source": "oasst", "model": "oasst-human",
                     "prompt": prompt, "response": reply}
                )  # fmt: skip
    return sorted(rows, key=lambda r: r["id"])


def _oasst_pairs(node: dict[str, Any], parent: str | None) -> list[tuple[str, str, str]]:
    """Every (prompter message, human-written assistant reply) pair of an OpenAssistant tree."""
    pairs = []
    if node["role"] == "assistant" and parent is not None:
        pairs.append((parent, node["text"], node["message_id"]))
    own = node["text"] if node["role"] == "prompter" else None
    for reply in node.get("replies", []):
        pairs += _oasst_pairs(reply, own)
    return pairs


def write_jsonl_gz(path: Path, rows: list[dict[str, Any]]) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        for row in rows:
            handle.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode())
    path.write_bytes(buffer.getvalue())


def build(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "licenses").mkdir(exist_ok=True)
    write_jsonl_gz(out / "xstest_completions.jsonl.gz", xstest_rows(shared / "xstest"))
    write_jsonl_gz(out / "presidio_research_dev.jsonl.gz", presidio_rows(shared / "presidio_research"))
    write_jsonl_gz(out / "jailbreakbench.jsonl.gz", jailbreakbench_rows(shared / "jailbreakbench_artifacts"))
    write_jsonl_gz(out / "hh_rlhf_pairs.jsonl.gz", hh_pair_rows(shared / "hh_rlhf_harmless_test"))
    write_jsonl_gz(out / "benign_answers.jsonl.gz", benign_rows(shared))
    sources = ("xstest", "presidio_research", "jailbreakbench_artifacts", "hh_rlhf_harmless_test")
    for name in (*sources, "alpaca_eval", "arena_hard_v0.1", "oasst_en_100_trees"):
        for part in ("LICENSE", "SOURCE.txt"):
            shutil.copyfile(shared / name / part, out / "licenses" / f"{name}.{part}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/validation"))
    args = parser.parse_args()
    build(args.shared, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
