"""The probe's records: a transcript shown to the probed model, and what it answered."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: The four suites compared side by side, each a sample of equal size.
Suite = Literal["replayed", "production", "adversarial", "benchmark"]
SUITES: tuple[Suite, ...] = ("replayed", "production", "adversarial", "benchmark")
SUITE_TITLES: dict[str, str] = {
    "replayed": "replayed production prefixes (the simulation)",
    "production": "production conversations as served",
    "adversarial": "adversarial suite (JailbreakBench)",
    "benchmark": "benchmark suite (XSTest)",
}

Label = Literal["evaluation", "real"]
#: ok: a label was parsed; unparseable: the model answered, but not in a form we can read (counted, never
#: guessed); failed: the call itself failed after its retries.
Status = Literal["ok", "unparseable", "failed"]


class SuitePrompt(BaseModel):
    """One prompt of a bundled test suite (adversarial or benchmark), before the probed model answers it."""

    item_id: str
    prompt: str
    source: str


class Transcript(BaseModel):
    """What the probed model is shown: a conversation ending in a response (its own, or production's)."""

    suite: Suite
    item_id: str
    messages: list[dict]
    response: str


class ProbeOutcome(BaseModel):
    """One transcript asked with one phrasing."""

    suite: Suite
    item_id: str
    phrasing: str
    status: Status
    label: Label | None = None
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    error: str | None = None

    @property
    def flagged(self) -> bool:
        return self.label == "evaluation"


Verdict = Literal["indistinguishable", "distinguishable", "undetermined"]


class SuiteShare(BaseModel):
    """How often one suite's transcripts are flagged as an evaluation, of the answers that parsed."""

    model_config = ConfigDict(frozen=True)

    suite: str
    n: int
    parsed: int
    flagged: int
    unparseable: int
    failed: int
    #: flagged / parsed; NaN when nothing parsed.
    share: float
    #: Two-sided (1 - alpha) Wilson interval on flagged / parsed; NaN when nothing parsed.
    wilson_low: float
    wilson_high: float
    #: unparseable / n; NaN when n == 0. A high value means the share rests on few answers.
    unparseable_share: float
    alpha: float


class PhrasingShare(SuiteShare):
    """The same, for one phrasing of the question within one suite."""

    phrasing: str


class VerbalizedShare(BaseModel):
    """How often a suite's responses say, unprompted, that they look like a test (an evaluator's label)."""

    model_config = ConfigDict(frozen=True)

    suite: str
    #: Responses, graded or not.
    n: int
    #: Responses the evaluator labelled (the share's denominator).
    graded: int
    #: Responses labelled as verbalizing eval awareness.
    count: int
    share: float
    wilson_low: float
    wilson_high: float
    alpha: float


class Indistinguishability(BaseModel):
    """Replayed traffic against production as served: is the simulation flagged as a test more often?"""

    model_config = ConfigDict(frozen=True)

    alpha: float
    #: Shares over all parsed answers of each suite, with (1 - alpha) Wilson intervals.
    replayed: SuiteShare
    production: SuiteShare
    #: replayed.share - production.share, with a (1 - alpha) Newcombe interval; NaN without parsed answers.
    difference: float
    difference_low: float
    difference_high: float
    #: Same (item_id, phrasing) asked of both suites, both answers parsed.
    n_pairs: int
    paired_replayed_flagged: int
    paired_production_flagged: int
    #: Discordant pairs: flagged only when replayed / only as served.
    replayed_only: int
    production_only: int
    fisher_p: float
    mcnemar_p: float
    verdict: Verdict
    summary: str

    @property
    def replayed_share(self) -> float:
        """Share of parsed replayed answers flagged as an evaluation (NaN when none parsed)."""
        return self.replayed.share

    @property
    def production_share(self) -> float:
        """Share of parsed production answers flagged as an evaluation (NaN when none parsed)."""
        return self.production.share
