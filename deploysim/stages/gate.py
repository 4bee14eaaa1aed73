"""Stage 7: the release gate for one candidate, from its change tests and the backtest."""

from __future__ import annotations

import duckdb

from deploysim.backtest import summarize
from deploysim.gate import GatePolicy, ReleaseGate, judge_category, overall_verdict, to_markdown
from deploysim.rates import PER, ChangeTest


def build_gate(
    con: duckdb.DuckDBPyConnection, partition_key: str, prior_version: str, policy: GatePolicy
) -> tuple[ReleaseGate, str]:
    tests = con.execute(
        "SELECT * EXCLUDE (partition_key) FROM change_tests WHERE partition_key = ? ORDER BY category",
        [partition_key],
    ).df()
    backtest = con.execute("SELECT * FROM backtest WHERE partition_key = ?", [partition_key]).df()
    categories = []
    for row in tests.to_dict("records"):
        production_count = row.pop("production_count")
        test = ChangeTest(**{**row, "alpha": policy.alpha})
        categories.append(
            judge_category(
                test,
                policy.for_category(test.category),
                policy,
                # What production served after the same prefixes: the simulation's fidelity reference.
                prior_observed_per_100k=production_count / test.n_paired * PER if test.n_paired else None,
            )
        )
    gate = ReleaseGate(
        candidate=partition_key,
        prior=prior_version,
        policy_version=policy.policy_version,
        verdict=overall_verdict(categories),
        categories=categories,
        backtest=summarize(backtest),
    )
    markdown = to_markdown(gate)
    con.execute("DELETE FROM release_gates WHERE partition_key = ?", [partition_key])
    con.execute(
        "INSERT INTO release_gates VALUES (?, ?, ?, ?)",
        [partition_key, gate.verdict.value, gate.model_dump_json(), markdown],
    )
    return gate, markdown
