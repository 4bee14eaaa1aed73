"""Replay tau-bench's 200 recorded gpt-4o airline trajectories through the simulated tool layer.

    python benchmarks/connector_fidelity.py --shared ../shared/data [--examples N]

Each trajectory runs in its own rollout over the bundled snapshot, its writes applied to the rollout's
overlay in recorded order. Prints the share of read-only calls whose output equals the recorded output
(canonicalised as in ``deploysim/agents/canonical.py``; also the share equal byte for byte), the same for
writes, and every mismatch class with a count and examples.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from deploysim.agents import BUNDLED_SNAPSHOT
from deploysim.agents.canonical import RENAMED_KEYS
from deploysim.agents.fidelity import FidelityReport, replay
from deploysim.agents.simulator import ToolLayer
from deploysim.agents.snapshot import load_snapshot
from deploysim.agents.trajectories import load_trajectories
from deploysim.agents.writes import WRITES

TRAJECTORIES = Path("tau_bench") / "historical_trajectories" / "gpt-4o-airline.json"


def run(
    shared: Path, snapshot: Path = BUNDLED_SNAPSHOT, renames: Mapping[str, str] = RENAMED_KEYS
) -> FidelityReport:
    return replay(load_trajectories(shared / TRAJECTORIES), ToolLayer(load_snapshot(snapshot)), renames)


def _print(report: FidelityReport, examples: int) -> None:
    print(
        f"read-only calls: {report.reads_matched}/{report.reads} match ({report.read_rate:.1%}); "
        f"byte for byte {report.reads_exact}/{report.reads} ({report.reads_exact / report.reads:.1%})"
    )
    print(
        f"  of which read the rollout's own earlier writes (provenance overlay): "
        f"{report.reads_overlay_matched}/{report.reads_overlay}"
    )
    for tool, total in sorted(report.by_tool.items()):
        print(f"  {tool:<26} {report.matched_by_tool[tool]:>4}/{total:<4}")
    print(
        f"write calls: {report.writes_matched}/{report.writes} match ({report.write_rate:.1%}); "
        f"{report.writes_needing_overlay} of them match only with the trajectory's earlier writes applied"
    )
    for label, writes in (("read-only", False), ("write", True)):
        classes = report.classes(writes=writes)
        print(f"{label} mismatch classes: {sum(classes.values())}")
        for kind, count in classes.most_common():
            print(f"  {count:>4}  {kind}")
            shown = [m for m in report.mismatches if m.kind == kind and (m.tool in WRITES) == writes][
                :examples
            ]
            for mismatch in shown:
                print(
                    f"        {mismatch.source}, call {mismatch.position}, {mismatch.tool}: {mismatch.detail}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--snapshot", type=Path, default=BUNDLED_SNAPSHOT)
    parser.add_argument("--examples", type=int, default=2, help="examples printed per mismatch class")
    args = parser.parse_args()
    report = run(args.shared, args.snapshot)
    _print(report, args.examples)
    strict = run(args.shared, args.snapshot, renames={})
    renamed = ", ".join(f"{old} -> {new}" for old, new in RENAMED_KEYS.items())
    print(
        f"without the upstream key rename ({renamed}): read-only {strict.reads_matched}/{strict.reads} "
        f"({strict.read_rate:.1%}), mismatch classes:"
    )
    for kind, count in strict.classes().most_common():
        tools = sorted({m.tool for m in strict.mismatches if m.kind == kind})
        print(f"  {count:>4}  {kind} ({', '.join(tools)}): recorded before upstream renamed the key")


if __name__ == "__main__":
    main()
