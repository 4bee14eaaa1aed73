"""Where things live. Every path can be moved by an environment variable; defaults are the embedded demo."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
VAR_DIR = Path(os.environ.get("DEPLOYSIM_VAR", PROJECT_ROOT / "var"))


class Settings(BaseModel):
    production_log: Path
    release_registry: Path
    gate_policy: Path
    duckdb_path: Path
    evaluators: list[str]
    #: A pending candidate's traffic window in days back from now (None: since its prior's release).
    window_days: float | None = None
    #: Ingest bounds: `started_at` years and a conversation's total characters (None: the defaults).
    min_year: int | None = None
    max_year: int | None = None
    max_conversation_chars: int | None = None


def from_environment() -> Settings:
    from evaluators.registry import OFFLINE  # every offline evaluator by default; judges need an endpoint

    env = os.environ.get
    return Settings(
        production_log=Path(env("DEPLOYSIM_LOG", DATA_DIR / "sample" / "production_log.jsonl.gz")),
        release_registry=Path(env("DEPLOYSIM_REGISTRY", DATA_DIR / "releases.yaml")),
        gate_policy=Path(env("DEPLOYSIM_GATE_POLICY", DATA_DIR / "gate_policy.yaml")),
        duckdb_path=Path(env("DEPLOYSIM_DUCKDB", VAR_DIR / "deploysim.duckdb")),
        evaluators=[e for e in env("DEPLOYSIM_EVALUATORS", ",".join(OFFLINE)).split(",") if e],
        window_days=float(days) if (days := env("DEPLOYSIM_WINDOW_DAYS")) else None,
        min_year=int(year) if (year := env("DEPLOYSIM_MIN_YEAR")) else None,
        max_year=int(year) if (year := env("DEPLOYSIM_MAX_YEAR")) else None,
        max_conversation_chars=int(chars) if (chars := env("DEPLOYSIM_MAX_CONVERSATION_CHARS")) else None,
    )
