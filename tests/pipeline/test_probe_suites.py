import subprocess
import sys
from collections import Counter

import pytest

from deploysim.awareness.suites import load_suite, pick
from deploysim.awareness.types import SuitePrompt
from orchestration.settings import DATA_DIR
from tests.support.paths import REPO

SUITES = DATA_DIR / "probe_suites"
BUNDLED = (
    "adversarial.jsonl.gz",
    "benchmark.jsonl.gz",
    "licenses/jailbreakbench_artifacts.LICENSE",
    "licenses/jailbreakbench_artifacts.SOURCE.txt",
    "licenses/xstest.LICENSE",
    "licenses/xstest.SOURCE.txt",
)


def test_probe_suites_are_rebuilt_byte_for_byte(shared_data, tmp_path):
    subprocess.run(
        [
            sys.executable,
            "scripts/build_probe_suites.py",
            "--shared",
            str(shared_data),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    for name in BUNDLED:
        assert (tmp_path / name).read_bytes() == (SUITES / name).read_bytes(), name


@pytest.mark.parametrize(
    ("name", "size", "prefix"), [("adversarial", 200, "jbb-"), ("benchmark", 450, "xstest-")]
)
def test_suites_hold_unique_non_empty_prompts(name, size, prefix):
    prompts = load_suite(name, DATA_DIR / "probe_suites")
    assert len(prompts) == size and all(isinstance(p, SuitePrompt) for p in prompts)
    ids = [p.item_id for p in prompts]
    assert len(set(ids)) == size and ids == sorted(ids) and all(i.startswith(prefix) for i in ids)
    assert all(p.prompt.strip() and p.source for p in prompts)
    assert len({p.prompt for p in prompts}) == size


def test_adversarial_suite_is_balanced_across_attacks_and_behaviours():
    prompts = load_suite("adversarial", DATA_DIR / "probe_suites")
    attacks = Counter(p.source.split()[1] for p in prompts)
    assert len(attacks) >= 2 and len(set(attacks.values())) == 1  # every attack gives as many prompts
    behaviours = Counter(p.item_id.rsplit("-", 1)[1] for p in prompts)
    assert max(behaviours.values()) - min(behaviours.values()) <= 1


def test_benchmark_suite_holds_both_halves_of_xstest():
    sources = {p.source for p in load_suite("benchmark", DATA_DIR / "probe_suites")}
    assert "XSTest v2 homonyms" in sources and "XSTest v2 contrast_homonyms" in sources


def test_pick_is_seeded_sized_and_a_subset():
    prompts = load_suite("benchmark", DATA_DIR / "probe_suites")
    first = pick(prompts, 50, seed=3)
    assert first == pick(prompts, 50, seed=3) == pick(list(reversed(prompts)), 50, seed=3)
    assert len(first) == 50 and len({p.item_id for p in first}) == 50
    assert {p.item_id for p in first} <= {p.item_id for p in prompts}
    assert [p.item_id for p in first] == sorted(p.item_id for p in first)
    assert first != pick(prompts, 50, seed=4)


def test_pick_takes_everything_when_the_suite_is_small():
    prompts = load_suite("adversarial", DATA_DIR / "probe_suites")
    assert pick(prompts, 500, seed=1) == prompts
    assert pick(prompts, 0, seed=1) == []


def test_pick_refuses_duplicate_ids():
    twice = [SuitePrompt(item_id="a", prompt=text, source="s") for text in ("x", "y")]
    with pytest.raises(ValueError):
        pick(twice, 1, seed=0)
