"""Non-slippery FrozenLake with soft actor-critic (SAC).

A softmax policy, a state value function and twin type-II Q-functions share one linear
function approximator (each with a head of its own) and are updated together on every step.

    python examples/frozen_lake_sac.py
"""

from __future__ import annotations

import argparse

from _frozen_lake import Progress, make_env

import plugrl


def main(num_episodes: int = 1000, seed: int = 0, verbose: bool = True) -> dict:
    """Train and return ``{'returns': [...], 'greedy_return': float, 'sac': SoftActorCritic}``."""
    env = make_env()
    func = plugrl.predefined.LinearFunctionApproximator(env, lr=0.5, random_seed=seed)
    sac = plugrl.SoftActorCritic.from_func(func, gamma=0.9, entropy_beta=0.001, random_seed=seed)

    progress = Progress(env, sac.policy, seed, verbose)
    for ep in range(num_episodes):
        s, _ = env.reset(seed=seed + ep)
        done = False
        while not done:
            a = sac.policy(s)
            s_next, r, terminated, truncated, _ = env.step(a)
            sac.update(s, a, r, terminated, truncated=truncated, s_next=s_next)
            sac.sync_target_model(tau=1.0)
            done = terminated or truncated
            s = s_next
        if progress.episode_done(r):
            break
    return {**progress.summary(), "sac": sac}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    raise SystemExit(0 if main(args.episodes, args.seed)["greedy_return"] == 1.0 else 1)
