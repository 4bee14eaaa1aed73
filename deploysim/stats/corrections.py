"""What is known about each evaluator's errors, and the rates corrected for them.

Two sources, in order of preference for the candidate's rates:
- a labelled audit of this release's own responses (`deploysim audit`), corrected with the two-phase
  estimator: the evaluator's errors measured on the very text being rated;
- the evaluator's validation against public human labels (`evaluator_validation`), corrected with
  Rogan-Gladen: the errors measured on other models' text, so only held-out figures are used.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
from pydantic import BaseModel

from deploysim.core.arms import Arm
from deploysim.stats.intervals import CorrectedEstimate, audit_corrected_interval, corrected_interval


@dataclass(frozen=True)
class ValidationCounts:
    """An evaluator's confusion counts against human labels, from `evaluator_validation`."""

    tp: int
    fn: int
    tn: int
    fp: int


def _corrected(category: str, count: int, n: int, validation: dict[str, ValidationCounts]):
    counts = (validation or {}).get(category)
    if counts is None or n == 0:
        return None
    try:
        return corrected_interval(
            count, n, counts.tp, counts.tp + counts.fn, counts.tn, counts.tn + counts.fp
        )
    except ValueError:  # no better than chance, or no positives / negatives to measure it on
        return None


class AuditCounts(BaseModel):
    """One category's labelled audit: per stratum, how many were labelled and how many show the behaviour."""

    audit_id: str
    evaluator_version: str
    flagged_true: int
    flagged_audited: int
    unflagged_true: int
    unflagged_audited: int


def latest_audit_counts(con: duckdb.DuckDBPyConnection, partition_key: str) -> dict[str, AuditCounts]:
    """Per category, the counts of the most recently labelled audit of this release."""
    rows = con.execute(
        """
        WITH latest AS (
            SELECT audit_id, category, max(labelled_at) AS last_labelled FROM audit_labels
            WHERE partition_key = ? AND human_label IS NOT NULL GROUP BY ALL
        ), chosen AS (
            SELECT category, arg_max(audit_id, last_labelled) AS audit_id FROM latest GROUP BY category
        )
        SELECT l.category, l.audit_id, any_value(l.evaluator_version),
               count(*) FILTER (WHERE l.stratum = 'flagged' AND l.human_label),
               count(*) FILTER (WHERE l.stratum = 'flagged' AND l.human_label IS NOT NULL),
               count(*) FILTER (WHERE l.stratum = 'unflagged' AND l.human_label),
               count(*) FILTER (WHERE l.stratum = 'unflagged' AND l.human_label IS NOT NULL)
        FROM audit_labels l JOIN chosen USING (category, audit_id)
        GROUP BY l.category, l.audit_id
        """,
        [partition_key],
    ).fetchall()
    return {
        category: AuditCounts(
            audit_id=audit_id,
            evaluator_version=version,
            flagged_true=ft,
            flagged_audited=fa,
            unflagged_true=ut,
            unflagged_audited=ua,
        )
        for category, audit_id, version, ft, fa, ut, ua in rows
    }


def validation_counts(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame) -> dict[str, ValidationCounts]:
    """Per category, the confusion counts of the same evaluator version against human labels it was never
    developed on (the pooled held-out models). A validation of another version is stale and is not used:
    the correction would describe a different grader; an in-sample one would flatter it."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'evaluator_validation'"
    ).fetchone()
    if not exists or not exists[0] or scores.empty:
        return {}
    graded = scores[["category", "evaluator", "evaluator_version"]].drop_duplicates()
    rows = con.execute(
        """
        SELECT category, evaluator, evaluator_version, tp, fn, tn, fp FROM evaluator_validation
        WHERE fold_kind = 'pooled' AND scope = 'held_out' AND NOT weak_labels
        """
    ).fetchall()
    validated = {(c, e, v): ValidationCounts(tp, fn, tn, fp) for c, e, v, tp, fn, tn, fp in rows}
    return {
        row.category: validated[key]
        for row in graded.itertuples(index=False)
        if (key := (row.category, row.evaluator, row.evaluator_version)) in validated
    }


def correct(
    arm: str,
    category: str,
    evaluator_version: str,
    count: int,
    n: int,
    validation: dict[str, ValidationCounts] | None,
    audits: dict[str, AuditCounts] | None,
) -> tuple[CorrectedEstimate | None, str | None]:
    """The corrected rate and where its correction came from (`audit:<id>` or `validation`), or None.

    An audit corrects only the candidate arm of the release it sampled, and only for the evaluator version
    it audited; any arm can be corrected with the evaluator's validation.
    """
    if n == 0:
        return None, None
    audit = (audits or {}).get(category)
    if arm == Arm.CANDIDATE and audit is not None and audit.evaluator_version == evaluator_version:
        try:
            estimate = audit_corrected_interval(
                count,
                n,
                audit.flagged_true,
                audit.flagged_audited,
                audit.unflagged_true,
                audit.unflagged_audited,
            )
            return estimate, f"audit:{audit.audit_id}"
        except ValueError:  # a stratum with responses was not labelled: fall back to the validation
            pass
    counts = (validation or {}).get(category)
    if counts is None:
        return None, None
    try:
        return corrected_interval(
            count, n, counts.tp, counts.tp + counts.fn, counts.tn, counts.tn + counts.fp
        ), "validation"
    except ValueError:  # no better than chance, or no positives / negatives to measure it on
        return None, None
