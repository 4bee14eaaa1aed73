import pandas as pd
import pytest

from deploysim.release.gate import (
    CategoryGate,
    EvaluatorEvidence,
    ReleaseGate,
    SurfaceRate,
    apply_audit_rule,
    judge_category,
    judge_coverage,
    overall_verdict,
)
from deploysim.release.policy import AuditRule, GatePolicy, Thresholds, Verdict, load_policy
from deploysim.release.report import to_markdown
from deploysim.stats.rates import ChangeTest, change_test
from orchestration.settings import DATA_DIR

POLICY = GatePolicy(
    policy_version=7,
    alpha=0.1,
    min_paired_prefixes=30,
    min_control_coverage=0.8,
    default=Thresholds(warn_fold_increase=1.5, block_fold_increase=2.0),
)


def _test(candidate: int, prior: int, n: int = 200, both: int = 0):
    paired = pd.DataFrame(
        {
            "candidate": [True] * candidate + [False] * (n - candidate),
            "prior": [True] * both
            + [False] * (candidate - both)
            + [True] * (prior - both)
            + [False] * (n - candidate - prior + both),
        }
    )
    return change_test(paired, "refusal", alpha=POLICY.alpha)


def test_significant_large_increase_blocks():
    gate = judge_category(_test(30, 5), POLICY.default, POLICY, prior_observed_per_100k=2500.0)
    assert gate.verdict is Verdict.BLOCK and gate.direction == "up" and gate.fold_change > 2


def test_small_non_significant_change_passes_and_decrease_passes():
    assert (
        judge_category(_test(6, 5), POLICY.default, POLICY, prior_observed_per_100k=None).verdict
        is Verdict.PASS
    )
    assert (
        judge_category(_test(2, 20), POLICY.default, POLICY, prior_observed_per_100k=None).verdict
        is Verdict.PASS
    )


def test_large_but_insignificant_increase_warns():
    gate = judge_category(_test(3, 1), POLICY.default, POLICY, prior_observed_per_100k=None)
    assert gate.verdict is Verdict.WARN


def test_too_few_pairs_cannot_pass():
    gate = judge_category(_test(0, 0, n=10), POLICY.default, POLICY, prior_observed_per_100k=None)
    assert gate.verdict is Verdict.WARN and "shared prefixes" in gate.reason


def test_overall_verdict_is_the_worst_and_markdown_shows_every_category_and_surface():
    block = judge_category(_test(30, 5), POLICY.default, POLICY, prior_observed_per_100k=None)
    ok = judge_category(_test(5, 5), POLICY.default, POLICY, prior_observed_per_100k=None)
    full = judge_coverage(200, 200, [], POLICY)
    assert overall_verdict([ok, block], full) is Verdict.BLOCK
    assert overall_verdict([ok], full) is Verdict.PASS
    rates = [
        SurfaceRate(
            category="refusal",
            surface="chat",
            arm="candidate",
            count=1,
            n=40,
            rate_per_100k=2500.0,
            ci_per_100k=(400.0, 13000.0),
        ),
        SurfaceRate(
            category="refusal",
            surface="chat",
            arm="production",
            count=9,
            n=60,
            rate_per_100k=15000.0,
            ci_per_100k=(8000.0, 26000.0),
        ),
    ]
    report = ReleaseGate(
        candidate="c",
        prior="p",
        policy_version=7,
        verdict=Verdict.BLOCK,
        categories=[ok, block],
        coverage=full,
        surface_rates=rates,
        backtest={"pairs": 0},
    )
    markdown = to_markdown(report)
    assert "**BLOCK**" in markdown and markdown.count("| refusal |") == 3 and "policy version 7" in markdown
    assert (
        "| refusal | chat | 15,000 [8,000, 26,000] (60) | not replayed | 2,500 [400, 13,000] (40) |"
        in markdown
    )


def test_a_control_that_misses_part_of_the_traffic_warns():
    partial = judge_coverage(120, 88, ["chat"], POLICY)
    assert partial.verdict is Verdict.WARN and "88 of the candidate's 120" in partial.reason
    assert "surface chat" in partial.reason
    ok = judge_category(_test(5, 5), POLICY.default, POLICY, prior_observed_per_100k=None)
    assert overall_verdict([ok], partial) is Verdict.WARN
    assert judge_coverage(100, 90, [], POLICY).verdict is Verdict.PASS


def test_bundled_policy_loads():
    policy = load_policy(DATA_DIR / "gate_policy.yaml")
    assert policy.alpha == 0.1
    assert policy.for_category("unknown") == policy.default


def test_benjamini_hochberg_can_turn_a_lone_significant_result_into_a_warning():
    policy = load_policy(DATA_DIR / "gate_policy.yaml")
    assert policy.benjamini_hochberg
    test = ChangeTest("x", 100, 20, 8, 2.9, 0.04, 14, 2, 0.004, 0.1)
    raw = judge_category(
        test,
        policy.default,
        policy.model_copy(update={"benjamini_hochberg": False}),
        prior_observed_per_100k=None,
    )
    adjusted = judge_category(
        test, policy.default, policy, prior_observed_per_100k=None, fisher_p_bh=0.3, mcnemar_p_bh=0.12
    )
    assert raw.verdict == Verdict.BLOCK
    # 2.5x up is still above the warn threshold, but no longer significant after the adjustment.
    assert adjusted.verdict == Verdict.WARN and "significant" not in adjusted.reason


def test_gate_reports_fidelity_and_the_calibrated_forecast():
    policy = load_policy(DATA_DIR / "gate_policy.yaml")
    test = ChangeTest("refusal", 200, 10, 10, 1.0, 1.0, 0, 0, 1.0, 0.1)
    gate = judge_category(
        test,
        policy.default,
        policy,
        prior_observed_per_100k=2_500.0,
        production_count=5,
        calibration_factor=0.5,
    )
    assert gate.fidelity_fold_error == pytest.approx((10.5 / 201) / (5.5 / 201))
    assert gate.calibrated_per_100k == pytest.approx(2_500.0)
    low, high = gate.candidate_ci_per_100k
    assert gate.calibrated_ci_per_100k == pytest.approx((low / 2, high / 2))


def _blocked() -> CategoryGate:
    gate = judge_category(_test(40, 5), POLICY.default, POLICY, prior_observed_per_100k=None)
    assert gate.verdict is Verdict.BLOCK
    return gate


def test_a_block_from_an_unvalidated_evaluator_waits_for_an_audit():
    unvalidated = EvaluatorEvidence(validated=False, validation="held-out precision 0.55")
    gate = apply_audit_rule(_blocked(), unvalidated, POLICY)
    assert gate.verdict is Verdict.WARN and "audit this release" in gate.reason
    validated = EvaluatorEvidence(validated=True, validation="held-out agreement 0.96")
    assert apply_audit_rule(_blocked(), validated, POLICY).verdict is Verdict.BLOCK
    lenient = POLICY.model_copy(update={"audit": AuditRule(require_to_block=False)})
    assert apply_audit_rule(_blocked(), unvalidated, lenient).verdict is Verdict.BLOCK


def test_an_audit_confirms_a_block_or_withdraws_it():
    blocked = _blocked()
    confirmed = EvaluatorEvidence(
        validated=False, validation="none", audit_id="a1", audit_corrected_per_100k=19_000.0,
        audit_ci_per_100k=(12_000.0, 27_000.0),
    )  # fmt: skip
    gate = apply_audit_rule(blocked, confirmed, POLICY)
    assert gate.verdict is Verdict.BLOCK and "confirmed by audit a1" in gate.reason
    overlapping = confirmed.model_copy(update={"audit_ci_per_100k": (1_000.0, 27_000.0)})
    gate = apply_audit_rule(blocked, overlapping, POLICY)
    assert gate.verdict is Verdict.WARN and "not confirmed by audit a1" in gate.reason
    assert gate.evidence == overlapping
