"""The pipeline's DuckDB tables, declared column by column. One row per conversation, prefix, response,
score or rate; never one per partition (the partition is the `partition_key` column).

Longer than most modules: it is one declaration per column of every table, kept together so the whole
schema reads in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    #: NOT NULL. Key columns are always required.
    required: bool = False
    default: str | None = None

    @property
    def ddl(self) -> str:
        return " ".join(
            part
            for part in (
                self.name,
                self.type,
                "NOT NULL" if self.required else "",
                f"DEFAULT {self.default}" if self.default else "",
            )
            if part
        )


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def ddl(self) -> str:
        parts = [column.ddl for column in self.columns]
        if self.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        return ", ".join(parts)


TABLES: dict[str, Table] = {
    "conversations": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("conversation_id", "VARCHAR", required=True),
            Column("model_version", "VARCHAR", required=True),
            Column("started_at", "TIMESTAMPTZ", required=True),
            Column("surface", "VARCHAR", required=True),
            Column("locale", "VARCHAR", required=True),
            Column("messages", "JSON", required=True),
            Column("tools", "JSON"),
            Column("n_messages", "INTEGER", required=True),
            Column("role_sequence", "VARCHAR", required=True),
            Column("pii_entities", "INTEGER", required=True),
        ),
        primary_key=("partition_key", "conversation_id"),
    ),
    "quarantine": Table(
        columns=(
            Column("partition_key", "VARCHAR"),
            Column("source", "VARCHAR", required=True),
            Column("line_no", "INTEGER", required=True),
            Column("conversation_id", "VARCHAR"),
            Column("reason", "VARCHAR", required=True),
            Column("excerpt", "VARCHAR", required=True),
        ),
    ),
    "prefixes": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("conversation_id", "VARCHAR", required=True),
            Column("prefix_hash", "VARCHAR", required=True),
            Column("surface", "VARCHAR", required=True),
            Column("production_model", "VARCHAR", required=True),
            Column("messages", "JSON", required=True),
            Column("tools", "JSON"),
            Column("production_response", "JSON", required=True),
        ),
        primary_key=("partition_key", "conversation_id"),
    ),
    "regenerations": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("arm", "VARCHAR", required=True),
            Column("model_version", "VARCHAR", required=True),
            Column("conversation_id", "VARCHAR", required=True),
            Column("prefix_hash", "VARCHAR", required=True),
            Column("status", "VARCHAR", required=True),
            Column("content", "VARCHAR"),
            Column("tool_calls", "JSON"),
            Column("redacted_entities", "JSON"),
            Column("finish_reason", "VARCHAR"),
            Column("error_class", "VARCHAR"),
            Column("error_message", "VARCHAR"),
            Column("prompt_tokens", "INTEGER"),
            Column("completion_tokens", "INTEGER"),
            Column("latency_ms", "DOUBLE"),
            Column("cached", "BOOLEAN", required=True),
            Column("attempts", "INTEGER", required=True),
        ),
        primary_key=("partition_key", "arm", "conversation_id"),
    ),
    "model_usage": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("arm", "VARCHAR", required=True),
            Column("model_version", "VARCHAR", required=True),
            Column("endpoint", "VARCHAR", required=True),
            Column("prefixes", "INTEGER", required=True),
            Column("ok", "INTEGER", required=True),
            Column("calls", "INTEGER", required=True),
            Column("cached_calls", "INTEGER", required=True),
            Column("attempts", "INTEGER", required=True),
            Column("prompt_tokens", "BIGINT", required=True),
            Column("completion_tokens", "BIGINT", required=True),
            Column("cost_usd", "DOUBLE", required=True),
            Column("failures", "JSON", required=True),
            Column("latency_p50_ms", "DOUBLE"),
            Column("latency_p95_ms", "DOUBLE"),
            Column("latency_p99_ms", "DOUBLE"),
            Column("wall_s", "DOUBLE", required=True),
        ),
        primary_key=("partition_key", "arm"),
    ),
    "scores": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("arm", "VARCHAR", required=True),
            Column("model_version", "VARCHAR", required=True),
            Column("conversation_id", "VARCHAR", required=True),
            Column("surface", "VARCHAR", required=True),
            Column("in_sample", "BOOLEAN", required=True),
            Column("evaluator", "VARCHAR", required=True),
            Column("evaluator_version", "VARCHAR", required=True),
            Column("category", "VARCHAR", required=True),
            Column("label", "BOOLEAN"),
            Column("detail", "VARCHAR"),
            Column("score", "DOUBLE"),
            Column("rationale", "VARCHAR"),
            Column("error", "VARCHAR"),
        ),
    ),
    "evaluator_validation": Table(
        columns=(
            Column("partition_key", "VARCHAR"),
            Column("evaluator", "VARCHAR", required=True),
            Column("evaluator_version", "VARCHAR", required=True),
            Column("category", "VARCHAR", required=True),
            Column("dataset", "VARCHAR", required=True),
            Column("subset", "VARCHAR", required=True),
            #: model, source, pooled or pairwise (see deploysim/evaluation/validation.py).
            Column("fold_kind", "VARCHAR"),
            #: held_out, or in_sample where the evaluator's rules or weights were written on this data.
            Column("scope", "VARCHAR"),
            Column("weak_labels", "BOOLEAN"),
            Column("n", "INTEGER", required=True),
            Column("tp", "INTEGER", required=True),
            Column("fp", "INTEGER", required=True),
            Column("fn", "INTEGER", required=True),
            Column("tn", "INTEGER", required=True),
            Column("agreement", "DOUBLE"),
            Column("agreement_low", "DOUBLE"),
            Column("agreement_high", "DOUBLE"),
            Column("precision", "DOUBLE"),
            Column("precision_low", "DOUBLE"),
            Column("precision_high", "DOUBLE"),
            Column("sensitivity", "DOUBLE"),
            Column("sensitivity_low", "DOUBLE"),
            Column("sensitivity_high", "DOUBLE"),
            Column("specificity", "DOUBLE"),
            Column("specificity_low", "DOUBLE"),
            Column("specificity_high", "DOUBLE"),
        ),
    ),
    "behavior_rates": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("arm", "VARCHAR", required=True),
            Column("model_version", "VARCHAR", required=True),
            Column("evaluator", "VARCHAR", required=True),
            Column("evaluator_version", "VARCHAR", required=True),
            Column("category", "VARCHAR", required=True),
            Column("surface", "VARCHAR", required=True),
            Column("count", "INTEGER", required=True),
            Column("n", "INTEGER", required=True),
            Column("rate_per_100k", "DOUBLE", required=True),
            Column("ci_low_per_100k", "DOUBLE"),
            Column("ci_high_per_100k", "DOUBLE"),
            Column("jeffreys_low_per_100k", "DOUBLE"),
            Column("jeffreys_high_per_100k", "DOUBLE"),
            Column("rule_of_three_upper_per_100k", "DOUBLE"),
            Column("corrected_per_100k", "DOUBLE"),
            Column("corrected_low_per_100k", "DOUBLE"),
            Column("corrected_high_per_100k", "DOUBLE"),
            #: `audit:<id>` (this release's own labelled audit) or `validation` (public human labels).
            Column("correction_source", "VARCHAR"),
        ),
    ),
    "change_tests": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("category", "VARCHAR", required=True),
            Column("n_paired", "INTEGER", required=True),
            Column("candidate_count", "INTEGER", required=True),
            Column("prior_count", "INTEGER", required=True),
            Column("fisher_odds_ratio", "DOUBLE"),
            Column("fisher_p", "DOUBLE"),
            Column("candidate_only", "INTEGER", required=True),
            Column("prior_only", "INTEGER", required=True),
            Column("mcnemar_p", "DOUBLE"),
            Column("alpha", "DOUBLE", required=True),
            Column("production_count", "INTEGER", required=True),
            Column("fisher_p_bh", "DOUBLE"),
            Column("mcnemar_p_bh", "DOUBLE"),
        ),
    ),
    "forecasts": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("surface", "VARCHAR", required=True),
            Column("category", "VARCHAR", required=True),
            Column("n_paired", "INTEGER", required=True),
            Column("candidate_count", "INTEGER", required=True),
            Column("prior_count", "INTEGER", required=True),
            #: Production's label on the same paired prefixes: the prior simulation's fidelity reference.
            Column("paired_production_count", "INTEGER", required=True),
            #: The prior's production rate over the whole window.
            Column("observed_count", "INTEGER", required=True),
            Column("observed_n", "INTEGER", required=True),
            Column("raw_per_100k", "DOUBLE", required=True),
            Column("ratio_per_100k", "DOUBLE", required=True),
            Column("ratio_low_per_100k", "DOUBLE", required=True),
            Column("ratio_high_per_100k", "DOUBLE", required=True),
            Column("persistence_per_100k", "DOUBLE", required=True),
        ),
        primary_key=("partition_key", "surface", "category"),
    ),
    "backtest": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            #: The release chain (its first version): each is backtested on its own history.
            Column("chain", "VARCHAR", required=True),
            Column("release", "VARCHAR", required=True),
            Column("prior_version", "VARCHAR", required=True),
            Column("surface", "VARCHAR", required=True),
            Column("category", "VARCHAR", required=True),
            #: What production then showed: the release's own window, scored in its successor's partition.
            Column("observed_count", "INTEGER", required=True),
            Column("observed_n", "INTEGER", required=True),
            Column("observed_per_100k", "DOUBLE", required=True),
            Column("prior_observed_per_100k", "DOUBLE", required=True),
            Column("prior_simulated_per_100k", "DOUBLE", required=True),
            Column("n_paired", "INTEGER", required=True),
            Column("raw_per_100k", "DOUBLE", required=True),
            Column("ratio_per_100k", "DOUBLE", required=True),
            Column("calibrated_per_100k", "DOUBLE", required=True),
            Column("persistence_per_100k", "DOUBLE", required=True),
            Column("calibration_factor", "DOUBLE", required=True),
            Column("raw_fold_error", "DOUBLE", required=True),
            Column("ratio_fold_error", "DOUBLE", required=True),
            Column("calibrated_fold_error", "DOUBLE", required=True),
            Column("persistence_fold_error", "DOUBLE", required=True),
            #: Binomial negative log-likelihood regret of the observed count under each forecast.
            Column("raw_regret", "DOUBLE", required=True),
            Column("ratio_regret", "DOUBLE", required=True),
            Column("calibrated_regret", "DOUBLE", required=True),
            Column("persistence_regret", "DOUBLE", required=True),
            Column("predicted_direction", "INTEGER", required=True),
            Column("observed_direction", "INTEGER", required=True),
            #: Observed rate moved by >= 1.5x; and the move is significant (Fisher, alpha 0.1).
            Column("moved", "BOOLEAN", required=True),
            Column("significant_move", "BOOLEAN", required=True),
            Column("move_p", "DOUBLE", required=True),
        ),
    ),
    "eval_awareness": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("probe_version", "VARCHAR", required=True),
            Column("probed_model", "VARCHAR", required=True),
            Column("suite", "VARCHAR", required=True),
            Column("item_id", "VARCHAR", required=True),
            Column("phrasing", "VARCHAR", required=True),
            Column("status", "VARCHAR", required=True),
            Column("label", "VARCHAR"),
            Column("confidence", "DOUBLE"),
            Column("error", "VARCHAR"),
        ),
        primary_key=("partition_key", "suite", "item_id", "phrasing"),
    ),
    "eval_awareness_verdicts": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("probe_version", "VARCHAR", required=True),
            Column("probed_model", "VARCHAR", required=True),
            Column("verdict", "VARCHAR", required=True),
            Column("summary", "VARCHAR", required=True),
            Column("replayed_share", "DOUBLE"),
            Column("production_share", "DOUBLE"),
            Column("fisher_p", "DOUBLE"),
            Column("mcnemar_p", "DOUBLE"),
            Column("n_pairs", "INTEGER", required=True),
        ),
        primary_key=("partition_key",),
    ),
    "release_gates": Table(
        columns=(
            Column("partition_key", "VARCHAR", required=True),
            Column("verdict", "VARCHAR", required=True),
            Column("gate", "JSON", required=True),
            Column("markdown", "VARCHAR", required=True),
        ),
        primary_key=("partition_key",),
    ),
    "audits": Table(
        columns=(
            Column("audit_id", "VARCHAR", required=True),
            Column("partition_key", "VARCHAR", required=True),
            Column("seed", "INTEGER", required=True),
            Column("per_stratum", "INTEGER", required=True),
            #: Graded candidate responses per (category, stratum) the sample was drawn from.
            Column("population", "JSON", required=True),
            Column("evaluator_versions", "JSON", required=True),
            Column("created_at", "TIMESTAMPTZ", required=True, default="now()"),
        ),
        primary_key=("audit_id",),
    ),
    "audit_labels": Table(
        columns=(
            Column("audit_id", "VARCHAR", required=True),
            Column("partition_key", "VARCHAR", required=True),
            Column("category", "VARCHAR", required=True),
            Column("evaluator", "VARCHAR", required=True),
            Column("evaluator_version", "VARCHAR", required=True),
            Column("conversation_id", "VARCHAR", required=True),
            #: "flagged" or "unflagged": the evaluator's label, by which the sample is stratified.
            Column("stratum", "VARCHAR", required=True),
            Column("evaluator_label", "BOOLEAN", required=True),
            Column("judge_label", "BOOLEAN"),
            Column("human_label", "BOOLEAN"),
            Column("labelled_at", "TIMESTAMPTZ"),
        ),
        primary_key=("audit_id", "category", "conversation_id"),
    ),
    "response_cache": Table(
        columns=(
            Column("request_hash", "VARCHAR", required=True),
            Column("endpoint", "VARCHAR", required=True),
            Column("output", "JSON", required=True),
            Column("created_at", "TIMESTAMPTZ", required=True, default="now()"),
        ),
        primary_key=("request_hash",),
    ),
}
