"""Hyperparameter schedules, one function for host and traced values.

Two clocks drive them. Stable-Baselines3's schedules (``'lin_<x>'``, a callable of the remaining
fraction) follow the *progress* of training, ``num_steps / total_steps``. pyrado's learning-rate
schedulers (``lr_scheduler``, ``lr_scheduler_hparam``; seed 004) follow the *iteration*: pyrado
steps its torch scheduler once per ``update()`` call, that is once per round of updates, so the
learning rate of the ``k``-th round (counted from 0) is the scheduler's value after ``k`` steps.
:func:`scheduled_lr` turns pyrado's pair into a learning rate that every agent's ``lr`` takes.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["LR_SCHEDULERS", "IterationSchedule", "schedule_start", "schedule_value", "scheduled_lr"]


class IterationSchedule:
    """A learning rate that changes once per iteration (round of updates), as pyrado's.

    Parameters
    ----------
    rate : callable
        ``rate(k)`` for the number ``k`` of iterations done (an int, or a traced integer scalar
        on the fast path): the learning rate itself if ``lr`` is None, else its factor on ``lr``.
    lr : float, optional
        The initial learning rate that ``rate`` multiplies (torch's schedulers' convention).
    """

    def __init__(self, rate: Callable[[Any], Any], lr: float | None = None) -> None:
        self.rate, self.lr = rate, lr

    def __call__(self, iteration: Any, start: Any = None) -> Any:
        """The learning rate after ``iteration`` iterations; ``start`` replaces ``lr`` (the fast
        path's traced hyperparameter) where the schedule has one."""
        if self.lr is None:
            return self.rate(iteration)
        return (self.lr if start is None else start) * self.rate(iteration)


def _xp(k: Any) -> Any:
    """The array namespace of ``k``: NumPy for host numbers, ``jax.numpy`` for traced scalars."""
    namespace = getattr(k, "__array_namespace__", None)
    return np if namespace is None else namespace()


def _exponential(k: Any, gamma: float) -> Any:
    return gamma ** k


def _step(k: Any, step_size: int, gamma: float = 0.1) -> Any:
    return gamma ** (k // step_size)


def _multi_step(k: Any, milestones: list[int], gamma: float = 0.1) -> Any:
    return gamma ** sum(_xp(k).asarray(k >= m, dtype=float) for m in sorted(milestones))


def _cosine_annealing(k: Any, T_max: int, eta_min: float = 0.0, *, lr: float) -> Any:
    return (eta_min + (lr - eta_min) * (1.0 + _xp(k).cos(math.pi * k / T_max)) / 2.0) / lr


def _linear(k: Any, start_factor: float = 1.0 / 3.0, end_factor: float = 1.0, total_iters: int = 5) -> Any:
    return start_factor + (end_factor - start_factor) * _xp(k).minimum(k, total_iters) / total_iters


def _constant(k: Any, factor: float = 1.0 / 3.0, total_iters: int = 5) -> Any:
    return factor + (1.0 - factor) * _xp(k).asarray(k >= total_iters, dtype=float)


def _polynomial(k: Any, total_iters: int = 5, power: float = 1.0) -> Any:
    return (1.0 - _xp(k).minimum(k, total_iters) / total_iters) ** power


#: torch's learning-rate schedulers by name, as factors on the initial ``lr`` after ``k`` steps
#: (closed forms, with torch's defaults and meanings).
LR_SCHEDULERS: dict[str, Callable[..., Any]] = {
    "ExponentialLR": _exponential,
    "StepLR": _step,
    "MultiStepLR": _multi_step,
    "CosineAnnealingLR": _cosine_annealing,
    "LinearLR": _linear,
    "ConstantLR": _constant,
    "PolynomialLR": _polynomial,
}


def scheduled_lr(lr: Any, lr_scheduler: Any = None,
                 lr_scheduler_hparam: Mapping[str, Any] | None = None) -> Any:
    """pyrado's ``lr``, ``lr_scheduler`` and ``lr_scheduler_hparam`` as one learning rate.

    Parameters
    ----------
    lr : float, str or callable
        The initial learning rate (pyrado's ``lr``); without a scheduler it is returned as is.
    lr_scheduler : str or callable, optional
        A torch scheduler's name, with torch's meaning, stepped once per iteration:
        ``'ExponentialLR'`` (``gamma``), ``'StepLR'`` (``step_size``, ``gamma=0.1``),
        ``'MultiStepLR'`` (``milestones``, ``gamma=0.1``), ``'CosineAnnealingLR'`` (``T_max``,
        ``eta_min=0``), ``'LinearLR'`` (``start_factor=1/3``, ``end_factor=1``,
        ``total_iters=5``), ``'ConstantLR'`` (``factor=1/3``, ``total_iters=5``),
        ``'PolynomialLR'`` (``total_iters=5``, ``power=1``) or ``'LambdaLR'`` (``lr_lambda``,
        a factor on ``lr``). Or a callable of the iteration count that returns the learning rate
        (an optax schedule such as ``optax.exponential_decay(5e-4, 1, 0.99)``), or a factory of
        one, called with ``lr_scheduler_hparam`` as keywords.
    lr_scheduler_hparam : dict, optional
        The scheduler's hyperparameters (torch's keyword arguments, less the optimizer).

    Returns
    -------
    float, str or IterationSchedule
        What the agents' ``lr`` takes. A named scheduler other than ``LambdaLR`` becomes a string
        such as ``'ExponentialLR:{"gamma": 0.99, "lr": 0.0005}'``, so that checkpoints can save
        it; :func:`schedule_value` evaluates it at the iteration count.
    """
    hparam = dict(lr_scheduler_hparam or {})
    if lr_scheduler is None:
        if hparam:
            raise ValueError(f"lr_scheduler_hparam: expected None without an lr_scheduler, got {hparam!r}")
        return lr
    if callable(lr_scheduler):
        return IterationSchedule(lr_scheduler(**hparam) if hparam else lr_scheduler)
    if isinstance(lr, str) or callable(lr) or not float(lr) > 0:
        raise ValueError(f"lr: expected a float > 0 (the initial learning rate) with "
                         f"lr_scheduler={lr_scheduler!r}, got {lr!r}")
    if lr_scheduler == "LambdaLR":
        lr_lambda = hparam.pop("lr_lambda", None)
        if not callable(lr_lambda) or hparam:
            raise ValueError(f"lr_scheduler_hparam: expected {{'lr_lambda': <callable>}} for LambdaLR, "
                             f"got {lr_scheduler_hparam!r}")
        return IterationSchedule(lr_lambda, float(lr))
    spec = f"{lr_scheduler}:{json.dumps({**hparam, 'lr': float(lr)}, sort_keys=True)}"
    _parse(spec)  # checks the name and the hyperparameters now, not at the first update
    return spec


def is_iteration_schedule(schedule: Any) -> bool:
    """Whether ``schedule`` follows the iteration count (pyrado's schedulers) rather than progress."""
    return isinstance(schedule, IterationSchedule) or (
        isinstance(schedule, str) and schedule.partition(":")[0] in LR_SCHEDULERS)


@functools.lru_cache(maxsize=64)
def _parse(spec: str) -> IterationSchedule:
    """The :class:`IterationSchedule` of a string made by :func:`scheduled_lr`."""
    name, _, text = spec.partition(":")
    if name not in LR_SCHEDULERS:
        raise ValueError(f"lr_scheduler: expected one of {[*LR_SCHEDULERS, 'LambdaLR']} or a callable "
                         f"of the iteration count, got {name!r}")
    hparam = json.loads(text)
    lr = float(hparam["lr"])
    factor = LR_SCHEDULERS[name]
    if factor is not _cosine_annealing:
        hparam.pop("lr")
    try:
        factor(0, **hparam)
    except TypeError as exc:
        raise ValueError(f"lr_scheduler_hparam: expected torch's keyword arguments of {name}, "
                         f"got {({k: v for k, v in hparam.items() if k != 'lr'})!r} ({exc})") from None
    return IterationSchedule(functools.partial(factor, **hparam), lr)


def schedule_start(schedule: Any) -> float:
    """The value that ``start`` of :func:`schedule_value` replaces: the ``x`` of ``'lin_x'``, the
    constant, a pyrado scheduler's initial ``lr``; 1.0 for schedules that ignore ``start``."""
    if isinstance(schedule, str) and is_iteration_schedule(schedule):
        schedule = _parse(schedule)
    if isinstance(schedule, IterationSchedule):
        return 1.0 if schedule.lr is None else schedule.lr
    if callable(schedule):
        return 1.0
    return float(schedule[4:]) if isinstance(schedule, str) else float(schedule)


def schedule_value(schedule: Any, progress: Any, start: Any = None, iteration: Any = 0) -> Any:
    """The value of a schedule at ``progress`` in [0, 1] or after ``iteration`` iterations.

    Parameters
    ----------
    schedule : float, str or callable
        A constant; ``'lin_<x>'``, linear from ``x`` to 0; a callable of the remaining
        fraction ``1 - progress`` (Stable-Baselines3's convention); or a schedule of the
        iteration count made by :func:`scheduled_lr` (pyrado's ``lr_scheduler``).
    progress : float or traced scalar
        The fraction of training done. Plain arithmetic only, so the same function serves the
        host's loop (Python floats) and the fast path's compiled loop (traced JAX scalars).
    start : float or traced scalar, optional
        Replaces the schedule's own value (the ``x`` of ``'lin_x'``, the constant, or a pyrado
        scheduler's initial ``lr``): the fast path passes it as a traced argument so that one
        compiled program serves many values. A callable of progress ignores it.
    iteration : int or traced integer scalar
        The number of iterations (rounds of updates) done before this one; only pyrado's
        schedulers read it.
    """
    if isinstance(schedule, str) and is_iteration_schedule(schedule):
        schedule = _parse(schedule)
    if isinstance(schedule, IterationSchedule):
        return schedule(iteration, start)
    if callable(schedule):
        return schedule(1.0 - progress)
    linear = isinstance(schedule, str)
    if start is None:
        start = float(schedule[4:]) if linear else float(schedule)
    return start * (1.0 - progress) if linear else start
