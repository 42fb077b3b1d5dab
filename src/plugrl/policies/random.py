"""A policy that acts uniformly at random."""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["RandomPolicy"]


class RandomPolicy:
    """A policy that samples actions uniformly from the action space.

    Parameters
    ----------
    env : gymnasium.Env
        The environment whose action space is sampled.
    random_seed : int, optional
        Sets the random state to get reproducible results.
    """

    def __init__(self, env: gym.Env, random_seed: int | None = None) -> None:
        self.env = env
        self.random_seed = random_seed
        # A private copy of the space, so that seeding it leaves the env's own space alone.
        self.action_space = copy.deepcopy(env.action_space)
        self.action_space.seed(random_seed)

    def __call__(self, s: Any) -> Any:
        r"""Draw an action :math:`a\sim\pi(.|s)`; the observation ``s`` is ignored."""
        return self.action_space.sample()

    def greedy(self, s: Any) -> Any:
        """A uniform policy has no preferred action: the same as :meth:`__call__`."""
        return self(s)

    def dist_params(self, s: Any) -> Any:
        """Propensities [num_actions] for a ``Discrete`` space; ``(low, high)`` for a ``Box``."""
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            return np.full(space.n, 1.0 / space.n)
        if isinstance(space, gym.spaces.Box):
            return space.low.copy(), space.high.copy()
        raise TypeError(f"dist_params: expected a Discrete or Box action space, got {space}")
