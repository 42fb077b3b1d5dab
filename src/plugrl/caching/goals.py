"""Gymnasium's goal-conditioned convention: where the goals sit in flattened ``Dict``
observations, and the env methods that relabelling calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["GoalLayout", "dict_space", "goal_layout", "goal_method"]

_GOAL_KEYS = ("achieved_goal", "desired_goal", "observation")


class GoalLayout(NamedTuple):
    """Where the goals sit in the flat observations of a goal-conditioned ``Dict`` space
    (Gymnasium's ``spaces.flatten``, the keys in the space's order)."""

    space: spaces.Dict
    achieved: slice
    desired: slice
    goal_space: spaces.Space[Any]

    def goals(self, X: np.ndarray, which: slice) -> np.ndarray:
        """The goals at ``which`` of flat observations ``X`` [n, d], in the goal space's shape
        and dtype, as ``compute_reward`` takes them."""
        G = X[:, which].reshape(len(X), *(self.goal_space.shape or ()))
        return G.astype(self.goal_space.dtype) if self.goal_space.dtype is not None else G


def goal_layout(space: spaces.Space[Any]) -> GoalLayout:
    """The :class:`GoalLayout` of a goal-conditioned observation space.

    Raises
    ------
    TypeError
        If ``space`` is not a ``Dict`` with the keys ``observation``, ``achieved_goal`` and
        ``desired_goal``, or its goals are not ``Box`` or ``MultiBinary`` spaces of one shape.
    """
    if not isinstance(space, spaces.Dict) or set(space.spaces) != set(_GOAL_KEYS):
        raise TypeError(f"env.observation_space: expected a Dict with the keys {list(_GOAL_KEYS)} "
                        f"(Gymnasium's goal-conditioned convention), got {space}")
    achieved, desired = space["achieved_goal"], space["desired_goal"]
    if not isinstance(achieved, (spaces.Box, spaces.MultiBinary)) or achieved.shape != desired.shape:
        raise TypeError(f"env.observation_space: expected achieved_goal and desired_goal Box or "
                        f"MultiBinary spaces of one shape, got {achieved} and {desired}")
    offsets = np.cumsum([0] + [spaces.flatdim(s) for s in space.spaces.values()])
    where = {key: slice(int(offsets[i]), int(offsets[i + 1])) for i, key in enumerate(space.spaces)}
    return GoalLayout(space, where["achieved_goal"], where["desired_goal"], achieved)


def dict_space(env: gym.Env) -> spaces.Space[Any]:
    """The goal-conditioned ``Dict`` space of ``env`` or of an env it wraps (flattening
    wrappers hide it)."""
    while not isinstance(env.observation_space, spaces.Dict) and isinstance(env, gym.Wrapper):
        env = env.env
    return env.observation_space


def goal_method(env: gym.Env, name: str) -> Callable[..., Any]:
    """The unwrapped env's method ``name`` (``compute_reward``), or a TypeError naming it."""
    method = getattr(env.unwrapped, name, None)
    if not callable(method):
        raise TypeError(f"env: expected a goal-conditioned env with a vectorised {name}(achieved_goal, "
                        f"desired_goal, info), got {type(env.unwrapped).__name__} without one")
    return method
