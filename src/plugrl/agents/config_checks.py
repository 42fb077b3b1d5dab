"""Checks shared by the agents' configuration classes (:mod:`plugrl.agents.config`,
:mod:`plugrl.agents.off_policy_config`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from plugrl.samplers import VECTORIZATIONS
from plugrl.samplers.ray_workers import RayOptions
from plugrl.utils.schedules import is_iteration_schedule

__all__ = ["LearningRate", "check_choice", "check_optional_positive", "check_schedule",
           "check_training_setup", "ray_options"]

LearningRate = float | str | Callable[[float], float]


def check_training_setup(config: Any) -> None:
    """The fields every agent's configuration has: learning rate, gradient clipping,
    vectorization and the default networks' layer sizes."""
    check_schedule("lr", config.lr, positive=True)
    check_optional_positive("max_grad_norm", config.max_grad_norm)
    check_choice("vectorization", config.vectorization, VECTORIZATIONS)
    ray_options(config)  # checks the Ray fields
    if not config.hidden_sizes or any(int(h) < 1 for h in config.hidden_sizes):
        raise ValueError(f"hidden_sizes: expected positive layer sizes, got {config.hidden_sizes}")


def ray_options(config: Any) -> RayOptions:
    """The Ray fields of an agent's configuration, checked (defaults for those it lacks)."""
    return RayOptions(**{f.name: getattr(config, f.name) for f in dataclasses.fields(RayOptions)
                         if hasattr(config, f.name)})


def check_optional_positive(name: str, value: Any) -> None:
    if value is not None and not float(value) > 0:
        raise ValueError(f"{name}: expected None or a float > 0, got {value}")


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")


def check_schedule(name: str, value: Any, positive: bool) -> None:
    if callable(value) or (name == "lr" and is_iteration_schedule(value)):
        return
    if isinstance(value, str):
        if not value.startswith("lin_"):
            raise ValueError(f"{name}: expected a float, 'lin_<float>' or a callable, got {value!r}")
        value = value[4:]
    if not float(value) > 0:
        raise ValueError(f"{name}: expected a value > 0, got {value}")
