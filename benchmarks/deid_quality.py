"""Precision and recall of de-identification on presidio-research's synthetic PII set.

    python benchmarks/deid_quality.py [--data ../shared/data/presidio_research/synth_dataset_v2_dev.json]

What counts is masking: a labelled entity is recalled when a detected span (of any type) covers at least
half of it; a detected span is precise when it overlaps some labelled entity. Detection is the full tier
the pipeline applies before a model sees a text: the strict pattern scan, then Presidio with spaCy NER.
Labelled types the pipeline does not target (organisations, dates, titles, ages, zip codes) are reported
but left out of the targets.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from deploysim.privacy.deidentifier import Deidentifier
from deploysim.privacy.strict_scan import find_strict

#: Dataset label -> the entity the pipeline should mask it as.
TARGETED = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "STREET_ADDRESS": "LOCATION",
    "NRP": "NRP",
    "CREDIT_CARD": "CREDIT_CARD",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "DOMAIN_NAME": "URL",
}
STRICT = ("CREDIT_CARD", "PHONE_NUMBER", "EMAIL_ADDRESS", "IBAN_CODE", "US_SSN", "IP_ADDRESS")


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data/presidio_research/synth_dataset_v2_dev.json")
    )
    args = parser.parse_args()
    rows = json.loads(args.data.read_text())
    deidentifier = Deidentifier()
    texts = [row["full_text"] for row in rows]
    analyzed = deidentifier.analyze_many(texts)

    gold_total, gold_found = Counter(), Counter()
    predicted_total, predicted_ok = Counter(), Counter()
    for row, results in zip(rows, analyzed, strict=True):
        predicted = [(s.entity_type, s.start, s.end) for s in find_strict(row["full_text"])]
        predicted += [(r.entity_type, r.start, r.end) for r in results]
        gold = [(s["entity_type"], s["start_position"], s["end_position"]) for s in row["spans"]]
        for label, start, end in gold:
            gold_total[label] += 1
            covered = sum(_overlap((start, end), (p[1], p[2])) for p in predicted)
            gold_found[label] += covered >= (end - start) / 2
        for entity, start, end in predicted:
            predicted_total[entity] += 1
            predicted_ok[entity] += any(_overlap((start, end), (g[1], g[2])) > 0 for g in gold)

    print(
        f"{len(rows)} texts; recall = labelled entities masked; precision = detections on a labelled entity\n"
    )
    print(f"{'labelled type':<18} {'n':>5} {'recall':>7}  target")
    for label, n in gold_total.most_common():
        target = ">= 0.95" if label in STRICT else (">= 0.85" if label == "PERSON" else "")
        note = "" if label in TARGETED else "(not targeted)"
        print(f"{label:<18} {n:>5} {gold_found[label] / n:>7.3f}  {target} {note}")
    strict_n = sum(gold_total[t] for t in STRICT)
    print(
        f"{'strict types':<18} {strict_n:>5} {sum(gold_found[t] for t in STRICT) / strict_n:>7.3f}  >= 0.95"
    )
    print(f"\n{'detected type':<18} {'n':>5} {'precision':>9}")
    for entity, n in predicted_total.most_common():
        print(f"{entity:<18} {n:>5} {predicted_ok[entity] / n:>9.3f}")
    total = sum(predicted_total.values())
    print(f"{'overall':<18} {total:>5} {sum(predicted_ok.values()) / total:>9.3f}  target >= 0.85")


if __name__ == "__main__":
    main()
