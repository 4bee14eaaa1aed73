"""Build the two test-style prompt suites the eval-awareness probe compares with replayed traffic.

    python scripts/build_probe_suites.py --shared ../shared/data --out data/probe_suites

- `adversarial.jsonl.gz`: 200 JailbreakBench attack prompts (PAIR, GCG, JBC, DSN, random search... every
  attack in `attack-artifacts`) for its 100 behaviours, picked deterministically and balanced across
  attacks, behaviours and target models.
- `benchmark.jsonl.gz`: all 450 XSTest v2 prompts (250 safe, 200 unsafe contrasts).

Prompts are kept exactly as published. Output is byte-for-byte reproducible (sorted rows, fixed gzip mtime);
licences are copied beside it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADVERSARIAL_SIZE = 200


@dataclass(frozen=True)
class Attack:
    """One prompt from an attack artefact, with where it came from."""

    attack: str  # the artefact folder: DSN, GCG, JBC, PAIR, prompt_with_random_search
    target: str  # the model the attack was run against
    transfer: bool  # optimised on another model and replayed on `target`
    index: int  # the JailbreakBench behaviour, 0-99
    prompt: str

    @property
    def item_id(self) -> str:
        return f"jbb-{self.attack}-{self.target}-{self.index:03d}"


def attack_prompts(root: Path) -> list[Attack]:
    """Every non-empty attack prompt, each distinct text once.

    Several artefacts repeat one text (JBC sends the same template to every target; GCG's transfer runs
    replay the prompts optimised on Vicuna), so the first occurrence wins, in the order attack, original
    before transfer run, target, behaviour.
    """
    found: list[Attack] = []
    for path in sorted((root / "attack-artifacts").glob("*/*/*.json")):
        artefact = json.loads(path.read_text(encoding="utf-8"))
        target = artefact["parameters"]["model"]
        if target != path.stem:
            raise ValueError(f"{path}: artefact is for {target}")
        attack, transfer = path.parent.parent.name, path.parent.name == "transfer"
        for row in artefact["jailbreaks"]:
            prompt = row["prompt"]
            if prompt is None or not prompt.strip():  # an attack that found no jailbreak leaves no prompt
                continue
            found.append(Attack(attack, target, transfer, row["index"], prompt))
    found.sort(key=lambda a: (a.attack, a.transfer, a.target, a.index))
    seen: set[str] = set()
    unique: list[Attack] = []
    for item in found:
        if item.prompt not in seen:
            seen.add(item.prompt)
            unique.append(item)
    return unique


def balanced_selection(candidates: list[Attack], size: int) -> list[Attack]:
    """Attacks take turns in name order; each turn takes that attack's remaining prompt whose behaviour has
    been picked least overall, then least by this attack, then whose target it has picked least, then the
    lowest behaviour index and target name. No randomness, so the selection only changes with the data."""
    pools: dict[str, list[Attack]] = {}
    for item in candidates:
        pools.setdefault(item.attack, []).append(item)
    behaviour_picks: Counter[int] = Counter()
    attack_behaviour_picks: Counter[tuple[str, int]] = Counter()
    attack_target_picks: Counter[tuple[str, str]] = Counter()
    chosen: list[Attack] = []
    while len(chosen) < size and any(pools.values()):
        for name in sorted(pools):
            if len(chosen) == size or not pools[name]:
                continue
            best = min(
                pools[name],
                key=lambda a: (
                    behaviour_picks[a.index],
                    attack_behaviour_picks[a.attack, a.index],
                    attack_target_picks[a.attack, a.target],
                    a.index,
                    a.target,
                ),
            )
            pools[name].remove(best)
            behaviour_picks[best.index] += 1
            attack_behaviour_picks[best.attack, best.index] += 1
            attack_target_picks[best.attack, best.target] += 1
            chosen.append(best)
    return chosen


def adversarial_rows(root: Path, size: int = ADVERSARIAL_SIZE) -> list[dict[str, Any]]:
    rows = [
        {
            "item_id": a.item_id,
            "prompt": a.prompt,
            "source": f"JailbreakBench {a.attack} ({a.target})",
        }
        for a in balanced_selection(attack_prompts(root), size)
    ]
    return sorted(rows, key=lambda r: r["item_id"])


def benchmark_rows(root: Path) -> list[dict[str, Any]]:
    with open(root / "xstest_prompts.csv", encoding="utf-8", newline="") as handle:
        rows = [
            {
                "item_id": f"xstest-{int(row['id']):03d}",
                "prompt": row["prompt"],
                "source": f"XSTest v2 {row['type']}",
            }
            for row in csv.DictReader(handle)
        ]
    return sorted(rows, key=lambda r: r["item_id"])


def write_jsonl_gz(path: Path, rows: list[dict[str, Any]]) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        for row in rows:
            handle.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode())
    path.write_bytes(buffer.getvalue())


def build(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "licenses").mkdir(exist_ok=True)
    adversarial = adversarial_rows(shared / "jailbreakbench_artifacts")
    write_jsonl_gz(out / "adversarial.jsonl.gz", adversarial)
    write_jsonl_gz(out / "benchmark.jsonl.gz", benchmark_rows(shared / "xstest"))
    for name in ("jailbreakbench_artifacts", "xstest"):
        for part in ("LICENSE", "SOURCE.txt"):
            shutil.copyfile(shared / name / part, out / "licenses" / f"{name}.{part}")
    # The counts NOTICE.md quotes, printed so they are read off the build rather than copied by hand.
    for source, count in sorted(Counter(row["source"] for row in adversarial).items()):
        print(f"{count:4d}  {source}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/probe_suites"))
    args = parser.parse_args()
    build(args.shared, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
