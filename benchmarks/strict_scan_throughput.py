"""Throughput of the strict PII scan (deploysim.privacy.strict_scan.find_strict) on one core.

    python benchmarks/strict_scan_throughput.py [--sample data/sample/production_log.jsonl.gz]
                                                [--conversations 200000]

The bundled sample's conversations are repeated (by reference, so memory stays small) until there are
at least --conversations of them, and every message content of every conversation is scanned once.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import resource
import sys
import time
from collections import Counter
from pathlib import Path

from deploysim.privacy.strict_scan import STRICT_TYPES, find_strict

REPO = Path(__file__).resolve().parents[1]


def load_texts(path: Path) -> list[list[str]]:
    """Each conversation as the list of its message contents."""
    conversations = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            conversations.append([m["content"] for m in row["messages"] if isinstance(m.get("content"), str)])
    return conversations


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sample", type=Path, default=REPO / "data/sample/production_log.jsonl.gz")
    parser.add_argument("--conversations", type=int, default=200_000)
    args = parser.parse_args()

    sample = load_texts(args.sample)
    conversations = sample * math.ceil(args.conversations / len(sample))
    n_texts = sum(len(c) for c in conversations)
    n_chars = sum(len(t) for c in conversations for t in c)

    counts: Counter[str] = Counter()
    started = time.perf_counter()
    for conversation in conversations:
        for text in conversation:
            for span in find_strict(text):
                counts[span.entity_type] += 1
    elapsed = time.perf_counter() - started

    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
    print(f"sample          {args.sample} ({len(sample)} conversations)")
    print(f"scanned         {len(conversations):,} conversations, {n_texts:,} texts")
    print(f"characters      {n_chars / 1e6:,.1f} M")
    print(f"elapsed         {elapsed:.2f} s")
    print(f"conversations/s {len(conversations) / elapsed:,.0f}")
    print(f"texts/s         {n_texts / elapsed:,.0f}")
    print(f"chars/s         {n_chars / elapsed / 1e6:,.1f} M")
    print(f"peak RSS        {peak:,.0f} MiB")
    print("hits by type")
    for entity_type in STRICT_TYPES:
        print(f"  {entity_type:<15} {counts[entity_type]:,}")


if __name__ == "__main__":
    main()
