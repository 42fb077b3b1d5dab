"""CartPole with SARSA and a linear function approximator (the seed's first example).

A type-I Q-function, linear in full-quadratic features of the state for each action, learns
by one-step SARSA from an epsilon-greedy policy. Training stops after 10 consecutive episodes
that reach the time limit.

    python examples/cartpole_sarsa.py
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import optax

import plugrl
from plugrl._backend import keras

GAMMA = 0.9


class Linear(plugrl.predefined.LinearFunctionApproximator):
    """Linear in full-quadratic features, with optimistic initial values.

    Every CartPole reward is +1, so values that start at 0 are below every target: the greedy
    policy would keep the first action it tried. Starting at the largest possible value,
    1 / (1 - gamma), makes untried actions look best until they have been tried.
    """

    def head_q1(self, X):
        optimistic = keras.initializers.Constant(1.0 / (1.0 - GAMMA))
        return keras.layers.Dense(1, kernel_initializer="zeros", bias_initializer=optimistic)(X)


def main(num_episodes: int = 200, seed: int = 0, env_id: str = "CartPole-v0",
         verbose: bool = True) -> dict:
    """Train and return ``{'returns': [...], 'solved': bool, 'q': QTypeI}``."""
    env = gym.make(env_id)
    func = Linear(env, interaction="full_quadratic", optimizer=optax.adam(0.01), random_seed=seed)
    q = plugrl.QTypeI(func, gamma=GAMMA, update_strategy="sarsa")
    policy = plugrl.EpsilonGreedy(q, random_seed=seed)

    returns, consecutive_successes = [], 0
    for ep in range(num_episodes):
        s, _ = env.reset(seed=seed if ep == 0 else None)
        policy.set_epsilon(0.1 if ep < 10 else 0.01)
        G, done = 0.0, False
        while not done:
            a = policy(s)
            s_next, r, terminated, truncated, _ = env.step(a)
            q.update(s, a, r, terminated, truncated=truncated, s_next=s_next)
            G += r
            done = terminated or truncated
            s = s_next
        returns.append(G)
        consecutive_successes = consecutive_successes + 1 if truncated else 0
        if verbose:
            status = "success" if truncated else "failed"
            print(f"episode {ep + 1:3d}: return {G:5.0f} ({status}), "
                  f"consecutive successes: {consecutive_successes}")
        if consecutive_successes == 10:
            break
    solved = consecutive_successes == 10
    if verbose:
        print("Solved: 10 consecutive episodes reached the time limit." if solved
              else f"Not solved within {num_episodes} episodes.")
    return {"returns": returns, "solved": solved, "q": q}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--env", default="CartPole-v0")
    args = parser.parse_args()
    result = main(args.episodes, args.seed, args.env)
    raise SystemExit(0 if result["solved"] else 1)
