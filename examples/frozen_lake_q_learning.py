"""Non-slippery FrozenLake with Q-learning on a type-II Q-function.

The state is one-hot encoded by ``DefaultPreprocessor``, so a linear function approximator is
a lookup table. Training stops once the greedy policy reaches the goal.

    python examples/frozen_lake_q_learning.py
"""

from __future__ import annotations

import argparse

from _frozen_lake import Progress, make_env

import plugrl


def main(num_episodes: int = 500, seed: int = 0, verbose: bool = True) -> dict:
    """Train and return ``{'returns': [...], 'greedy_return': float, 'q': QTypeII}``."""
    env = make_env()
    func = plugrl.predefined.LinearFunctionApproximator(env, lr=0.1, random_seed=seed)
    q = plugrl.QTypeII(func, gamma=0.9, update_strategy="q_learning")
    policy = plugrl.EpsilonGreedy(q, epsilon=0.1, random_seed=seed)

    progress = Progress(env, policy, seed, verbose)
    for ep in range(num_episodes):
        s, _ = env.reset(seed=seed + ep)
        done = False
        while not done:
            a = policy(s)
            s_next, r, terminated, truncated, _ = env.step(a)
            q.update(s, a, r, terminated, truncated=truncated, s_next=s_next)
            done = terminated or truncated
            s = s_next
        if progress.episode_done(r):
            break
    return {**progress.summary(), "q": q}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    raise SystemExit(0 if main(args.episodes, args.seed)["greedy_return"] == 1.0 else 1)
