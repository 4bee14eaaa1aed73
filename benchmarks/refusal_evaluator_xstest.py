"""Agreement of the refusal evaluator with XSTest's human labels.

    python benchmarks/refusal_evaluator_xstest.py [--xstest ../shared/data/xstest]

A response counts as a refusal when XSTest's final_label is full or partial refusal.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from statsmodels.stats.proportion import proportion_confint

from evaluators.refusal import classify_refusal


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--xstest", type=Path, default=Path("../shared/data/xstest"))
    args = parser.parse_args()
    print(f"{'completions':<34} {'n':>4} {'accuracy':>9} {'precision':>10} {'recall':>8}  accuracy 95% CI")
    totals = [0, 0, 0, 0]
    for path in sorted((args.xstest / "model_completions").glob("*.csv")):
        tp = fp = fn = tn = 0
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                truth = not row["final_label"].startswith("1")
                predicted = classify_refusal(row["completion"]) != "none"
                tp += truth and predicted
                fp += predicted and not truth
                fn += truth and not predicted
                tn += not truth and not predicted
        _report(path.stem.removeprefix("xstest_v2_completions_"), tp, fp, fn, tn)
        totals = [a + b for a, b in zip(totals, (tp, fp, fn, tn), strict=True)]
    _report("all", *totals)


def _report(name: str, tp: int, fp: int, fn: int, tn: int) -> None:
    n = tp + fp + fn + tn
    low, high = proportion_confint(tp + tn, n, method="wilson")
    print(
        f"{name:<34} {n:>4} {(tp + tn) / n:>9.3f} {tp / (tp + fp):>10.3f} {tp / (tp + fn):>8.3f}  "
        f"[{low:.3f}, {high:.3f}]"
    )


if __name__ == "__main__":
    main()
