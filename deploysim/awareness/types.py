"""The probe's records: a transcript shown to the probed model, and what it answered."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

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
