"""What the examples share for reporting returns."""

from __future__ import annotations

import numpy as np


def best_average(returns: list[float], window: int = 10) -> float:
    """The best mean return over ``window`` consecutive episodes (NaN before any episode)."""
    if len(returns) < window:
        return float(np.mean(returns)) if returns else float("nan")
    return float(np.max(np.convolve(returns, np.ones(window) / window, mode="valid")))
