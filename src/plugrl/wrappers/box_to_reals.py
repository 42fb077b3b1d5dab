"""Decompactify a Box action space to the reals, as a Gaussian policy needs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.utils.box import reals_to_box_np

__all__ = ["BoxActionsToReals"]


class BoxActionsToReals(gym.ActionWrapper):
    r"""Let the agent act on the real line; map each action back into the original Box.

    The wrapped env expects :math:`a_\text{real}\in\mathbb{R}^n` and passes on

    .. math::

        a\ =\ a_\text{low} + (a_\text{high} - a_\text{low})\,\sigma(a_\text{real})

    with :math:`\sigma` the logistic sigmoid, so every real action is a valid Box action.
    This is what :class:`plugrl.GaussianPolicy` needs: a normal distribution has unbounded
    support.

    Parameters
    ----------
    env : gymnasium.Env
        An environment with a ``Box`` action space with finite bounds.
    """

    def __init__(self, env: gym.Env) -> None:
        space = env.action_space
        if not isinstance(space, gym.spaces.Box):
            raise TypeError(f"env.action_space: expected a Box, got {space}")
        if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
            raise ValueError(f"env.action_space: expected finite bounds, got {space}")
        super().__init__(env)
        self.box_space = space
        self.action_space = gym.spaces.Box(-np.inf, np.inf, space.shape, np.float32)

    def action(self, action: Any) -> np.ndarray:
        a = np.asarray(action, dtype=np.float32)
        if a.shape != self.box_space.shape or not np.isfinite(a).all():
            raise ValueError(f"action: expected finite reals of shape {self.box_space.shape}, "
                             f"got {action!r}")
        return reals_to_box_np(a, self.box_space).astype(self.box_space.dtype)
