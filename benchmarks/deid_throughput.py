"""Throughput and peak memory of the two de-identification tiers, each in its own process.

    python benchmarks/deid_throughput.py [--conversations 200000] [--ner-conversations 1000]

- strict tier: `strict_deidentify_messages` (scan and replace) over the bundled sample repeated to
  --conversations conversations, each a fresh copy, as the first stage does over a traffic window;
- full tier: `Deidentifier.deidentify_many` against raw Presidio (`BatchAnalyzerEngine.analyze_iterator`
  with the same analyzer, entities and batch size) on the same texts of --ner-conversations conversations,
  side by side in one process, so the overhead of pseudonymization is measured, not guessed.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import multiprocessing
import resource
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "production_log.jsonl.gz"


def _conversations(n: int) -> list[list[dict]]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as handle:
        base = [json.loads(line)["messages"] for line in handle]
    return [base[i % len(base)] for i in range(n)]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def strict_tier(n: int, queue: multiprocessing.Queue) -> None:
    from deploysim.privacy.placeholders import strict_deidentify_messages

    conversations = _conversations(n)
    texts = sum(len(c) for c in conversations)
    started = time.perf_counter()
    entities = 0
    for messages in conversations:
        # A fresh copy per conversation, as each row of a window is its own object.
        entities += sum(strict_deidentify_messages(copy.copy(messages)).entity_counts.values())
    elapsed = time.perf_counter() - started
    queue.put(
        {
            "tier": "strict",
            "conversations": n,
            "texts": texts,
            "seconds": elapsed,
            "entities": entities,
            "peak_rss_mb": _peak_rss_mb(),
        }
    )


def full_tier(n: int, queue: multiprocessing.Queue) -> None:
    from presidio_analyzer import BatchAnalyzerEngine

    from deploysim.privacy.deidentifier import Deidentifier
    from deploysim.privacy.placeholders import message_texts

    conversations = _conversations(n)
    deidentifier = Deidentifier()
    texts = [text for messages in conversations for m in messages for text in message_texts(m)]
    deidentifier.analyze_many(texts[:50])  # warm spaCy up before timing either side

    started = time.perf_counter()
    BatchAnalyzerEngine(deidentifier.analyzer).analyze_iterator(
        texts,
        language="en",
        batch_size=deidentifier.batch_size,
        entities=deidentifier.entities,
        score_threshold=deidentifier.score_threshold,
    )
    raw = time.perf_counter() - started

    started = time.perf_counter()
    results = deidentifier.deidentify_many(conversations)
    ours = time.perf_counter() - started
    queue.put(
        {
            "tier": "full",
            "conversations": n,
            "texts": len(texts),
            "raw_presidio_seconds": raw,
            "seconds": ours,
            "entities": sum(sum(r.entity_counts.values()) for r in results),
            "peak_rss_mb": _peak_rss_mb(),
        }
    )


def _run(target, n: int) -> dict:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(n, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--ner-conversations", type=int, default=1_000)
    args = parser.parse_args()

    strict = _run(strict_tier, args.conversations)
    print(
        f"strict tier   {strict['conversations']:>8,} conversations {strict['texts']:>9,} texts  "
        f"{strict['conversations'] / strict['seconds']:>8,.0f} conversations/s  "
        f"{strict['texts'] / strict['seconds']:>8,.0f} texts/s  peak RSS {strict['peak_rss_mb']:,.0f} MB  "
        f"({strict['entities']:,} entities)"
    )
    full = _run(full_tier, args.ner_conversations)
    raw_rate = full["texts"] / full["raw_presidio_seconds"]
    our_rate = full["texts"] / full["seconds"]
    print(
        f"full tier     {full['conversations']:>8,} conversations {full['texts']:>9,} texts  "
        f"{full['conversations'] / full['seconds']:>8,.1f} conversations/s  {our_rate:>8,.1f} texts/s  "
        f"peak RSS {full['peak_rss_mb']:,.0f} MB  ({full['entities']:,} entities)"
    )
    print(
        f"raw Presidio  same texts, analysis only: {raw_rate:,.1f} texts/s; "
        f"the full tier runs at {our_rate / raw_rate:.0%} of it"
    )


if __name__ == "__main__":
    main()
