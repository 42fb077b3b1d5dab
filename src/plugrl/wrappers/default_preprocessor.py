"""Observation wrapper that turns any supported observation into float32 features."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from plugrl.utils.spaces import feature_space, feature_vector

__all__ = ["DefaultPreprocessor"]


class DefaultPreprocessor(gym.ObservationWrapper):
    r"""Make observations float32 arrays that a function approximator can consume.

    * ``Box``: same shape, cast to float32 (bounds too);
    * ``Discrete(n)``: one-hot vector of size ``n``, e.g. FrozenLake's state 0 becomes
      :math:`e_0 = (1, 0, \dots, 0) \in \mathbb{R}^{16}`;
    * ``MultiDiscrete``, ``MultiBinary``, ``Tuple``, ``Dict``: the flat
      :func:`~plugrl.utils.feature_vector`, of size :func:`~plugrl.utils.feature_dim`.

    Parameters
    ----------
    env : gymnasium.Env
        The environment to wrap. Its observation space must be one of the above (nesting
        allowed); other spaces raise :class:`TypeError`.

    Attributes
    ----------
    observation_space : gymnasium.spaces.Box, float32
        The space of the preprocessed observations.
    original_observation_space : gymnasium.spaces.Space
        The wrapped environment's observation space.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.original_observation_space = env.observation_space
        space = env.observation_space
        if isinstance(space, spaces.Box):
            # keep the shape so that e.g. image observations stay images
            self.observation_space = spaces.Box(
                low=space.low.astype(np.float32),
                high=space.high.astype(np.float32),
                dtype=np.float32,
            )
        else:
            self.observation_space = feature_space(space)

    def observation(self, observation: Any) -> np.ndarray:
        """Map one raw observation to its features.

        Parameters
        ----------
        observation : Any
            An element of :attr:`original_observation_space`.

        Returns
        -------
        features : ndarray, float32, shape: observation_space.shape
        """
        space = self.original_observation_space
        if isinstance(space, spaces.Box):
            obs = np.asarray(observation)
            if obs.shape != space.shape:
                raise ValueError(
                    f"observation: expected shape {space.shape}, got {obs.shape}"
                )
            return obs.astype(np.float32)
        return feature_vector(observation, space)
