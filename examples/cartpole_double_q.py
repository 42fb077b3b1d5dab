"""CartPole with double Q-learning, n-step bootstrapping and a target network.

A type-II Q-function on a small MLP is updated online, one transition at a time, towards the
n-step double-Q target; the target model is synced every ``target_sync_steps`` steps and epsilon
decays linearly.

    python examples/cartpole_double_q.py
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
from _returns import best_average

import plugrl
from plugrl._backend import keras


class MLP(plugrl.FunctionApproximator):
    """Multi-layer perceptron body with two hidden layers."""

    def body(self, S):
        X = keras.layers.Dense(64, activation="relu")(S)
        return keras.layers.Dense(64, activation="relu")(X)


def main(num_steps: int = 30_000, seed: int = 0, target_sync_steps: int = 500,
         verbose: bool = True) -> dict:
    """Train and return ``{'returns': [...], 'q': QTypeII}``."""
    env = gym.make("CartPole-v1")
    func = MLP(env, lr=0.0005, random_seed=seed)
    q = plugrl.QTypeII(func, gamma=0.99, bootstrap_n=3, bootstrap_with_target_model=True,
                       update_strategy="double_q_learning")
    policy = plugrl.EpsilonGreedy(q, epsilon=1.0, random_seed=seed)

    returns, G, ep = [], 0.0, 0
    s, _ = env.reset(seed=seed)
    for step in range(1, num_steps + 1):
        policy.set_epsilon(max(0.02, 1.0 - step / (0.3 * num_steps)))
        a = policy(s)
        s_next, r, terminated, truncated, _ = env.step(a)
        q.update(s, a, r, terminated, truncated=truncated, s_next=s_next)
        if step % target_sync_steps == 0:
            q.sync_target_model(tau=1.0)
        G += r
        s = s_next
        if terminated or truncated:
            returns.append(G)
            ep += 1
            if verbose and ep % 10 == 0:
                print(f"step {step:6d}, episode {ep:4d}: return {G:4.0f}, "
                      f"average of last 10: {np.mean(returns[-10:]):6.1f}")
            G = 0.0
            s, _ = env.reset()
    if verbose:
        print(f"Best average return over 10 episodes: {best_average(returns):.1f}")
    return {"returns": returns, "q": q}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.seed)
