"""Recorded tool calls from agent conversations in the OpenAI chat format, in the order they ran."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RecordedCall:
    """One tool call with the output the real tool returned. ``source`` names where it was recorded."""

    source: str
    position: int
    tool: str
    arguments: str
    output: str


def calls_in_messages(messages: Iterable[Mapping[str, Any]], source: str) -> Iterator[RecordedCall]:
    """Pair each tool message with the assistant's call it answers; calls never answered are skipped."""
    pending: dict[str, tuple[str, str]] = {}
    position = 0
    for message in messages:
        if message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                pending[call.get("id", "")] = (function.get("name", ""), function.get("arguments") or "{}")
        elif message.get("role") == "tool":
            answered = pending.pop(message.get("tool_call_id", ""), None)
            if answered is None:
                continue
            tool, arguments = answered
            content = message.get("content")
            yield RecordedCall(source, position, tool, arguments, content if isinstance(content, str) else "")
            position += 1


def load_trajectories(path: Path) -> list[dict[str, Any]]:
    """tau-bench's historical trajectories: a JSON list of ``{task_id, trial, traj: [messages]}``."""
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def trajectory_calls(trajectories: Iterable[Mapping[str, Any]]) -> Iterator[list[RecordedCall]]:
    """Each trajectory's calls, one list per trajectory, named ``task <id> trial <n>``."""
    for index, trajectory in enumerate(trajectories):
        name = f"task {trajectory.get('task_id', index)} trial {trajectory.get('trial', 0)}"
        yield list(calls_in_messages(trajectory.get("traj") or trajectory.get("messages") or [], name))
