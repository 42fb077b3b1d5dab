"""Non-slippery FrozenLake with a TD actor-critic and PPO policy updates.

A softmax policy and a state value function, each linear in the one-hot state, are updated
together by an ``ActorCritic`` on every step; the target model of the policy is the "old"
policy of PPO and is synced at the end of every episode.

    python examples/frozen_lake_actor_critic.py
"""

from __future__ import annotations

import argparse

from _frozen_lake import Progress, make_env

import plugrl


def main(num_episodes: int = 1000, seed: int = 0, verbose: bool = True) -> dict:
    """Train and return ``{'returns': [...], 'greedy_return': float, 'actor_critic': ...}``."""
    env = make_env()
    pi = plugrl.SoftmaxPolicy(plugrl.predefined.LinearFunctionApproximator(env, lr=0.5, random_seed=seed),
                              update_strategy="ppo", entropy_beta=0.0, random_seed=seed)
    v = plugrl.V(plugrl.predefined.LinearFunctionApproximator(env, lr=0.5, random_seed=seed),
                 gamma=0.9, bootstrap_n=1)
    actor_critic = plugrl.ActorCritic(pi, v)

    progress = Progress(env, pi, seed, verbose)
    for ep in range(num_episodes):
        s, _ = env.reset(seed=seed + ep)
        done = False
        while not done:
            a = pi(s)
            s_next, r, terminated, truncated, _ = env.step(a)
            actor_critic.update(s, a, r, terminated, truncated=truncated, s_next=s_next)
            done = terminated or truncated
            s = s_next
        actor_critic.sync_target_model(tau=1.0)
        if progress.episode_done(r):
            break
    return {**progress.summary(), "actor_critic": actor_critic}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    raise SystemExit(0 if main(args.episodes, args.seed)["greedy_return"] == 1.0 else 1)
