from pathlib import Path

import dagster as dg

from deploysim.release.policy import GatePolicy, load_policy


class GatePolicyResource(dg.ConfigurableResource):
    """The versioned release-gate policy (YAML)."""

    path: str

    def load(self) -> GatePolicy:
        return load_policy(Path(self.path))
