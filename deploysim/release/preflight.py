"""Checks that run before any work: a run that cannot finish should say so in one line, not after ingestion.

Each problem is one line that says what is wrong and what to do. Warnings (a skipped log file, a rejected
registry entry that the run does not need) are printed and the run goes on.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from deploysim.core.releases import Release, ReleaseRegistry, load_registry
from deploysim.inference.backends import ArchiveBackend, OpenAIBackend
from deploysim.ingestion.production_log import scan_log
from deploysim.release.policy import load_policy


@dataclass
class Preflight:
    registry: ReleaseRegistry | None = None
    candidate: str | None = None
    #: The versions the run simulates, in release order (the candidate last).
    versions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _load_registry(path: Path, check: Preflight) -> ReleaseRegistry | None:
    if not path.is_file():
        check.problems.append(
            f"release registry not found: {path}; pass --registry or set DEPLOYSIM_REGISTRY"
        )
        return None
    try:
        registry = load_registry(path)
    except (OSError, ValueError) as error:
        first = str(error).splitlines()[0]
        check.problems.append(
            f"release registry {path} is invalid ({first}); fix it (README: Release registry)"
        )
        return None
    return registry


def _choose_candidate(
    registry: ReleaseRegistry, asked: str | None, path: Path, check: Preflight
) -> str | None:
    if asked is None:
        if not registry.candidates:
            check.problems.append(
                f"the registry {path} has no candidate (a release with released_at: null); add one or pass "
                "--candidate"
            )
            return None
        asked = registry.candidates[-1]
    rejected = {r.version: r for r in registry.rejected}
    known = {r.version for r in registry.releases}
    if asked not in known:
        if asked in rejected:
            check.problems.append(
                f"{asked!r} is in {path} but was rejected: {rejected[asked].reason}; fix that entry"
            )
        else:
            choices = ", ".join(registry.simulated_versions) or "none"
            check.problems.append(
                f"{asked!r} is not in the release registry {path}; add it, or pass --candidate with one of: "
                f"{choices}"
            )
        return None
    if asked not in registry.simulated_versions:
        check.problems.append(
            f"{asked!r} has no prior_version in {path}, so there is nothing to compare it with; add "
            "prior_version: <the release it replaces>"
        )
        return None
    return asked


def _archive_problem(release: Release) -> str | None:
    backend = release.backend
    if not isinstance(backend, ArchiveBackend):
        return None
    what = f"the archive of {release.version} ({backend.path})"
    if not backend.path.is_file():
        return f"{what} does not exist; build it with `deploysim build-archive` or fix backend.path"
    try:
        with gzip.open(backend.path, "rt", encoding="utf-8") as handle:
            handle.readline()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        return f"{what} is unreadable ({type(error).__name__}); rebuild it with `deploysim build-archive`"
    return None


def _key_problem(release: Release, env: Mapping[str, str]) -> str | None:
    backend = release.backend
    if isinstance(backend, OpenAIBackend) and backend.api_key_env and not env.get(backend.api_key_env):
        return (
            f"the endpoint of {release.version} needs its key in ${backend.api_key_env}, which is not set; "
            f"export {backend.api_key_env}=... (or change api_key_env in the registry)"
        )
    return None


def preflight(
    *,
    registry_path: Path,
    policy_path: Path,
    log_path: Path,
    candidate: str | None,
    history: bool = True,
    env: Mapping[str, str] = os.environ,
) -> Preflight:
    """Everything a run needs before it starts: registry, candidate, policy, log, archives and keys."""
    check = Preflight()
    registry = _load_registry(registry_path, check)
    if registry is not None:
        check.registry = registry
        for entry in registry.rejected:
            check.warnings.append(f"registry entry {entry.index} ({entry.version}) skipped: {entry.reason}")
        check.candidate = _choose_candidate(registry, candidate, registry_path, check)
    if check.candidate is not None and registry is not None:
        order = registry.simulated_versions
        check.versions = order[: order.index(check.candidate) + 1] if history else [check.candidate]
        needed = {v for version in check.versions for v in (version, registry.prior_of(version).version)}
        for release in registry.releases:
            if release.version in needed:
                problem = _archive_problem(release) or _key_problem(release, env)
                if problem:
                    check.problems.append(problem)
    if not policy_path.is_file():
        check.problems.append(f"gate policy not found: {policy_path}; pass --gate-policy")
    else:
        try:
            load_policy(policy_path)
        except (OSError, ValueError, ValidationError) as error:
            first = str(error).splitlines()[0]
            check.problems.append(f"gate policy {policy_path} is invalid ({first}); fix it")
    try:
        scan = scan_log(log_path)
    except FileNotFoundError:
        check.problems.append(f"production log not found: {log_path}; pass --log or set DEPLOYSIM_LOG")
    else:
        for skipped in scan.skipped:
            check.warnings.append(f"log file {skipped.path} skipped: {skipped.reason}")
        readable = [f for f in scan.read if os.access(f, os.R_OK)]
        for file in scan.read:
            if file not in readable:
                check.problems.append(f"log file {file} is not readable; fix its permissions or remove it")
            elif file.stat().st_size == 0:
                check.warnings.append(f"log file {file} is empty")
        if not scan.read or not any(f.stat().st_size for f in readable):
            check.problems.append(
                f"no log rows in {log_path} (.jsonl, .ndjson, .json or .parquet files, optionally gzipped); "
                "pass --log with your production log"
            )
    return check
