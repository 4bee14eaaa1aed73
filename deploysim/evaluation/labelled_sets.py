"""The labelled sets the evaluators are validated against (data/validation), each for what it honestly is.

- xstest: refusal, over-refusal and harmful compliance per model; human labels (two annotators).
- jailbreakbench: harmful compliance of attack responses per target model; an automated judge's
  `jailbroken` verdict, so weak.
- alpaca_eval, arena_hard, oasst: answers to ordinary requests, no harmful compliance by convention: weak.
- presidio_research: PII in synthetic text, from its spans.
- hh_rlhf: preference pairs, the rejected reply tending to be the more harmful; pairwise only.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploysim.core.grading import GradeItem

#: presidio-research span types that count as the personal data `pii_leakage` looks for.
PRESIDIO_LEAK_TYPES = frozenset(
    {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"}
)


@dataclass(frozen=True)
class LabelledCase:
    item: GradeItem
    #: The data set, and who wrote the response: the groups a held-out fold leaves out.
    source: str
    model: str
    #: The label per category this case carries.
    truth: dict[str, bool]
    #: From an automated judge or a convention rather than from people.
    weak: bool = False


@dataclass(frozen=True)
class LabelledPair:
    """Two replies to one request, the second the more harmful one by the data set's preference."""

    pair_id: str
    source: str
    safer: GradeItem
    more_harmful: GradeItem


def _read(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _asked(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def xstest_cases(path: Path) -> list[LabelledCase]:
    """XSTest completions: refusal from `final_label`; over-refusal and harmful compliance combine it with
    whether the prompt is one of the 200 unsafe contrasts."""
    cases = []
    for row in _read(path):
        refused = row["final_label"] != "1_full_compliance"
        unsafe = row["prompt_label"] == "unsafe"
        cases.append(
            LabelledCase(
                item=GradeItem(item_id=row["id"], prefix=_asked(row["prompt"]), response=row["completion"]),
                source="xstest",
                model=row["model"],
                truth={
                    "refusal": refused,
                    "over_refusal": refused and not unsafe,
                    "harmful_compliance": unsafe and not refused,
                },
            )
        )
    return cases


def jailbreakbench_cases(path: Path) -> list[LabelledCase]:
    """Attack responses with the benchmark's automated `jailbroken` verdict as a weak label."""
    return [
        LabelledCase(
            item=GradeItem(
                item_id=f"jbb:{row['id']}", prefix=_asked(row["prompt"]), response=row["response"]
            ),
            source="jailbreakbench",
            model=row["model"],
            truth={"harmful_compliance": row["jailbroken"]},
            weak=True,
        )
        for row in _read(path)
    ]


def benign_cases(path: Path) -> list[LabelledCase]:
    """Answers to ordinary requests: harmful compliance is absent by convention; any flag is a false alarm."""
    return [
        LabelledCase(
            item=GradeItem(item_id=row["id"], prefix=_asked(row["prompt"]), response=row["response"]),
            source=row["source"],
            model=row["model"],
            truth={"harmful_compliance": False},
            weak=True,
        )
        for row in _read(path)
    ]


def presidio_cases(path: Path) -> list[LabelledCase]:
    """Synthetic texts with PII spans, graded as responses to an empty prefix: any PII is new PII."""
    return [
        LabelledCase(
            item=GradeItem(item_id=row["id"], prefix=[], response=row["text"]),
            source="presidio_research",
            model="synthetic",
            truth={"pii_leakage": any(span["entity_type"] in PRESIDIO_LEAK_TYPES for span in row["spans"])},
        )
        for row in _read(path)
    ]


def hh_pairs(path: Path) -> list[LabelledPair]:
    return [
        LabelledPair(
            pair_id=row["id"],
            source="hh_rlhf",
            safer=GradeItem(
                item_id=f"{row['id']}:chosen", prefix=_asked(row["prompt"]), response=row["chosen"]
            ),
            more_harmful=GradeItem(
                item_id=f"{row['id']}:rejected", prefix=_asked(row["prompt"]), response=row["rejected"]
            ),
        )
        for row in _read(path)
    ]


def load_cases(data_dir: Path) -> list[LabelledCase]:
    return [
        *xstest_cases(data_dir / "xstest_completions.jsonl.gz"),
        *jailbreakbench_cases(data_dir / "jailbreakbench.jsonl.gz"),
        *benign_cases(data_dir / "benign_answers.jsonl.gz"),
        *presidio_cases(data_dir / "presidio_research_dev.jsonl.gz"),
    ]


def load_pairs(data_dir: Path) -> list[LabelledPair]:
    return hh_pairs(data_dir / "hh_rlhf_pairs.jsonl.gz")
