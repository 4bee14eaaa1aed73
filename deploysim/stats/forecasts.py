"""How a forecast rate is scored against the rate production then showed."""

from __future__ import annotations

from typing import Any

import numpy as np


def smoothed_rate(count: float, n: float) -> float:
    """Rates are smoothed by half a count so a zero count still gives a finite fold error."""
    return (count + 0.5) / (n + 1.0)


def fold_error(estimate: Any, observed: Any) -> Any:
    """max(est/obs, obs/est), elementwise for arrays; both must be positive (use smoothed rates)."""
    est = np.asarray(estimate, dtype=float)
    obs = np.asarray(observed, dtype=float)
    result = np.maximum(est / obs, obs / est)
    return float(result) if result.ndim == 0 else result
