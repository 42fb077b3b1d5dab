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


class Progress:
    """Checks the greedy policy every ``every`` episodes and prints how training goes."""

    def __init__(self, env: gym.Env, policy: Any, seed: int, verbose: bool, every: int = 20) -> None:
        self.env, self.policy, self.seed, self.verbose, self.every = env, policy, seed, verbose, every
        self.returns: list[float] = []
        self.greedy_return = 0.0

    def episode_done(self, G: float) -> bool:
        """Record an episode's return; True once the greedy policy reaches the goal."""
        self.returns.append(G)
        episodes = len(self.returns)
        if episodes % self.every:
            return False
        self.greedy_return = greedy_return(self.env, self.policy, self.seed)
        if self.verbose:
            rate = sum(self.returns[-self.every:]) / self.every
            print(f"episode {episodes:4d}: success rate of last {self.every} {rate:.2f}, "
                  f"greedy return {self.greedy_return:.0f}")
        return self.greedy_return == 1.0

    def summary(self) -> dict:
        """Print the outcome; return ``{'returns': [...], 'greedy_return': float}``."""
        if self.verbose:
            print("Solved: the greedy policy reaches the goal." if self.greedy_return == 1.0
                  else f"Not solved within {len(self.returns)} episodes.")
        return {"returns": self.returns, "greedy_return": self.greedy_return}
