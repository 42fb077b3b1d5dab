"""Hyperparameter schedules over training progress, one function for host and traced values."""

from __future__ import annotations

from typing import Any

__all__ = ["schedule_value"]


def schedule_value(schedule: Any, progress: Any, start: Any = None) -> Any:
    """The value of a schedule at ``progress`` in [0, 1].

    Parameters
    ----------
    schedule : float, str or callable
        A constant; ``'lin_<x>'``, linear from ``x`` to 0; or a callable of the remaining
        fraction ``1 - progress`` (Stable-Baselines3's convention).
    progress : float or traced scalar
        The fraction of training done. Plain arithmetic only, so the same function serves the
        host's loop (Python floats) and the fast path's compiled loop (traced JAX scalars).
    start : float or traced scalar, optional
        Replaces the schedule's own value (the ``x`` of ``'lin_x'``, or the constant): the fast
        path passes it as a traced argument so that one compiled program serves many values.
        A callable schedule ignores it.
    """
    if callable(schedule):
        return schedule(1.0 - progress)
    linear = isinstance(schedule, str)
    if start is None:
        start = float(schedule[4:]) if linear else float(schedule)
    return start * (1.0 - progress) if linear else start
