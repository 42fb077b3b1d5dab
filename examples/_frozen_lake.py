"""What the FrozenLake examples share: the environment and a greedy evaluation."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from plugrl.wrappers import DefaultPreprocessor


def make_env() -> gym.Env:
    """Non-slippery FrozenLake 4x4 with one-hot observations."""
    return DefaultPreprocessor(gym.make("FrozenLake-v1", is_slippery=False))


def greedy_return(env: gym.Env, policy: Any, seed: int = 0) -> float:
    """The return of one episode that follows ``policy.greedy``."""
    s, _ = env.reset(seed=seed)
    G, done = 0.0, False
    while not done:
        s, r, terminated, truncated, _ = env.step(policy.greedy(s))
        G += r
        done = terminated or truncated
    return G
