"""Runs the regeneration stage in its own process, so a test can SIGKILL it mid-run.

python tests/regeneration_child.py DB_PATH BASE_URL CONCURRENCY
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deploysim.models.openai_client import OpenAICompatibleClient
from deploysim.models.runner import EngineSettings
from deploysim.registry import OpenAIBackend
from deploysim.stages.regeneration import Arm, regenerate
from tests.prefix_store import open_db, strict_redact


def main(db: str, base_url: str, concurrency: int) -> None:
    backend = OpenAIBackend(base_url=base_url, model="stub")
    # Batches far larger than the run: only the journal can save the completed calls from a SIGKILL.
    settings = EngineSettings.fixed(concurrency, batch_size=100_000, flush_interval_s=3600)
    arm = Arm("candidate", "cand", OpenAICompatibleClient(backend, timeout_s=10), backend.sampling, settings)
    with open_db(Path(db)) as con:
        regenerate(con, "cand", [arm], redact=strict_redact, journal_dir=Path(f"{db}.journal"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
