"""Non-slippery FrozenLake with REINFORCE (Monte Carlo policy gradient).

A softmax policy, linear in the one-hot state, is updated with the discounted return of each
step, taken from a ``MonteCarloCache`` once the episode is over.

    python examples/frozen_lake_reinforce.py
"""

from __future__ import annotations

import argparse

from _frozen_lake import Progress, make_env

import plugrl


def main(num_episodes: int = 1000, seed: int = 0, verbose: bool = True) -> dict:
    """Train and return ``{'returns': [...], 'greedy_return': float, 'pi': SoftmaxPolicy}``."""
    env = make_env()
    func = plugrl.predefined.LinearFunctionApproximator(env, lr=0.5, random_seed=seed)
    pi = plugrl.SoftmaxPolicy(func, update_strategy="vanilla", entropy_beta=0.0,
                              random_seed=seed)
    cache = plugrl.caching.MonteCarloCache(env, gamma=0.99)

    progress = Progress(env, pi, seed, verbose)
    for ep in range(num_episodes):
        s, _ = env.reset(seed=seed + ep)
        done = False
        while not done:
            a = pi(s)
            s_next, r, terminated, truncated, _ = env.step(a)
            cache.add(s, a, r, terminated, truncated=truncated)
            done = terminated or truncated
            s = s_next
        while cache:  # one update per step, from the last step backwards
            pi.batch_update(*cache.pop())
        if progress.episode_done(r):
            break
    return {**progress.summary(), "pi": pi}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    raise SystemExit(0 if main(args.episodes, args.seed)["greedy_return"] == 1.0 else 1)
