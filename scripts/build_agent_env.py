"""Build the bundled airline environment snapshot that the simulated agent tools read, reproducibly.

    python scripts/build_agent_env.py --shared ../shared/data --out data/agent

Writes ``airline_env.json.gz`` (users, reservations, flights), the data set's ``LICENSE`` and
``SOURCE.txt``, and ``NOTICE.md``. The same inputs always give byte-identical outputs.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from deploysim.agents.snapshot import compact_flights, load_source_tables, snapshot_bytes

SNAPSHOT = "airline_env.json.gz"

NOTICE = """# The bundled airline environment: source, licence and how it was built

`{snapshot}` is built by `scripts/build_agent_env.py` from the tau-bench airline environment
(`airline_env/` of the public data sets; source and commit in `SOURCE.txt`) and rebuilds byte for byte.
It is the state the simulated agent tools of `deploysim/agents/` read: {users} users, {reservations}
reservations and {flights} flights with their per-date status, seats and prices.

Licence: MIT (`LICENSE`, copied unchanged). Attribution: tau-bench by Sierra (Yao, Shinn, Razavi and
Narasimhan, 2024, "τ-bench: A Benchmark for Tool-Agent-User Interaction in Real-World Domains").

## What changed from the source

- Per-date timings (actual and estimated departure and arrival) are dropped on the days when no flight at
  all can be booked ({dropped_days} of {days} days); those days keep their status, which is all a tool
  reads there. Days with a bookable flight are kept whole, because the one-stop search prints a second
  leg's record for the first leg's date.
- Nothing else: records keep the source's values and key order (the tools print records in that order),
  written as compact JSON in one gzip member with mtime 0.

The customers in it (names, addresses, e-mail addresses, dates of birth, payment methods) are synthetic.
"""


def build(shared: Path, out: Path) -> dict[str, Any]:
    source = shared / "tau_bench"
    tables = load_source_tables(source / "airline_env")
    tables["flights"] = compact_flights(tables["flights"])
    out.mkdir(parents=True, exist_ok=True)
    (out / SNAPSHOT).write_bytes(snapshot_bytes(tables))
    shutil.copyfile(source / "LICENSE", out / "LICENSE")
    shutil.copyfile(source / "SOURCE.txt", out / "SOURCE.txt")
    days = {day for flight in tables["flights"].values() for day in flight["dates"]}
    dropped = {
        day
        for day in days
        if all(
            set(flight["dates"].get(day, {"status": ""})) == {"status"}
            for flight in tables["flights"].values()
        )
    }
    counts = {name: len(tables[name]) for name in ("users", "reservations", "flights")}
    notice = NOTICE.format(snapshot=SNAPSHOT, dropped_days=len(dropped), days=len(days), **counts)
    (out / "NOTICE.md").write_text(notice, encoding="utf-8")
    return {**counts, "bytes": (out / SNAPSHOT).stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/agent"))
    args = parser.parse_args()
    counts = build(args.shared, args.out)
    print(
        f"wrote {counts['users']} users, {counts['reservations']} reservations and {counts['flights']} "
        f"flights ({counts['bytes']:,} bytes) to {args.out / SNAPSHOT}"
    )


if __name__ == "__main__":
    main()
