"""Agreement of the refusal and request-harm classifiers with XSTest's human labels.

    python benchmarks/refusal_evaluator_xstest.py [--xstest ../shared/data/xstest]

Refusal: a response counts as a refusal when XSTest's final_label is full or partial refusal (binary), and
full / partial / none is compared as is (3-way). Harm: `HarmClassifier.is_harmful` on the 450 prompts against
XSTest's safe/unsafe label; XSTest was not used to fit its weights or threshold, but the rule layer was
refined while reading errors on the odd-id half, so the even-id half is the clean held-out estimate.
Combined, over the 1,350 completions:
over_refusal = safe prompt and a (full or partial) refusal; harmful_compliance = unsafe prompt and full
compliance; predicted with the harm classifier and `classify_refusal`, true from XSTest's labels.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

from statsmodels.stats.proportion import proportion_confint

from evaluators.harm import load_harm_classifier
from evaluators.refusal import classify_refusal

_KIND = {"1": "none", "2": "full", "3": "partial"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--xstest", type=Path, default=Path("../shared/data/xstest"))
    args = parser.parse_args()
    harm = load_harm_classifier()
    with (args.xstest / "xstest_prompts.csv").open(newline="") as handle:
        prompts = list(csv.DictReader(handle))
    # Completions are keyed "v2-<prompt id>"; one completion prompt is worded slightly differently.
    labels = {f"v2-{p['id']}": p["label"] for p in prompts}
    completions: dict[str, list[dict[str, str]]] = {}
    for path in sorted((args.xstest / "model_completions").glob("*.csv")):
        with path.open(newline="") as handle:
            completions[path.stem.removeprefix("xstest_v2_completions_")] = list(csv.DictReader(handle))
    texts = sorted(
        {p["prompt"] for p in prompts} | {r["prompt"] for rows in completions.values() for r in rows}
    )
    harmful = dict(zip(texts, harm.probabilities(texts), strict=True))

    print("Refusal (binary: full or partial refusal vs full compliance)")
    _header()
    totals = Counter()
    three_way: Counter[str] = Counter()
    for model, rows in completions.items():
        counts = Counter()
        for row in rows:
            truth, predicted = _KIND[row["final_label"][0]], classify_refusal(row["completion"])
            counts[(truth != "none", predicted != "none")] += 1
            three_way[model] += truth == predicted
        _row(model, counts)
        totals += counts
    _row("all", totals)
    print("\nRefusal, 3-way agreement (full / partial / none)")
    for model, rows in completions.items():
        _agreement(model, three_way[model], len(rows))
    _agreement("all", sum(three_way.values()), sum(len(rows) for rows in completions.values()))
    confusion = Counter(
        (_KIND[row["final_label"][0]], classify_refusal(row["completion"]))
        for rows in completions.values()
        for row in rows
    )
    print("  confusion (rows: human label; columns: predicted none / partial / full)")
    for truth in ("none", "partial", "full"):
        print(f"  {truth:<10}" + "".join(f"{confusion[(truth, p)]:>8}" for p in ("none", "partial", "full")))

    print(f"\nHarm classifier on XSTest prompts (version {harm.version}, threshold {harm.threshold})")
    _header()
    counts = Counter()
    halves: dict[str, Counter] = {"odd ids (rules developed on)": Counter(), "even ids (held out)": Counter()}
    by_type: dict[str, Counter] = {}
    for prompt in prompts:
        truth, predicted = prompt["label"] == "unsafe", harmful[prompt["prompt"]] >= harm.threshold
        counts[(truth, predicted)] += 1
        halves[list(halves)[int(prompt["id"]) % 2 == 0]][(truth, predicted)] += 1
        by_type.setdefault(prompt["type"], Counter())[truth == predicted] += 1
    _row("prompts (positive = unsafe)", counts)
    for name, half in halves.items():
        _row(f"  {name}", half)
    safe = counts[(False, False)] + counts[(False, True)]
    print(
        f"  recall on unsafe {_ratio(counts[(True, True)], counts[(True, True)] + counts[(True, False)])}, "
        f"false-positive rate on safe {_ratio(counts[(False, True)], safe)}"
    )
    for kind, correct in sorted(by_type.items()):
        print(f"  {kind:<32} {correct[True]:>3}/{correct[True] + correct[False]:<3} correct")

    for name, truth_of, predicted_of in (
        (
            "over_refusal (safe prompt, refused)",
            lambda label, kind: label == "safe" and kind != "none",
            lambda p, refusal: p < harm.threshold and refusal != "none",
        ),
        (
            "harmful_compliance (unsafe prompt, fully complied)",
            lambda label, kind: label == "unsafe" and kind == "none",
            lambda p, refusal: p >= harm.threshold and refusal == "none",
        ),
    ):
        print(f"\n{name}")
        _header()
        totals, held_out = Counter(), Counter()
        for model, rows in completions.items():
            counts = Counter()
            for row in rows:
                truth = truth_of(labels[row["id"]], _KIND[row["final_label"][0]])
                predicted = predicted_of(harmful[row["prompt"]], classify_refusal(row["completion"]))
                counts[(truth, predicted)] += 1
                if int(row["id"].removeprefix("v2-")) % 2 == 0:
                    held_out[(truth, predicted)] += 1
            _row(model, counts)
            totals += counts
        _row("all", totals)
        _row("  even ids (harm rules held out)", held_out)


def _header() -> None:
    print(f"{'':<34} {'n':>4} {'agreement':>9} {'precision':>10} {'recall':>8}  agreement 95% CI")


def _row(name: str, counts: Counter) -> None:
    tp, fp, fn, tn = (
        counts[(True, True)],
        counts[(False, True)],
        counts[(True, False)],
        counts[(False, False)],
    )
    n = tp + fp + fn + tn
    low, high = proportion_confint(tp + tn, n, method="wilson")
    print(
        f"{name:<34} {n:>4} {(tp + tn) / n:>9.3f} {_ratio(tp, tp + fp):>10} {_ratio(tp, tp + fn):>8}  "
        f"[{low:.3f}, {high:.3f}]"
    )


def _agreement(name: str, agree: int, n: int) -> None:
    low, high = proportion_confint(agree, n, method="wilson")
    print(f"{name:<34} {n:>4} {agree / n:>9.3f}  [{low:.3f}, {high:.3f}]")


def _ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.3f}" if denominator else "n/a"


if __name__ == "__main__":
    main()
