"""Runs the regeneration stage in its own process, so a test can SIGKILL it mid-run.

python -m tests.support.regeneration_child DB_PATH BASE_URL CONCURRENCY   (from the repository root)
"""

from __future__ import annotations

import sys
from pathlib import Path

from deploysim.core.arms import Arm
from deploysim.inference.backends import OpenAIBackend
from deploysim.inference.endpoint import Endpoint
from deploysim.inference.retry import RetryPolicy
from deploysim.simulation.regeneration import regenerate
from tests.support.engine import fixed_settings
from tests.support.prefix_store import open_db, strict_redact


def main(db: str, base_url: str, concurrency: int) -> None:
    backend = OpenAIBackend(base_url=base_url, model="stub")
    # Batches far larger than the run: only the journal can save the completed calls from a SIGKILL.
    settings = fixed_settings(
        concurrency, batch_size=100_000, flush_interval_s=3600, retry=RetryPolicy(attempt_timeout_s=10)
    )
    arms = {Arm.CANDIDATE: Endpoint("cand", backend, settings, backend.sampling)}
    with open_db(Path(db)) as con:
        regenerate(con, "cand", arms, redact=strict_redact, journal_dir=Path(f"{db}.journal"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
