"""Hide the velocities of a classic-control observation, making the task partially observed."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["VELOCITY_INDICES", "MaskVelocityWrapper"]

#: Gymnasium id -> the observation entries that are velocities (sb3-contrib's table).
VELOCITY_INDICES = {
    "CartPole-v1": (1, 3),
    "MountainCar-v0": (1,),
    "MountainCarContinuous-v0": (1,),
    "Pendulum-v1": (2,),
    "LunarLander-v3": (2, 3, 5),
    "LunarLanderContinuous-v3": (2, 3, 5),
}


class MaskVelocityWrapper(gym.ObservationWrapper):
    """Set the velocity entries of the observation to 0 (sb3-contrib's ``MaskVelocityWrapper``,
    RL-Zoo's ``CartPoleNoVel-v1``): a feed-forward policy then cannot tell where the system is
    going, a recurrent one can infer it from successive observations. The observation space is
    unchanged, so a policy's input shape stays the same.

    Parameters
    ----------
    env : gymnasium.Env
        One of :data:`VELOCITY_INDICES` (by ``env.spec.id``).
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        env_id = getattr(env.spec, "id", None)
        if env_id not in VELOCITY_INDICES:
            raise ValueError(f"env: expected one of {sorted(VELOCITY_INDICES)} (by spec id), got {env_id!r}")
        self.mask = np.ones(tuple(env.observation_space.shape or ()), np.float32)
        self.mask[list(VELOCITY_INDICES[env_id])] = 0.0

    def observation(self, observation: Any) -> np.ndarray:
        return (observation * self.mask).astype(np.float32)
