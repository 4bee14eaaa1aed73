"""The connectors against 200 real agent trajectories, and the bundled snapshot's reproducible build."""

import subprocess
import sys

import pytest

from deploysim.agents import BUNDLED_SNAPSHOT
from deploysim.agents.fidelity import replay
from deploysim.agents.simulator import ToolLayer
from deploysim.agents.snapshot import load_snapshot
from deploysim.agents.trajectories import load_trajectories
from tests.support.paths import REPO, SHARED_DATA

TRAJECTORIES = SHARED_DATA / "tau_bench" / "historical_trajectories" / "gpt-4o-airline.json"

pytestmark = pytest.mark.skipif(
    not TRAJECTORIES.exists(),
    reason="the public data sets lack tau_bench/historical_trajectories/gpt-4o-airline.json",
)


@pytest.fixture(scope="module")
def trajectories():
    return load_trajectories(TRAJECTORIES)


def test_read_only_connectors_reproduce_the_recorded_outputs(trajectories):
    report = replay(trajectories, ToolLayer(load_snapshot(BUNDLED_SNAPSHOT)))
    assert report.reads == 914 and report.writes == 250
    assert report.read_rate >= 0.95, report.classes()
    assert report.write_rate >= 0.95, report.classes(writes=True)
    assert report.writes_needing_overlay > 0  # the overlay, not luck, answers writes that follow writes


def test_without_the_documented_rename_only_the_users_address_key_differs(trajectories):
    strict = replay(trajectories, ToolLayer(load_snapshot(BUNDLED_SNAPSHOT)), renames={})
    assert strict.classes() == {"value differs at $.address.province": strict.reads - strict.reads_matched}
    assert {m.tool for m in strict.mismatches} == {"get_user_details"}


def test_the_bundled_snapshot_is_rebuilt_byte_for_byte(tmp_path):
    subprocess.run(
        [sys.executable, "scripts/build_agent_env.py", "--shared", str(SHARED_DATA), "--out", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    bundled = BUNDLED_SNAPSHOT.parent
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in bundled.iterdir())
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (bundled / path.name).read_bytes(), path.name
