"""Speed of actor-critic updates and of action sampling (issue: policy-based learning).

On CartPole-v1 with a 64-unit MLP body shared by a softmax policy (PPO) and a state value
function: the median time of one ``ActorCritic.batch_update`` on a batch of 64 (public API,
input checks and metrics included), of the jitted step alone, and of sampling one action with
``policy(s)``. Also a Gaussian policy on Pendulum-v1. Medians over ``--repeats`` runs.

    python benchmarks/actor_critic.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np

import plugrl
from plugrl._backend import keras


class MLP(plugrl.FunctionApproximator):
    def body(self, S):
        return keras.layers.Dense(64, activation="relu")(S)


def per_call_us(fn, num_calls: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(num_calls):
        fn()
    return 1e6 * (time.perf_counter() - start) / num_calls


def measure(env: gym.Env, repeats: int) -> dict[str, float]:
    actor_critic = plugrl.ActorCritic.from_func(MLP(env, lr=1e-3, random_seed=0), gamma=0.99,
                                                update_strategy="ppo", random_seed=0)
    rng = np.random.default_rng(0)
    S = rng.normal(size=(64, *env.observation_space.shape)).astype(np.float32)
    A = actor_critic.policy.batch_eval(S)
    Rn, In = np.ones(64, np.float32), np.full(64, 0.99, np.float32)
    batch = (S, actor_critic.policy.check_actions(A, 64), Rn, In, S)
    s = S[0]

    def raw_steps() -> None:
        metrics = actor_critic._apply(batch)
        metrics.values.block_until_ready()

    figures = {"batch_update_us": [], "jitted_step_us": [], "sample_us": []}
    for _ in range(repeats):
        batch_update_us = per_call_us(lambda: actor_critic.batch_update(S, A, Rn, In, S), 300)
        figures["batch_update_us"].append(batch_update_us)
        figures["jitted_step_us"].append(per_call_us(raw_steps, 300))
        figures["sample_us"].append(per_call_us(lambda: actor_critic.policy(s), 1000))
    return {name: statistics.median(values) for name, values in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    envs = {"CartPole-v1 (softmax)": gym.make("CartPole-v1"),
            "Pendulum-v1 (Gaussian)": plugrl.wrappers.BoxActionsToReals(gym.make("Pendulum-v1"))}
    for name, env in envs.items():
        print(f"plugrl ActorCritic, {name}, shared 64-unit MLP, PPO, batch 64 "
              f"(median of {args.repeats} runs, microseconds)")
        for key, value in measure(env, args.repeats).items():
            print(f"  {key:16s} {value:8.1f}")


if __name__ == "__main__":
    main()
