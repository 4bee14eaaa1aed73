import gzip
from collections.abc import Sequence
from pathlib import Path

import pytest
from statsmodels.stats.proportion import proportion_confint

from deploysim.core.grading import Grade, GradeItem
from deploysim.evaluation.labelled_sets import (
    benign_cases,
    hh_pairs,
    jailbreakbench_cases,
    presidio_cases,
    xstest_cases,
)
from deploysim.evaluation.validation import HELD_OUT, IN_SAMPLE, binary_agreement, scope_of, validate
from evaluators.registry import load_evaluators
from orchestration.settings import DATA_DIR

VALIDATION = DATA_DIR / "validation"


def test_binary_agreement_counts_and_wilson_intervals():
    predicted = [True, True, False, False, True, False, False, False]
    truth = [True, False, False, True, True, False, False, False]
    result = binary_agreement(predicted, truth)
    assert (result.tp, result.fp, result.fn, result.tn) == (2, 1, 1, 4)
    assert result.agreement.value == 6 / 8
    assert (
        result.precision.value == 2 / 3
        and result.sensitivity.value == 2 / 3
        and result.specificity.value == 4 / 5
    )
    low, high = proportion_confint(6, 8, alpha=0.05, method="wilson")
    assert (result.agreement.low, result.agreement.high) == pytest.approx((low, high))
    assert binary_agreement([False], [False]).precision.value is None  # no positive calls: undefined


def test_xstest_truth_combines_the_human_label_with_the_prompt_type():
    cases = xstest_cases(VALIDATION / "xstest_completions.jsonl.gz")
    assert len(cases) == 1350 and {c.model for c in cases} == {"gpt4", "llama2orig", "mistralinstruct"}
    kill_python = next(c for c in cases if c.item.item_id == "gpt4:001")
    assert "Python process" in kill_python.item.last_user_message
    assert kill_python.truth == {"refusal": False, "over_refusal": False, "harmful_compliance": False}
    assert (
        sum(c.truth["over_refusal"] for c in cases) > 0
        and sum(c.truth["harmful_compliance"] for c in cases) > 0
    )
    assert not any(c.truth["over_refusal"] and c.truth["harmful_compliance"] for c in cases)
    assert not any(c.weak for c in cases)


def test_each_source_is_used_for_what_its_labels_honestly_are():
    jbb = jailbreakbench_cases(VALIDATION / "jailbreakbench.jsonl.gz")
    assert len({c.model for c in jbb}) >= 3 and all(
        c.weak and set(c.truth) == {"harmful_compliance"} for c in jbb
    )
    assert 0 < sum(c.truth["harmful_compliance"] for c in jbb) < len(jbb)
    benign = benign_cases(VALIDATION / "benign_answers.jsonl.gz")
    assert {c.source for c in benign} == {"alpaca_eval", "arena_hard", "oasst"}
    assert all(c.weak and c.truth == {"harmful_compliance": False} for c in benign)
    pairs = hh_pairs(VALIDATION / "hh_rlhf_pairs.jsonl.gz")
    assert len(pairs) > 2000 and all(p.safer.response != p.more_harmful.response for p in pairs)
    presidio = presidio_cases(VALIDATION / "presidio_research_dev.jsonl.gz")
    assert len(presidio) == 750 and all(c.item.prefix == [] for c in presidio)
    assert 0 < sum(c.truth["pii_leakage"] for c in presidio) < 750


class _Echo:
    """Flags a response when it says "flag"; declares which data it was written on."""

    name = "echo"
    version = "1"
    categories = ("refusal",)

    def __init__(self, developed_on: frozenset[str] | None) -> None:
        if developed_on is not None:
            self.developed_on = developed_on

    def grade(self, items: Sequence[GradeItem]) -> list[Grade]:
        return [Grade(item_id=i.item_id, category="refusal", label="flag" in i.response) for i in items]


def test_a_fold_is_held_out_only_if_nothing_of_it_was_read():
    written_on_gpt4 = _Echo(frozenset({"xstest/gpt4"}))
    assert scope_of(written_on_gpt4, "xstest", "gpt4") == IN_SAMPLE
    assert scope_of(written_on_gpt4, "xstest", "llama2orig") == HELD_OUT
    # A data-set fold holds gpt4's rows too, so it is in-sample.
    assert scope_of(written_on_gpt4, "xstest") == IN_SAMPLE
    assert scope_of(_Echo(frozenset({"xstest"})), "xstest", "llama2orig") == IN_SAMPLE
    # Unknown provenance is never reported as validation.
    assert scope_of(_Echo(None), "xstest", "llama2orig") == IN_SAMPLE


def test_validation_reports_held_out_model_folds_pooled_and_in_sample_apart():
    table = validate([_Echo(frozenset({"xstest/mistralinstruct"}))], VALIDATION)
    models = table[table["fold_kind"] == "model"].set_index("subset")
    assert models.loc["mistralinstruct", "scope"] == IN_SAMPLE
    assert models.loc["gpt4", "scope"] == models.loc["llama2orig", "scope"] == HELD_OUT
    pooled = table[(table["fold_kind"] == "pooled") & (table["scope"] == HELD_OUT)].iloc[0]
    assert pooled["n"] == models.loc["gpt4", "n"] + models.loc["llama2orig", "n"] == 900
    assert pooled["tp"] == models.loc["gpt4", "tp"] + models.loc["llama2orig", "tp"]
    source = table[table["fold_kind"] == "source"].iloc[0]
    assert source["subset"] == "xstest" and source["scope"] == IN_SAMPLE and source["n"] == 1350


def test_refusal_is_validated_on_models_its_rules_were_never_written_on():
    [refusal] = load_evaluators(["refusal"])
    table = validate([refusal], VALIDATION)
    held_out = table[(table["fold_kind"] == "model") & (table["scope"] == HELD_OUT)]
    assert set(held_out["subset"]) == {"gpt4", "llama2orig"}
    assert all(held_out["agreement_low"] <= held_out["agreement"])
    # The rules' version-3 adjustments were written reading mistral's completions: never validation.
    assert table[(table["subset"] == "mistralinstruct")]["scope"].tolist() == [IN_SAMPLE]


@pytest.fixture(scope="module")
def every_tenth_case(tmp_path_factory) -> Path:
    """The bundled sets cut to every tenth row: every source and model, a tenth of the grading time."""
    folder = tmp_path_factory.mktemp("validation")
    for path in VALIDATION.glob("*.jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as source, gzip.open(folder / path.name, "wt") as cut:
            cut.writelines(line for i, line in enumerate(source) if i % 10 == 0)
    return folder


def test_harmful_compliance_is_checked_pairwise_on_hh_and_against_benign_traffic(every_tenth_case):
    [evaluator] = load_evaluators(["harmful_compliance"])
    table = validate([evaluator], every_tenth_case)
    pairwise = table[table["fold_kind"] == "pairwise"].iloc[0]
    assert pairwise["dataset"] == "hh_rlhf" and pairwise["n"] == pairwise["tp"] + pairwise["fn"]
    benign = table[(table["fold_kind"] == "source") & table["dataset"].isin(["arena_hard", "oasst"])]
    assert set(benign["scope"]) == {HELD_OUT} and all(benign["tp"] == 0)
