"""The tool simulator's grounded core for agent traffic.

A snapshot of the system state (``snapshot``), read-only connectors over it (``connectors``), write tools
applied to a per-rollout copy-on-write overlay (``overlay``, ``writes``), a database of prior tool-call and
response pairs (``prior_pairs``), and the layer that resolves a call and names its provenance
(``simulator``). ``fidelity`` replays recorded trajectories through it. Imports only the standard library
and ``deploysim.core``.
"""

from __future__ import annotations

from pathlib import Path

#: The bundled airline environment, built by scripts/build_agent_env.py.
BUNDLED_SNAPSHOT = Path(__file__).resolve().parents[2] / "data" / "agent" / "airline_env.json.gz"
