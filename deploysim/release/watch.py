"""What the release sensor does, as plain code: which releases are new since the last look."""

from __future__ import annotations

from pydantic import BaseModel

from deploysim.core.releases import RejectedEntry, ReleaseRegistry


class WatchCursor(BaseModel):
    """The sensor's memory between ticks: releases already requested, rejections already reported."""

    requested: list[str] = []
    reported: list[str] = []

    @classmethod
    def parse(cls, text: str | None) -> WatchCursor:
        return cls.model_validate_json(text) if text else cls()


class WatchResult(BaseModel):
    #: Simulated releases not requested before, oldest first (a backtest reads the releases before it).
    new_versions: list[str]
    #: Rejected registry entries not reported before: logged once, never fatal.
    new_rejections: list[RejectedEntry]
    cursor: WatchCursor


def _rejection_key(entry: RejectedEntry) -> str:
    return f"{entry.index}:{entry.version}:{entry.reason}"


def watch(registry: ReleaseRegistry, cursor: WatchCursor) -> WatchResult:
    requested = set(cursor.requested)
    new_versions = [v for v in registry.simulated_versions if v not in requested]
    reported = set(cursor.reported)
    new_rejections = [r for r in registry.rejected if _rejection_key(r) not in reported]
    return WatchResult(
        new_versions=new_versions,
        new_rejections=new_rejections,
        cursor=WatchCursor(
            requested=[*cursor.requested, *new_versions],
            reported=[*cursor.reported, *(_rejection_key(r) for r in new_rejections)],
        ),
    )
