"""Pendulum with a Gaussian policy, PPO updates and a state value function.

The actor-critic collects a rollout, then takes several epochs of minibatch updates with
n-step TD advantages; the policy's target model is the "old" policy of PPO and is synced after
every rollout. Actions live on the real line (``BoxActionsToReals``) and are squashed into
[-2, 2] by the wrapper. Pendulum learns slowly; see ``--steps``.

    python examples/pendulum_ppo.py --steps 100000
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
from _returns import best_average

import plugrl
from plugrl._backend import keras


class MLP(plugrl.FunctionApproximator):
    """Two hidden layers of 64 tanh units."""

    def body(self, S):
        X = keras.layers.Dense(64, activation="tanh")(S)
        return keras.layers.Dense(64, activation="tanh")(X)


def main(num_steps: int = 100_000, seed: int = 0, rollout_length: int = 1024, num_epochs: int = 8,
         batch_size: int = 64, verbose: bool = True) -> dict:
    """Train and return ``{'returns': [...], 'actor_critic': ActorCritic}``."""
    env = plugrl.wrappers.BoxActionsToReals(gym.make("Pendulum-v1"))
    pi = plugrl.GaussianPolicy(MLP(env, lr=3e-4, random_seed=seed), update_strategy="ppo",
                               entropy_beta=0.0, random_seed=seed)
    v = plugrl.V(MLP(env, lr=1e-3, random_seed=seed + 1), gamma=0.95, bootstrap_n=8)
    actor_critic = plugrl.ActorCritic(pi, v)
    cache = plugrl.caching.NStepCache(env, n=v.bootstrap_n, gamma=v.gamma)
    rng = np.random.default_rng(seed)

    rollout, returns, G = [], [], 0.0
    s, _ = env.reset(seed=seed)
    for step in range(1, num_steps + 1):
        a = pi(s)
        s_next, r, terminated, truncated, _ = env.step(a)
        cache.add(s, a, r / 10.0, terminated, truncated=truncated, s_next=s_next)
        while cache:
            rollout.append(cache.pop())
        G += r
        s = s_next
        if terminated or truncated:
            returns.append(G)
            G, s = 0.0, env.reset()[0]
            if verbose and len(returns) % 10 == 0:
                print(f"step {step:7d}, episode {len(returns):4d}: "
                      f"average return of last 10 {np.mean(returns[-10:]):8.1f}")
        if len(rollout) >= rollout_length:
            _learn(actor_critic, rollout, num_epochs, batch_size, rng)
            rollout = []
    if verbose:
        print(f"Best average return over 10 episodes: {best_average(returns):.1f}")
    return {"returns": returns, "actor_critic": actor_critic}


def _learn(actor_critic: plugrl.ActorCritic, rollout: list, num_epochs: int, batch_size: int,
           rng: np.random.Generator) -> None:
    S, A, Rn, In, S_next, _ = (np.concatenate(field) for field in zip(*rollout))
    for _ in range(num_epochs):
        order = rng.permutation(len(S))
        for start in range(0, len(S) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            actor_critic.batch_update(S[idx], A[idx], Rn[idx], In[idx], S_next[idx])
    actor_critic.sync_target_model(tau=1.0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.seed)
