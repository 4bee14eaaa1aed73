"""Strict-tier PII hits on ordinary, code-heavy traffic, where nearly every hit is a false positive.

    python benchmarks/pii_code_precision.py --shared ../shared/data [--list 300] [--no-rescan]

The texts are real prompts and answers: Arena-hard's 500 Chatbot Arena prompts and the answers of its three
models, and AlpacaEval's 805 instructions and the answers of its 41 models. None of them should hold a
person's contact data, so a hit is a candidate false positive to inspect.

Two figures, per 10k texts, by entity type, over all texts and over the texts that hold code (a fenced
block or an inline code span):

- the strict tier: spans the regex scan (`find_strict`) masks in a text;
- the blocking re-scan: each text is de-identified by the strict tier as a one-message conversation, then
  re-scanned with Presidio's pattern recognizers as the asset check does; a text with a hit there is one
  conversation the check would stop (or quarantine).

Every hit is then listed with its entity type, where it comes from and a short context in which the hit
itself is shown only by its shape (letters as x/X, digits as 9; an email keeps its last label), e.g.
``solution[:,⟦::9⟧]``.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploysim.privacy.deidentifier import Deidentifier
from deploysim.privacy.placeholders import strict_deidentify_messages
from deploysim.privacy.strict_scan import find_strict

_CODE = re.compile(r"```|~~~|`[^`\n]+`")
CONTEXT_CHARS = 32


@dataclass(frozen=True)
class Text:
    source: str
    role: str
    text: str

    @property
    def has_code(self) -> bool:
        return _CODE.search(self.text) is not None


@dataclass(frozen=True)
class Hit:
    tier: str
    entity_type: str
    source: str
    context: str
    in_code_text: bool


def load_texts(shared: Path) -> Iterator[Text]:
    arena = shared / "arena_hard_v0.1"
    for line in (arena / "question.jsonl").read_text().splitlines():
        row = json.loads(line)
        yield Text(f"arena:{row['uid']}:prompt", "user", row["prompt"])
    for path in sorted((arena / "model_answer").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            for message in row["messages"]:
                content = message["content"]
                if message["role"] == "assistant":
                    yield Text(f"arena:{row['uid']}:{path.stem}", "assistant", content["answer"])
    instructions: dict[str, int] = {}
    for path in sorted(glob.glob(str(shared / "alpaca_eval/results/*/model_outputs.json"))):
        model = Path(path).parent.name
        for row in json.loads(Path(path).read_text()):
            if row["instruction"] not in instructions:
                instructions[row["instruction"]] = len(instructions)
                yield Text(f"alpaca:{instructions[row['instruction']]}:prompt", "user", row["instruction"])
            if isinstance(row.get("output"), str):
                yield Text(f"alpaca:{instructions[row['instruction']]}:{model}", "assistant", row["output"])


def shape(value: str, entity_type: str) -> str:
    keep = ""
    if entity_type == "EMAIL_ADDRESS" and "." in value:
        value, keep = value.rsplit(".", 1)
        keep = "." + keep
    masked = re.sub(r"[a-z]", "x", re.sub(r"[A-Z]", "X", re.sub(r"\d", "9", value)))
    return masked + keep


def masked_context(text: str, start: int, end: int, entity_type: str) -> str:
    left = text[max(0, start - CONTEXT_CHARS) : start]
    right = text[end : end + CONTEXT_CHARS]
    shown = f"{left}⟦{shape(text[start:end], entity_type)}⟧{right}"
    return shown.replace("\n", "⏎").replace("\t", " ")


def scan(texts: list[Text], rescan: bool) -> list[Hit]:
    hits: list[Hit] = []
    deidentifier = Deidentifier(ner=False) if rescan else None
    for item in texts:
        for span in find_strict(item.text):
            context = masked_context(item.text, span.start, span.end, span.entity_type)
            hits.append(Hit("strict", span.entity_type, item.source, context, item.has_code))
        if deidentifier is None:
            continue
        message = {"role": item.role, "content": item.text}
        cleaned = strict_deidentify_messages([message]).messages[0]["content"]
        for result in deidentifier.strict_hits(cleaned):
            context = masked_context(cleaned, result.start, result.end, result.entity_type)
            hits.append(Hit("rescan", result.entity_type, item.source, context, item.has_code))
    return hits


def per_10k(count: int, n: int) -> str:
    return f"{10_000 * count / max(n, 1):8.1f}"


def report(texts: list[Text], hits: list[Hit], tier: str, title: str, listed: int) -> None:
    n_all = len(texts)
    n_code = sum(t.has_code for t in texts)
    mine = [h for h in hits if h.tier == tier]
    by_type = Counter(h.entity_type for h in mine)
    by_type_code = Counter(h.entity_type for h in mine if h.in_code_text)
    print(f"\n{title}")
    print(f"{'entity type':<16} {'hits':>6} {'per 10k':>8} {'in code texts':>14} {'per 10k':>8}")
    for entity, count in sorted(by_type.items()):
        code = by_type_code[entity]
        print(f"{entity:<16} {count:>6} {per_10k(count, n_all)} {code:>14} {per_10k(code, n_code)}")
    total, total_code = len(mine), sum(by_type_code.values())
    print(
        f"{'all types':<16} {total:>6} {per_10k(total, n_all)} {total_code:>14} {per_10k(total_code, n_code)}"
    )
    texts_hit = len({h.source for h in mine})
    texts_hit_code = len({h.source for h in mine if h.in_code_text})
    print(
        f"{'texts with a hit':<16} {texts_hit:>6} {per_10k(texts_hit, n_all)} "
        f"{texts_hit_code:>14} {per_10k(texts_hit_code, n_code)}"
    )
    for hit in sorted(mine, key=lambda h: (h.entity_type, h.source))[:listed]:
        print(f"  {hit.entity_type:<14} {hit.source:<48} {hit.context}")
    if len(mine) > listed:
        print(f"  ... {len(mine) - listed} more (--list)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--list", type=int, default=300, help="hits listed per tier (default 300)")
    parser.add_argument("--no-rescan", action="store_true", help="skip the slower Presidio re-scan")
    args = parser.parse_args()

    texts = list(load_texts(args.shared))
    sources = Counter(
        t.source.split(":", 1)[0] + (" prompts" if t.role == "user" else " answers") for t in texts
    )
    print(
        f"{len(texts)} texts ({', '.join(f'{k} {v}' for k, v in sorted(sources.items()))}); "
        f"{sum(t.has_code for t in texts)} hold code; {sum(len(t.text) for t in texts) / 1e6:.1f} MB"
    )
    started = time.perf_counter()
    hits = scan(texts, rescan=not args.no_rescan)
    elapsed = time.perf_counter() - started
    report(texts, hits, "strict", "Strict tier (find_strict): spans masked", args.list)
    if not args.no_rescan:
        report(
            texts,
            hits,
            "rescan",
            "Blocking re-scan after the strict tier (Presidio patterns): hits left",
            args.list,
        )
    print(f"\nscanned in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
