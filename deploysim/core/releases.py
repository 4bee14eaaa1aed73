"""The release registry: which model versions exist, when they shipped and how to call them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from deploysim.inference.backends import ArchiveBackend, Backend


class Release(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    released_at: datetime | None = Field(description="None while the release is still a candidate.")
    prior_version: str | None = None
    backend: Backend

    @field_validator("released_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)

    @property
    def is_candidate(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True)
class TrafficWindow:
    """The conversations a release is simulated on: its prior's traffic from the prior's release up to the
    release's own, [start, end)."""

    start: datetime | None
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and moment < self.end

    def describe(self) -> str:
        start = self.start.isoformat() if self.start else "the beginning"
        return f"[{start}, {self.end.isoformat()})"


class RejectedEntry(BaseModel):
    index: int
    version: str | None
    reason: str


class ReleaseRegistry(BaseModel):
    """Valid releases, in release order, plus the entries that were rejected and why."""

    registry_version: int
    releases: list[Release]
    rejected: list[RejectedEntry] = []

    def get(self, version: str) -> Release:
        for release in self.releases:
            if release.version == version:
                return release
        raise KeyError(f"model version {version!r} is not in the release registry")

    def prior_of(self, version: str) -> Release:
        release = self.get(version)
        if release.prior_version is None:
            raise KeyError(f"model version {version!r} has no prior version to compare against")
        return self.get(release.prior_version)

    def window(self, version: str, now: datetime, window_days: float | None = None) -> TrafficWindow:
        """The prior's conversations between the prior's release and this one's. A pending candidate's window
        runs to `now`, or covers the last `window_days` of it when that is set."""
        release, prior = self.get(version), self.prior_of(version)
        if release.released_at is not None:
            return TrafficWindow(prior.released_at, release.released_at)
        start = prior.released_at
        if window_days is not None:
            look_back = now - timedelta(days=window_days)
            start = look_back if start is None else max(start, look_back)
        return TrafficWindow(start, now)

    def chain_of(self, version: str) -> str:
        """The release chain a version belongs to, named by its first version (the one with no prior)."""
        release = self.get(version)
        while release.prior_version is not None:
            release = self.get(release.prior_version)
        return release.version

    @property
    def chains(self) -> dict[str, str]:
        """Every version's chain: a registry may hold several release families."""
        return {r.version: self.chain_of(r.version) for r in self.releases}

    @property
    def priors(self) -> dict[str, str]:
        return {r.version: r.prior_version for r in self.releases if r.prior_version is not None}

    @property
    def simulated_versions(self) -> list[str]:
        """Releases with a prior: each is one partition of the pipeline."""
        return [r.version for r in self.releases if r.prior_version is not None]

    @property
    def candidates(self) -> list[str]:
        return [r.version for r in self.releases if r.is_candidate]

    def versions_between(self, first: str, last: str) -> list[str]:
        """Simulated versions from `first` to `last` inclusive, in release order."""
        simulated = self.simulated_versions
        for version in (first, last):
            if version not in simulated:
                raise KeyError(
                    f"model version {version!r} is not a simulated release ({', '.join(simulated)})"
                )
        start, end = simulated.index(first), simulated.index(last)
        if start > end:
            raise ValueError(f"{first!r} was released after {last!r}; give the range oldest first")
        return simulated[start : end + 1]


def _release_order(release: Release) -> tuple[int, datetime]:
    far_future = datetime.max.replace(tzinfo=UTC)
    return (1, far_future) if release.released_at is None else (0, release.released_at)


def _chain_problem(release: Release, known: dict[str, Release]) -> str | None:
    if release.prior_version is None:
        return None
    prior = known.get(release.prior_version)
    if prior is None:
        return f"prior_version {release.prior_version!r} is not a valid release"
    if prior.released_at is None:
        return f"prior_version {prior.version!r} has not been released"
    if release.released_at and prior.released_at >= release.released_at:
        return f"released_at is not after its prior {prior.version!r}"
    return None


def parse_registry(document: dict, base_dir: Path) -> ReleaseRegistry:
    """Validate every entry on its own: one bad entry is rejected with a reason, the rest still load."""
    if not isinstance(document, dict) or not isinstance(document.get("releases"), list):
        raise ValueError("release registry must be a mapping with a 'releases' list")
    accepted: dict[int, Release] = {}
    rejected: list[RejectedEntry] = []
    for index, entry in enumerate(document["releases"]):
        name = entry.get("version") if isinstance(entry, dict) else None
        try:
            release = Release.model_validate(entry)
        except ValidationError as error:
            reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            rejected.append(RejectedEntry(index=index, version=name, reason=reason))
            continue
        if any(r.version == release.version for r in accepted.values()):
            rejected.append(RejectedEntry(index=index, version=name, reason="duplicate version"))
            continue
        if isinstance(release.backend, ArchiveBackend) and not release.backend.path.is_absolute():
            release.backend.path = (base_dir / release.backend.path).resolve()
        accepted[index] = release

    # A release whose prior was rejected is rejected too, so repeat until nothing changes.
    while True:
        known = {r.version: r for r in accepted.values()}
        problems = {i: p for i, r in accepted.items() if (p := _chain_problem(r, known))}
        if not problems:
            break
        for index, reason in problems.items():
            release = accepted.pop(index)
            rejected.append(RejectedEntry(index=index, version=release.version, reason=reason))
    return ReleaseRegistry(
        registry_version=int(document.get("registry_version", 1)),
        releases=sorted(accepted.values(), key=_release_order),
        rejected=rejected,
    )


def load_registry(path: Path) -> ReleaseRegistry:
    with path.open() as handle:
        try:
            document = yaml.safe_load(handle)
        except yaml.YAMLError as error:
            raise ValueError(f"{path} is not valid YAML: {error}") from error
    return parse_registry(document, path.parent)
