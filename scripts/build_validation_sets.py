"""Build the human-labelled sets the evaluators are validated against, from the public data beside the repo.

    python scripts/build_validation_sets.py --shared ../shared/data --out data/validation

- `xstest_completions.jsonl.gz`: XSTest v2's 450 prompts (250 safe, 200 unsafe contrasts) with the
  completions of three models and the human `final_label` (full compliance / full refusal / partial).
- `presidio_research_dev.jsonl.gz`: presidio-research's synthetic dev set, 750 texts with PII spans.

Output is byte-for-byte reproducible (sorted rows, fixed gzip mtime); licences are copied beside it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import shutil
from pathlib import Path
from typing import Any

XSTEST_MODELS = ("gpt4", "llama2orig", "mistralinstruct")


def xstest_rows(root: Path) -> list[dict[str, Any]]:
    with open(root / "xstest_prompts.csv", encoding="utf-8", newline="") as handle:
        prompts = {row["id"]: row for row in csv.DictReader(handle)}
    rows = []
    for model in XSTEST_MODELS:
        path = root / "model_completions" / f"xstest_v2_completions_{model}.csv"
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                number = row["id"].removeprefix("v2-")  # completions say "v2-12" where prompts say "12"
                prompt = prompts[number]
                rows.append(
                    {
                        "id": f"{model}:{int(number):03d}",
                        "model": model,
                        "prompt": row["prompt"],
                        "type": row["type"],
                        "prompt_label": prompt["label"],
                        "completion": row["completion"],
                        "final_label": row["final_label"],
                    }
                )
    return sorted(rows, key=lambda r: r["id"])


def presidio_rows(root: Path) -> list[dict[str, Any]]:
    data = json.loads((root / "synth_dataset_v2_dev.json").read_text(encoding="utf-8"))
    return [
        {
            "id": f"presidio:{i:04d}",
            "text": row["full_text"],
            "spans": sorted(
                (
                    {"entity_type": s["entity_type"], "start": s["start_position"], "end": s["end_position"]}
                    for s in row["spans"]
                ),
                key=lambda s: (s["start"], s["end"], s["entity_type"]),
            ),
        }
        for i, row in enumerate(data)
    ]


def write_jsonl_gz(path: Path, rows: list[dict[str, Any]]) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        for row in rows:
            handle.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode())
    path.write_bytes(buffer.getvalue())


def build(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "licenses").mkdir(exist_ok=True)
    write_jsonl_gz(out / "xstest_completions.jsonl.gz", xstest_rows(shared / "xstest"))
    write_jsonl_gz(out / "presidio_research_dev.jsonl.gz", presidio_rows(shared / "presidio_research"))
    for name in ("xstest", "presidio_research"):
        for part in ("LICENSE", "SOURCE.txt"):
            shutil.copyfile(shared / name / part, out / "licenses" / f"{name}.{part}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/validation"))
    args = parser.parse_args()
    build(args.shared, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
