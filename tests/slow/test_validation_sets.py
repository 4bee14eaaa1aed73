import subprocess
import sys

from orchestration.settings import DATA_DIR
from tests.support.paths import REPO

FILES = (
    "xstest_completions.jsonl.gz",
    "presidio_research_dev.jsonl.gz",
    "jailbreakbench.jsonl.gz",
    "hh_rlhf_pairs.jsonl.gz",
    "benign_answers.jsonl.gz",
)


def test_validation_sets_are_rebuilt_byte_for_byte(shared_data, tmp_path):
    command = [
        sys.executable,
        "scripts/build_validation_sets.py",
        "--shared",
        str(shared_data),
        "--out",
        str(tmp_path),
    ]
    subprocess.run(command, check=True, cwd=REPO)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (DATA_DIR / "validation" / name).read_bytes(), name
