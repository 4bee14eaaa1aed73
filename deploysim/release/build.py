"""The gate of one partition, assembled from what its earlier stages wrote: change tests, rates per arm
and surface, the backtest, the prior control's coverage and the eval-awareness verdict."""

from __future__ import annotations

import duckdb
import pandas as pd

from deploysim.core.arms import Arm
from deploysim.release.examples import paired_examples
from deploysim.release.gate import (
    EvaluatorEvidence,
    Forecast,
    ReleaseGate,
    SurfaceRate,
    apply_audit_rule,
    judge_category,
    judge_coverage,
    overall_verdict,
)
from deploysim.release.policy import GatePolicy
from deploysim.stats import calibration
from deploysim.stats.backtest import summarize
from deploysim.stats.intervals import wilson
from deploysim.stats.rates import PER, ChangeTest


def _number(value: object) -> float | None:
    return None if value is None or value != value else float(value)  # type: ignore[arg-type]


def _pair(low: object, high: object) -> tuple[float, float] | None:
    low_value, high_value = _number(low), _number(high)
    return None if low_value is None or high_value is None else (low_value, high_value)


#: Above this share of the prior's replies being, word for word, what production served after the same
#: prefix, an archive replay is the production record itself and fidelity cannot fail.
ARCHIVE_ECHO_SHARE = 0.5


def _ratio_forecasts(
    con: duckdb.DuckDBPyConnection, partition_key: str
) -> dict[str, tuple[Forecast, Forecast]]:
    """Per category, over all surfaces: the ratio forecast, and the prior's observed rate over the whole
    window with its Wilson interval (the persistence forecast)."""
    rows = con.execute(
        "SELECT category, ratio_per_100k, ratio_low_per_100k, ratio_high_per_100k, observed_count, "
        "observed_n FROM forecasts WHERE partition_key = ? AND surface = '*'",
        [partition_key],
    ).fetchall()
    forecasts = {}
    for category, rate, low, high, count, n in rows:
        observed_low, observed_high = wilson(count, n)
        observed = Forecast(
            rate_per_100k=count / n * PER, ci_per_100k=(observed_low * PER, observed_high * PER)
        )
        forecasts[category] = (Forecast(rate_per_100k=rate, ci_per_100k=(low, high)), observed)
    return forecasts


def archive_fidelity_note(con: duckdb.DuckDBPyConnection, partition_key: str) -> str | None:
    """Why fidelity says nothing, or None: the prior arm was replayed from an archive whose replies are
    mostly the very answers production served after the same prefixes."""
    endpoint = con.execute(
        "SELECT endpoint FROM model_usage WHERE partition_key = ? AND arm = ?", [partition_key, Arm.PRIOR]
    ).fetchone()
    if not endpoint or not str(endpoint[0]).startswith("archive:"):
        return None
    # Placeholders are numbered per text, so <PERSON_2> in one copy may be <PERSON_1> in the other.
    unnumbered = r"regexp_replace(trim({}), '<([A-Z_]+)_[0-9]+>', '<\1>', 'g')"
    reply, served = unnumbered.format("r.content"), unnumbered.format("p.production_response ->> 'content'")
    same, replied = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE {reply} = {served}), count(*)
        FROM regenerations r JOIN prefixes p USING (partition_key, conversation_id)
        WHERE r.partition_key = ? AND r.arm = ? AND r.status = 'ok'
        """,
        [partition_key, Arm.PRIOR],
    ).fetchone()
    if not replied or same / replied < ARCHIVE_ECHO_SHARE:
        return None
    return f"not informative (archive replay: {same} of {replied} prior replies are what production served)"


def build_gate(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    prior_version: str,
    policy: GatePolicy,
    chain: str,
) -> ReleaseGate:
    """The gate from what the partition's earlier stages wrote: change tests, forecasts, rates, backtest,
    probe. `chain` names the release chain whose backtest calibrates the forecast."""
    tests = con.execute(
        "SELECT * EXCLUDE (partition_key) FROM change_tests WHERE partition_key = ? ORDER BY category",
        [partition_key],
    ).df()
    backtest = con.execute("SELECT * FROM backtest WHERE partition_key = ?", [partition_key]).df()
    # Per-category factors fit on every past release of this chain, to calibrate this forecast.
    factors = calibration.factors(backtest, chain) if len(backtest) else {}
    ratios = _ratio_forecasts(con, partition_key)
    fidelity_note = archive_fidelity_note(con, partition_key)
    evidence = evaluator_evidence(con, partition_key, policy)
    categories = []
    for row in tests.to_dict("records"):
        production_count = int(row.pop("production_count"))
        fisher_p_bh, mcnemar_p_bh = row.pop("fisher_p_bh", None), row.pop("mcnemar_p_bh", None)
        test = ChangeTest(**{**row, "alpha": policy.alpha})
        ratio, observed = ratios.get(test.category, (None, None))
        judged = judge_category(
            test,
            policy.for_category(test.category),
            policy,
            prior_observed=observed,
            # What production served after the same prefixes: the simulation's fidelity reference.
            production_count=production_count,
            ratio=ratio,
            calibration_factor=factors.get(test.category),
            fisher_p_bh=_number(fisher_p_bh),
            mcnemar_p_bh=_number(mcnemar_p_bh),
            fidelity_note=fidelity_note,
        )
        unknown = EvaluatorEvidence(validated=False, validation="no validation recorded")
        categories.append(apply_audit_rule(judged, evidence.get(test.category, unknown), policy))
    (attempted,) = con.execute(
        "SELECT count(*) FROM regenerations WHERE partition_key = ? AND arm = ?",
        [partition_key, Arm.CANDIDATE],
    ).fetchone()
    answered, paired = con.execute(
        """
        SELECT count(*) FILTER (WHERE c.status = 'ok'),
               count(*) FILTER (WHERE c.status = 'ok' AND p.status = 'ok')
        FROM regenerations c JOIN regenerations p USING (partition_key, conversation_id)
        WHERE c.partition_key = ? AND c.arm = ? AND p.arm = ?
        """,
        [partition_key, Arm.CANDIDATE, Arm.PRIOR],
    ).fetchone()
    uncovered = [
        surface
        for (surface,) in con.execute(
            """
            SELECT s.surface FROM regenerations r JOIN prefixes s USING (partition_key, conversation_id)
            WHERE r.partition_key = ? AND r.arm = ? GROUP BY s.surface
            HAVING count(*) FILTER (WHERE r.status = 'ok') = 0 ORDER BY 1
            """,
            [partition_key, Arm.PRIOR],
        ).fetchall()
    ]
    coverage = judge_coverage(attempted, answered, paired, uncovered, policy)
    surface_rates = [
        SurfaceRate(
            category=row["category"],
            surface=row["surface"],
            arm=row["arm"],
            count=row["count"],
            n=row["n"],
            rate_per_100k=row["rate_per_100k"],
            ci_per_100k=(row["ci_low_per_100k"], row["ci_high_per_100k"]),
            jeffreys_ci_per_100k=_pair(row["jeffreys_low_per_100k"], row["jeffreys_high_per_100k"]),
            rule_of_three_upper_per_100k=_number(row["rule_of_three_upper_per_100k"]),
            corrected_per_100k=_number(row["corrected_per_100k"]),
            corrected_ci_per_100k=_pair(row["corrected_low_per_100k"], row["corrected_high_per_100k"]),
        )
        for row in con.execute(
            """
            SELECT category, surface, arm, count, n, rate_per_100k, ci_low_per_100k, ci_high_per_100k,
                   jeffreys_low_per_100k, jeffreys_high_per_100k, rule_of_three_upper_per_100k,
                   corrected_per_100k, corrected_low_per_100k, corrected_high_per_100k
            FROM behavior_rates WHERE partition_key = ? ORDER BY category, surface, arm
            """,
            [partition_key],
        )
        .df()
        .to_dict("records")
    ]
    awareness = con.execute(
        "SELECT verdict, summary FROM eval_awareness_verdicts WHERE partition_key = ?", [partition_key]
    ).fetchone()
    gate = ReleaseGate(
        candidate=partition_key,
        prior=prior_version,
        policy_version=policy.policy_version,
        verdict=overall_verdict(categories, coverage),
        categories=categories,
        coverage=coverage,
        surface_rates=surface_rates,
        backtest=summarize(backtest),
        # What changed, shown: paired examples of every category whose rate moved.
        examples=paired_examples(
            con, partition_key, categories=[c.category for c in categories if c.direction != "flat"]
        ),
        eval_awareness=awareness[0] if awareness else None,
        eval_awareness_summary=awareness[1] if awareness else None,
    )
    return gate


def save_gate(con: duckdb.DuckDBPyConnection, gate: ReleaseGate, markdown: str) -> None:
    con.execute("DELETE FROM release_gates WHERE partition_key = ?", [gate.candidate])
    con.execute(
        "INSERT INTO release_gates VALUES (?, ?, ?, ?)",
        [gate.candidate, gate.verdict.value, gate.model_dump_json(), markdown],
    )


def load_backtest(con: duckdb.DuckDBPyConnection, partition_key: str) -> pd.DataFrame:
    return con.execute("SELECT * FROM backtest WHERE partition_key = ?", [partition_key]).df()


def evaluator_evidence(
    con: duckdb.DuckDBPyConnection, partition_key: str, policy: GatePolicy
) -> dict[str, EvaluatorEvidence]:
    """Per category: the grading evaluator's pooled held-out validation, and this release's audit if any."""
    rows = con.execute(
        """
        WITH graded AS (
            SELECT DISTINCT category, evaluator, evaluator_version FROM behavior_rates
            WHERE partition_key = $1 AND arm = $2
        ), held_out AS (
            SELECT category, evaluator, evaluator_version, n, agreement, precision FROM evaluator_validation
            WHERE fold_kind = 'pooled' AND scope = 'held_out' AND NOT weak_labels
        ), audited AS (
            SELECT category, correction_source, corrected_per_100k, corrected_low_per_100k,
                   corrected_high_per_100k
            FROM behavior_rates
            WHERE partition_key = $1 AND arm = $2 AND surface = '*' AND correction_source LIKE 'audit:%'
        )
        SELECT g.category, h.n, h.agreement, h.precision, a.correction_source, a.corrected_per_100k,
               a.corrected_low_per_100k, a.corrected_high_per_100k
        FROM graded g
        LEFT JOIN held_out h USING (category, evaluator, evaluator_version)
        LEFT JOIN audited a USING (category)
        """,
        [partition_key, Arm.CANDIDATE],
    ).fetchall()
    rule = policy.audit
    evidence = {}
    for category, n, agreement, precision, source, corrected, low, high in rows:
        if n is None:
            validated, note = False, "no held-out human labels"
        else:
            validated = (agreement or 0) >= rule.min_heldout_agreement and (
                precision or 0
            ) >= rule.min_heldout_precision
            note = f"held-out agreement {agreement:.2f}, precision {_ratio(precision)} on {n} responses"
        audit_id = source.removeprefix("audit:") if source else None
        evidence[category] = EvaluatorEvidence(
            validated=validated,
            validation=note,
            audit_id=audit_id,
            audit_corrected_per_100k=_number(corrected),
            audit_ci_per_100k=_pair(low, high),
        )
    return evidence


def _ratio(value: object) -> str:
    number = _number(value)
    return "n/a" if number is None else f"{number:.2f}"
