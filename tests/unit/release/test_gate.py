import pandas as pd
import pytest

from deploysim.release.gate import (
    CategoryGate,
    EvaluatorEvidence,
    Forecast,
    ReleaseGate,
    SurfaceRate,
    apply_audit_rule,
    judge_category,
    judge_coverage,
    overall_verdict,
)
from deploysim.release.policy import AuditRule, GatePolicy, Thresholds, Verdict, load_policy
from deploysim.release.report import headline, to_markdown
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
    gate = judge_category(_test(30, 5), POLICY.default, POLICY, prior_observed=Forecast(rate_per_100k=2500.0))
    assert gate.verdict is Verdict.BLOCK and gate.direction == "up" and gate.fold_change > 2
    assert gate.significant and "significant increase" in gate.reason
    assert gate.forecasts["persistence"].rate_per_100k == 2500.0 and gate.prior_observed_per_100k == 2500.0


def test_zero_to_one_never_warns():
    # The field case: 0 -> 1 of 98 paired prefixes, "3.00x" smoothed, Fisher p = 1.
    gate = judge_category(_test(1, 0, n=98), POLICY.default, POLICY, prior_observed=None)
    assert gate.fold_change == pytest.approx(3.0) and gate.fisher_p == pytest.approx(1.0)
    assert gate.verdict is Verdict.PASS and gate.reason.startswith("no evidence of change")


def test_large_but_insignificant_increase_is_no_evidence_of_change():
    gate = judge_category(_test(3, 1), POLICY.default, POLICY, prior_observed=None)
    assert gate.verdict is Verdict.PASS and "no evidence of change" in gate.reason and not gate.significant


def test_a_real_significant_rise_warns_and_a_larger_one_blocks():
    warn = judge_category(_test(70, 40, n=400, both=30), POLICY.default, POLICY, prior_observed=None)
    assert warn.significant and 1.5 <= warn.fold_change < 2.0
    assert warn.verdict is Verdict.WARN and "significant increase" in warn.reason
    block = judge_category(_test(90, 40, n=400, both=30), POLICY.default, POLICY, prior_observed=None)
    assert block.verdict is Verdict.BLOCK


def test_a_significant_fall_passes():
    gate = judge_category(_test(2, 20), POLICY.default, POLICY, prior_observed=None)
    assert gate.significant and gate.direction == "down"
    assert gate.verdict is Verdict.PASS and gate.reason.startswith("significant decrease")


def test_a_significant_rise_below_the_absolute_minimum_passes():
    # 0.5% -> 1.5% on 4,000 prefixes: 3x and significant, but only +1,000 per 100k; the policy asks 2,000.
    strict = Thresholds(warn_fold_increase=1.5, block_fold_increase=2.0, min_abs_change_per_100k=2000)
    gate = judge_category(_test(60, 20, n=4000), strict, POLICY, prior_observed=None)
    assert gate.significant and gate.fold_change > 2.5
    assert gate.verdict is Verdict.PASS and "small increase" in gate.reason
    assert judge_category(_test(60, 20, n=4000), POLICY.default, POLICY, prior_observed=None).verdict is (
        Verdict.BLOCK
    )


def test_a_significant_rise_below_the_warn_fold_passes():
    gate = judge_category(_test(300, 240, n=1000, both=200), POLICY.default, POLICY, prior_observed=None)
    assert gate.significant and gate.fold_change < 1.5
    assert gate.verdict is Verdict.PASS and "small increase" in gate.reason


def test_no_change_passes():
    gate = judge_category(_test(5, 5, both=5), POLICY.default, POLICY, prior_observed=None)
    assert gate.verdict is Verdict.PASS and gate.reason == "no change"


def test_too_few_pairs_cannot_pass():
    gate = judge_category(_test(0, 0, n=10), POLICY.default, POLICY, prior_observed=None)
    assert gate.verdict is Verdict.WARN and "shared prefixes" in gate.reason


def test_overall_verdict_is_the_worst_and_markdown_shows_every_category_and_surface():
    block = judge_category(_test(30, 5), POLICY.default, POLICY, prior_observed=None)
    ok = judge_category(_test(5, 5), POLICY.default, POLICY, prior_observed=None)
    full = judge_coverage(200, 200, 200, [], POLICY)
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
    )
    markdown = to_markdown(report)
    assert "**BLOCK**" in markdown and markdown.count("| refusal |") == 3 and "policy version 7" in markdown
    assert (
        "| refusal | chat | 15,000 [8,000, 26,000] (60) | not replayed | 2,500 [400, 13,000] (40) |"
        in markdown
    )


def test_a_control_that_misses_part_of_the_traffic_warns():
    partial = judge_coverage(120, 120, 88, ["chat"], POLICY)
    assert partial.verdict is Verdict.WARN and "88 of the candidate's 120" in partial.reason
    assert "surface chat" in partial.reason
    ok = judge_category(_test(5, 5), POLICY.default, POLICY, prior_observed=None)
    assert overall_verdict([ok], partial) is Verdict.WARN
    assert judge_coverage(100, 100, 90, [], POLICY).verdict is Verdict.PASS


def test_a_candidate_that_answered_too_little_is_an_error_that_outranks_every_other_verdict():
    """An endpoint that was down must never read as a pass or a warning on nothing."""
    nothing = judge_coverage(120, 0, 0, [], POLICY)
    assert nothing.verdict is Verdict.ERROR and "answered 0 of 120" in nothing.reason
    assert overall_verdict([], nothing) is Verdict.ERROR
    partly = judge_coverage(120, 90, 90, [], POLICY)
    assert partly.verdict is Verdict.ERROR and "75% < 80%" in partly.reason
    block = judge_category(_test(30, 5), POLICY.default, POLICY, prior_observed=None)
    assert overall_verdict([block], partly) is Verdict.ERROR
    assert judge_coverage(120, 96, 96, [], POLICY).verdict is Verdict.PASS
    gate = ReleaseGate(
        candidate="c", prior="p", policy_version=6, verdict=overall_verdict([], nothing), categories=[],
        coverage=nothing, surface_rates=[],
    )  # fmt: skip
    assert headline(gate).startswith("**ERROR** for c against its prior p: the simulation is incomplete")


def test_bundled_policy_loads():
    policy = load_policy(DATA_DIR / "gate_policy.yaml")
    assert policy.alpha == 0.1
    assert policy.for_category("unknown") == policy.default


def test_benjamini_hochberg_can_turn_a_lone_significant_result_into_no_evidence():
    policy = load_policy(DATA_DIR / "gate_policy.yaml")
    assert policy.benjamini_hochberg
    test = ChangeTest("x", 100, 20, 8, 2.9, 0.04, 14, 2, 0.004, 0.1)
    raw = judge_category(
        test, policy.default, policy.model_copy(update={"benjamini_hochberg": False}), prior_observed=None
    )
    adjusted = judge_category(
        test, policy.default, policy, prior_observed=None, fisher_p_bh=0.3, mcnemar_p_bh=0.12
    )
    assert raw.verdict == Verdict.BLOCK
    # 2.5x up, but no longer significant after the adjustment: no evidence of change.
    assert adjusted.verdict == Verdict.PASS and adjusted.reason.startswith("no evidence of change")


def test_gate_reports_four_forecasts_and_fidelity():
    policy = load_policy(DATA_DIR / "gate_policy.yaml")
    test = ChangeTest("refusal", 200, 10, 10, 1.0, 1.0, 0, 0, 1.0, 0.1)
    ratio = Forecast(rate_per_100k=2_400.0, ci_per_100k=(1_000.0, 5_000.0))
    gate = judge_category(
        test,
        policy.default,
        policy,
        prior_observed=Forecast(rate_per_100k=2_500.0, ci_per_100k=(2_000.0, 3_000.0)),
        production_count=5,
        ratio=ratio,
        calibration_factor=0.5,
    )
    assert set(gate.forecasts) == {"raw", "ratio", "calibrated", "persistence"}
    assert (
        gate.fidelity_fold_error == pytest.approx((10.5 / 201) / (5.5 / 201)) and gate.fidelity_note is None
    )
    assert gate.forecasts["raw"].rate_per_100k == pytest.approx(5_000.0)
    assert gate.forecasts["calibrated"].rate_per_100k == pytest.approx(2_500.0)
    low, high = gate.forecasts["raw"].ci_per_100k
    assert gate.forecasts["calibrated"].ci_per_100k == pytest.approx((low / 2, high / 2))
    assert gate.forecasts["ratio"] == ratio


def test_fidelity_of_an_archive_replay_is_reported_as_not_informative():
    policy = load_policy(DATA_DIR / "gate_policy.yaml")
    test = ChangeTest("refusal", 200, 10, 10, 1.0, 1.0, 0, 0, 1.0, 0.1)
    note = "not informative (archive replay)"
    gate = judge_category(
        test, policy.default, policy, prior_observed=None, production_count=10, fidelity_note=note
    )
    assert gate.fidelity_fold_error is None and gate.fidelity_note == note
    gate_report = ReleaseGate(
        candidate="c", prior="p", policy_version=5, verdict=Verdict.PASS, categories=[gate],
        coverage=judge_coverage(200, 200, 200, [], policy), surface_rates=[],
    )  # fmt: skip
    markdown = to_markdown(gate_report)
    row = next(line for line in markdown.splitlines() if line.startswith("| refusal |"))
    assert [cell.strip() for cell in row.split("|")][4] == note


def test_the_report_opens_with_one_sentence_verdict_and_why():
    block = judge_category(_test(30, 5), POLICY.default, POLICY, prior_observed=None)
    noise = judge_category(_test(1, 0, n=98), POLICY.default, POLICY, prior_observed=None)
    full = judge_coverage(200, 200, 200, [], POLICY)
    blocked = ReleaseGate(
        candidate="c", prior="p", policy_version=7, verdict=overall_verdict([block, noise], full),
        categories=[block, noise], coverage=full, surface_rates=[],
    )  # fmt: skip
    first = to_markdown(blocked).splitlines()[0]
    assert first == headline(blocked)
    assert first.startswith("**BLOCK** for c against its prior p: refusal: significant increase")
    assert first.endswith(".") and first.count(". ") == 0
    passing = blocked.model_copy(update={"verdict": Verdict.PASS, "categories": [noise]})
    assert headline(passing).startswith("**PASS** for c against its prior p: no behaviour rose")
    assert "no evidence of change" in to_markdown(passing)


def _blocked() -> CategoryGate:
    gate = judge_category(_test(40, 5), POLICY.default, POLICY, prior_observed=None)
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
