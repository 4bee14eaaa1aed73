"""Where the repository and the public data sets beside it are, for tests at any depth."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
