"""How often the offline evaluators flag ordinary traffic: every answer of every model in AlpacaEval
(41 models x 805 instructions) and Arena-hard (3 models x 500 real user prompts).

    python benchmarks/benign_false_alarms.py [--shared ../shared/data] [--examples 12] [--evaluators a,b]

The prompts are ordinary user requests, so nearly every flag of an undesired behaviour is a false alarm.
Prints the flag rate per category and model family (with 95% Wilson intervals), per model, and the most
often flagged examples for a person to read. AlpacaEval is reported twice for harmful_compliance: all
instructions, and the 80% no rule was read on (the other 20% were read while designing it). The request-harm
classifier inside over_refusal was trained on these prompts: its rows are in-sample for that half.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deploysim.core.grading import GradeItem
from deploysim.reporting.markdown import table
from deploysim.stats.intervals import wilson
from evaluators.harmful_compliance import read_while_designing
from evaluators.registry import OFFLINE, load_evaluators

#: Families by model-name prefix, so a family's models are reported together.
FAMILIES = (
    ("gpt-4o", "gpt-4o"),
    ("gpt4", "gpt-4"),
    ("gpt-4", "gpt-4"),
    ("gpt-3.5", "gpt-3.5"),
    ("text_davinci", "davinci"),
    ("claude", "claude"),
    ("llama-2", "llama"),
    ("meta-llama", "llama"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("qwen", "qwen"),
    ("gemini", "gemini"),
    ("vicuna", "vicuna"),
    ("zephyr", "zephyr"),
    ("tulu", "tulu"),
)


def family(model: str) -> str:
    lowered = model.lower()
    return next((name for prefix, name in FAMILIES if lowered.startswith(prefix)), lowered)


def answers(shared: Path) -> list[tuple[str, str, bool, GradeItem]]:
    """(source, model, held out from rule design, item) for every benign answer."""
    rows = []
    for path in sorted((shared / "alpaca_eval" / "results").glob("*/model_outputs.json")):
        model = path.parent.name
        for i, r in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            item = GradeItem(
                item_id=f"alpaca:{model}:{i}",
                prefix=[{"role": "user", "content": r["instruction"]}],
                response=r.get("output") or "",
            )
            rows.append(("alpaca_eval", model, not read_while_designing(r["instruction"]), item))
    for path in sorted((shared / "arena_hard_v0.1" / "model_answer").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            user = next(m["content"] for m in r["messages"] if m["role"] == "user")
            answer = next(m["content"] for m in r["messages"] if m["role"] == "assistant")
            text = answer["answer"] if isinstance(answer, dict) else str(answer)
            item = GradeItem(
                item_id=f"arena:{r['model']}:{r['uid']}",
                prefix=[{"role": "user", "content": user}],
                response=text,
            )
            rows.append(("arena_hard", r["model"], True, item))
    return rows


def rate(flags: int, n: int) -> str:
    low, high = wilson(flags, n)
    return f"{flags / n:.2%} [{low:.2%}, {high:.2%}] ({flags}/{n})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--examples", type=int, default=12)
    parser.add_argument("--evaluators", default=",".join(OFFLINE))
    args = parser.parse_args()
    rows = answers(args.shared)
    evaluators = load_evaluators([n for n in args.evaluators.split(",") if n])
    meta = {item.item_id: (source, model, held) for source, model, held, item in rows}
    flagged: dict[str, set[str]] = defaultdict(set)
    details: dict[tuple[str, str], str | None] = {}
    seconds: dict[str, float] = {}
    for evaluator in evaluators:
        started = time.perf_counter()
        for grade in evaluator.grade([item for *_, item in rows]):
            if grade.label:
                flagged[grade.category].add(grade.item_id)
                details[(grade.category, grade.item_id)] = grade.detail
        seconds[evaluator.name] = time.perf_counter() - started
    print(f"# Benign-traffic flags: {len(rows):,} answers (AlpacaEval and Arena-hard)\n")
    categories = [c for e in evaluators for c in e.categories]
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item_id, (source, model, held) in meta.items():
        groups[(source, family(model))].append(item_id)
        if source == "alpaca_eval" and held:
            groups[("alpaca_eval, held-out 80%", family(model))].append(item_id)
    print("## Flag rate per data set and model family (95% Wilson interval)\n")
    print(
        "\n".join(
            table(
                ["data set", "family", "answers", *categories],
                (
                    [
                        source,
                        fam,
                        f"{len(ids):,}",
                        *(rate(len(flagged[c] & set(ids)), len(ids)) for c in categories),
                    ]
                    for (source, fam), ids in sorted(groups.items())
                ),
            )
        )
    )
    by_model: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item_id, (source, model, _) in meta.items():
        by_model[(source, model)].append(item_id)
    print("\n## harmful_compliance per model\n")
    print(
        "\n".join(
            table(
                ["data set", "model", "flag rate [95% CI]"],
                (
                    [source, model, rate(len(flagged["harmful_compliance"] & set(ids)), len(ids))]
                    for (source, model), ids in sorted(by_model.items())
                ),
            )
        )
    )
    texts = {item.item_id: item for *_, item in rows}
    print(f"\n## Most often flagged requests ({args.examples} per category), for a person to read\n")
    for category in categories:
        prompts = Counter(texts[i].last_user_message for i in flagged[category])
        if not prompts:
            continue
        print(f"### {category}\n")
        for prompt, count in prompts.most_common(args.examples):
            example = next(i for i in sorted(flagged[category]) if texts[i].last_user_message == prompt)
            reply = " ".join(texts[example].response.split())[:160]
            asked = " ".join(prompt.split())[:120]
            print(f"- {count} models: {asked!r} -> {reply!r} ({details[(category, example)]})")
        print()
    print("## Seconds per evaluator (one process)\n")
    print(
        "\n".join(
            table(
                ["evaluator", "seconds", "answers/s"],
                ([n, f"{s:.1f}", f"{len(rows) / s:,.0f}"] for n, s in seconds.items()),
            )
        )
    )


if __name__ == "__main__":
    main()
