from pathlib import Path

import dagster as dg

from deploysim.core.releases import Release, ReleaseRegistry, load_registry


class ReleaseRegistryResource(dg.ConfigurableResource):
    """The versioned release registry file (YAML)."""

    path: str

    def load(self) -> ReleaseRegistry:
        return load_registry(Path(self.path))

    def release_and_prior(self, version: str) -> tuple[Release, Release]:
        registry = self.load()
        return registry.get(version), registry.prior_of(version)
