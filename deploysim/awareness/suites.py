"""The bundled test-style suites (adversarial and benchmark) the probe sets beside replayed traffic."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from deploysim.awareness.types import SuitePrompt
from deploysim.simulation.sampling import sample_ids

SuiteName = Literal["adversarial", "benchmark"]


def load_suite(name: SuiteName, directory: Path) -> list[SuitePrompt]:
    """Every prompt of one suite, in the bundled (item id) order; `directory` is data/probe_suites."""
    with gzip.open(directory / f"{name}.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [SuitePrompt.model_validate(json.loads(line)) for line in handle]


def pick(prompts: Sequence[SuitePrompt], size: int, seed: int) -> list[SuitePrompt]:
    """A seeded uniform sample without replacement, in item id order; all of them if size >= len.

    It draws the same way as the replayed prefixes are sampled, so every suite of the comparison is
    chosen by one rule, and the same prompts, size and seed always give the same items. A bigger size keeps
    the smaller one's items, except across the size where `random.sample` changes method (21 to 22 of 200
    prompts, 85 to 86 of 450).
    """
    by_id = {p.item_id: p for p in prompts}
    if len(by_id) != len(prompts):
        raise ValueError("suite item ids are not unique")  # ids are the sample's keys
    return [by_id[item_id] for item_id in sample_ids(list(by_id), size, seed)]
