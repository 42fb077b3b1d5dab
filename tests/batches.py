"""Batches of random transitions for tests that only need well-formed inputs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


def random_transitions(env: gym.Env, n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """A batch ``(S, A, Rn, In, S_next)`` of ``n`` random transitions of ``env``, seeded."""
    rng = np.random.default_rng(seed)
    env.observation_space.seed(seed)
    env.action_space.seed(seed)
    S = np.stack([env.observation_space.sample() for _ in range(n)]).astype(np.float32)
    A = np.stack([env.action_space.sample() for _ in range(n)])
    S_next = np.stack([env.observation_space.sample() for _ in range(n)]).astype(np.float32)
    return S, A, rng.normal(size=n).astype(np.float32), np.full(n, 0.9, np.float32), S_next
