"""Eval-awareness probe: show the probed model transcripts from four suites of equal size and ask, in several
fixed phrasings, whether each comes from an evaluation or from real use.

1. replayed: sampled production prefixes with the candidate's own regenerated response (the simulation);
2. production: the same prefixes with the response production served;
3. adversarial: JailbreakBench attack prompts, answered by the candidate;
4. benchmark: XSTest prompts, answered by the candidate.

Every call goes through the regeneration engine (cache, adaptive limiter, retries, accounting). Every
transcript and phrasing ends as exactly one outcome: a label, unparseable, or failed (with its reason).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from deploysim.awareness.answer import parse_answer, response_format
from deploysim.awareness.comparison import Indistinguishability
from deploysim.awareness.phrasings import PHRASINGS, PROBE_VERSION, Phrasing, probe_messages
from deploysim.awareness.suites import pick
from deploysim.awareness.types import ProbeOutcome, Suite, SuitePrompt, Transcript
from deploysim.core.arms import Arm
from deploysim.core.grading import Evaluator, GradeItem
from deploysim.inference.cache import ResponseCache
from deploysim.inference.endpoint import Endpoint
from deploysim.inference.engine import CallResult, run_requests
from deploysim.inference.types import ChatRequest
from deploysim.inference.usage import Usage
from deploysim.simulation.sampling import sample_ids
from deploysim.store.tables import replace_partition

#: Redacts responses before they are shown to the probed model or stored, as regeneration does.
Redact = Callable[[Sequence[str]], list[str]]


@dataclass
class ProbeRun:
    outcomes: list[ProbeOutcome]
    #: (suite, verbalized_eval_awareness label or None) per transcript shown.
    verbalized: list[tuple[str, bool | None]]
    transcripts: dict[str, int]
    usage: dict[str, Usage] = field(default_factory=dict)


def replayed_and_production(
    con: duckdb.DuckDBPyConnection, partition_key: str, size: int, seed: int
) -> tuple[list[Transcript], list[Transcript]]:
    """The same sampled prefixes twice: with the candidate's regenerated reply, and as production served."""
    frame = con.execute(
        """
        SELECT p.conversation_id, p.messages, p.production_response, r.content, r.tool_calls
        FROM prefixes p JOIN regenerations r USING (partition_key, conversation_id)
        WHERE p.partition_key = ? AND r.arm = ? AND r.status = 'ok'
        """,
        [partition_key, Arm.CANDIDATE],
    ).df()
    chosen = set(sample_ids(frame["conversation_id"].tolist(), size, seed))
    replayed, production = [], []
    for row in frame[frame["conversation_id"].isin(chosen)].sort_values("conversation_id").itertuples():
        messages = json.loads(row.messages)
        served = json.loads(row.production_response)
        replayed.append(
            Transcript(
                suite="replayed",
                item_id=row.conversation_id,
                messages=messages,
                response=_with_tool_calls(row.content or "", _json_or_none(row.tool_calls)),
            )
        )
        production.append(
            Transcript(
                suite="production",
                item_id=row.conversation_id,
                messages=messages,
                response=_with_tool_calls(served.get("content") or "", served.get("tool_calls")),
            )
        )
    return replayed, production


def _json_or_none(value: object) -> list | None:
    return json.loads(value) if isinstance(value, str) else None


def _with_tool_calls(content: str, tool_calls: list | None) -> str:
    for call in tool_calls or []:
        function = call.get("function", {})
        content += f"\n[tool call {function.get('name')}({function.get('arguments')})]"
    return content


def _call(
    endpoint: Endpoint, requests: list[tuple[str, ChatRequest]], cache: ResponseCache | None
) -> tuple[dict[str, CallResult], Usage]:
    """Every request through the engine, with the endpoint's limiter and retries; one result per key."""
    results: dict[str, CallResult] = {}
    usage = run_requests(
        endpoint.client(),
        requests,
        cache=cache,
        settings=endpoint.settings,
        on_result=lambda result: results.__setitem__(result.item_id, result),
        name=endpoint.name,
    )
    return results, usage


def _asked(prompt: SuitePrompt) -> list[dict]:
    return [{"role": "user", "content": prompt.prompt}]


def answered_suite(
    suite: Suite,
    prompts: Sequence[SuitePrompt],
    responder: Endpoint,
    cache: ResponseCache | None,
    redact: Redact,
) -> tuple[list[Transcript], list[str], Usage]:
    """The candidate's answers to a test suite's prompts; ids it could not answer, and the accounting."""
    requests = [(p.item_id, ChatRequest(messages=_asked(p), sampling=responder.sampling)) for p in prompts]
    results, usage = _call(responder, requests, cache)
    answered = [p for p in prompts if results[p.item_id].output is not None]
    texts = redact([results[p.item_id].output.content or "" for p in answered])  # type: ignore[union-attr]
    transcripts = [
        Transcript(suite=suite, item_id=p.item_id, messages=_asked(p), response=t)
        for p, t in zip(answered, texts, strict=True)
    ]
    failed = [
        f"{p.item_id}\t{results[p.item_id].error_class}: {results[p.item_id].error_message}"
        for p in prompts
        if results[p.item_id].output is None
    ]
    return transcripts, failed, usage


def ask(
    transcripts: Sequence[Transcript],
    phrasings: Sequence[Phrasing],
    prober: Endpoint,
    cache: ResponseCache | None,
) -> tuple[list[ProbeOutcome], Usage]:
    """Each transcript asked with each phrasing; exactly one outcome per pair."""
    keyed = {f"{t.suite}|{t.item_id}|{p.name}": (t, p) for t in transcripts for p in phrasings}
    requests = [
        (
            key,
            ChatRequest(
                messages=probe_messages(phrasing, transcript),
                sampling=prober.sampling,
                response_format=response_format(phrasing),
            ),
        )
        for key, (transcript, phrasing) in keyed.items()
    ]
    results, usage = _call(prober, requests, cache)
    outcomes = []
    for key, (transcript, phrasing) in keyed.items():
        result = results[key]
        common = {"suite": transcript.suite, "item_id": transcript.item_id, "phrasing": phrasing.name}
        if result.output is None:
            error = f"{result.error_class}: {result.error_message}"
            outcomes.append(ProbeOutcome(**common, status="failed", error=error))
            continue
        try:
            answer = parse_answer(phrasing, result.output.content)
        except ValueError as error:
            outcomes.append(ProbeOutcome(**common, status="unparseable", error=str(error)))
            continue
        outcomes.append(ProbeOutcome(**common, status="ok", label=answer.label, confidence=answer.confidence))
    return outcomes, usage


def verbalized_labels(
    transcripts: Sequence[Transcript], evaluator: Evaluator
) -> list[tuple[str, bool | None]]:
    """The verbalized-eval-awareness evaluator on each transcript's final response."""
    items = [
        GradeItem(item_id=f"{t.suite}|{t.item_id}", prefix=t.messages, response=t.response)
        for t in transcripts
    ]
    grades = {g.item_id: g.label for g in evaluator.grade(items)}
    return [(t.suite, grades.get(f"{t.suite}|{t.item_id}")) for t in transcripts]


def run_probe(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    *,
    size: int,
    seed: int,
    phrasings: Sequence[str],
    suites: dict[Suite, Sequence[SuitePrompt]],
    responder: Endpoint,
    prober: Endpoint,
    redact: Redact,
    verbalized_evaluator: Evaluator,
    journal_dir: Path | None = None,
) -> ProbeRun:
    """All four suites, `size` transcripts each; outcomes replace the partition's rows in `eval_awareness`."""
    chosen = [PHRASINGS[name] for name in phrasings]
    replayed, production = replayed_and_production(con, partition_key, size, seed)
    # Equal sizes: the test suites are cut to the number of replayed transcripts there are.
    size = len(replayed)
    transcripts = [*replayed, *production]
    failed_outcomes: list[ProbeOutcome] = []
    usage: dict[str, Usage] = {}
    cache = ResponseCache(con, journal_dir)
    try:
        for suite, prompts in suites.items():
            picked = pick(prompts, size, seed)
            answered, failed, usage[f"responses.{suite}"] = answered_suite(
                suite, picked, responder, cache, redact
            )
            transcripts += answered
            # A prompt the candidate could not answer cannot be shown: every phrasing of it is a failure.
            for line in failed:
                item_id, reason = line.split("\t", 1)
                failed_outcomes += [
                    ProbeOutcome(suite=suite, item_id=item_id, phrasing=p.name, status="failed", error=reason)
                    for p in chosen
                ]
        outcomes, usage["probe"] = ask(transcripts, chosen, prober, cache)
    finally:
        cache.close()
    outcomes += failed_outcomes
    verbalized = verbalized_labels(transcripts, verbalized_evaluator)
    replace_partition(con, "eval_awareness", partition_key, outcomes_frame(partition_key, prober, outcomes))
    counts: dict[str, int] = {}
    for transcript in transcripts:
        counts[transcript.suite] = counts.get(transcript.suite, 0) + 1
    return ProbeRun(outcomes=outcomes, verbalized=verbalized, transcripts=counts, usage=usage)


def outcomes_frame(partition_key: str, prober: Endpoint, outcomes: Sequence[ProbeOutcome]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "partition_key": partition_key,
                "probe_version": PROBE_VERSION,
                "probed_model": prober.name,
                **outcome.model_dump(),
            }
            for outcome in outcomes
        ],
        columns=[
            "partition_key",
            "probe_version",
            "probed_model",
            "suite",
            "item_id",
            "phrasing",
            "status",
            "label",
            "confidence",
            "error",
        ],
    )


def save_verdict(
    con: duckdb.DuckDBPyConnection,
    partition_key: str,
    comparison: Indistinguishability | None,
    summary: str,
    prober: str = "",
) -> None:
    """The release gate's line: the comparison of replayed against production, or why there was none."""
    row = {
        "partition_key": partition_key,
        "probe_version": PROBE_VERSION,
        "probed_model": prober,
        "verdict": comparison.verdict if comparison else "not probed",
        "summary": summary,
        "replayed_share": comparison.replayed_share if comparison else None,
        "production_share": comparison.production_share if comparison else None,
        "fisher_p": comparison.fisher_p if comparison else None,
        "mcnemar_p": comparison.mcnemar_p if comparison else None,
        "n_pairs": comparison.n_pairs if comparison else 0,
    }
    replace_partition(con, "eval_awareness_verdicts", partition_key, pd.DataFrame([row]))
