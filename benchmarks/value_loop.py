"""Speed of the seed's value-based loop and of batch updates (issue: foundation).

Measures, on CartPole-v1 with a 64-unit MLP body and a QTypeII Q-learning update:

- the single-transition loop ``a = policy(s)``, ``env.step(a)``, ``q.update(s, a, r, done)``:
  environment steps per second, and the split between act, update and env;
- ``q.batch_update`` on batches of 64 (public API, input checks and metrics included) and the
  jitted step alone.

Each figure is the median over ``--repeats`` runs, after a warm-up that compiles everything.

    python benchmarks/value_loop.py [--steps 3000] [--repeats 5]
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


def single_transition_loop(q, policy, env, num_steps: int) -> dict[str, float]:
    """Run the seed's loop for ``num_steps`` steps; return seconds spent per phase."""
    clock = time.perf_counter
    t_act = t_env = t_update = 0.0
    s, _ = env.reset(seed=0)
    start = clock()
    for _ in range(num_steps):
        t0 = clock()
        a = policy(s)
        t1 = clock()
        s_next, r, terminated, truncated, _ = env.step(a)
        t2 = clock()
        q.update(s, a, r, terminated, truncated=truncated, s_next=s_next)
        t3 = clock()
        t_act, t_env, t_update = t_act + t1 - t0, t_env + t2 - t1, t_update + t3 - t2
        s = env.reset()[0] if terminated or truncated else s_next
    q(s)  # wait for the last asynchronous update
    total = clock() - start
    return {"steps_per_s": num_steps / total, "act_us": 1e6 * t_act / num_steps,
            "env_us": 1e6 * t_env / num_steps, "update_us": 1e6 * t_update / num_steps}


def batch_update_times(q, num_calls: int, batch_size: int = 64) -> dict[str, float]:
    """Median microseconds per public ``batch_update`` and per raw jitted step."""
    rng = np.random.default_rng(0)
    S = rng.normal(size=(batch_size, 4)).astype(np.float32)
    A = rng.integers(0, 2, batch_size)
    Rn = np.ones(batch_size, np.float32)
    In = np.full(batch_size, 0.99, np.float32)
    q.batch_update(S, A, Rn, In, S)  # compile
    t0 = time.perf_counter()
    for _ in range(num_calls):
        q.batch_update(S, A, Rn, In, S)
    public = (time.perf_counter() - t0) / num_calls
    updater = q.updater
    batch = updater._check_batch(S, A, Rn, In, S, None)
    state = q.train_state
    t0 = time.perf_counter()
    for _ in range(num_calls):
        state, metrics = updater._step(state, batch, updater._key)
    metrics[next(iter(metrics))].block_until_ready()
    raw = (time.perf_counter() - t0) / num_calls
    return {"batch_update_us": 1e6 * public, "jitted_step_us": 1e6 * raw}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    env = gym.make("CartPole-v1")
    q = plugrl.QTypeII(MLP(env, lr=1e-3, random_seed=0), gamma=0.99, update_strategy="q_learning")
    policy = plugrl.EpsilonGreedy(q, epsilon=0.1, random_seed=0)
    single_transition_loop(q, policy, env, 300)  # warm-up: compile act and update

    loops = [single_transition_loop(q, policy, env, args.steps) for _ in range(args.repeats)]
    batches = [batch_update_times(q, 500) for _ in range(args.repeats)]
    print(f"plugrl value loop, CartPole-v1, 64-unit MLP, QTypeII q_learning "
          f"(median of {args.repeats} runs)")
    for key in loops[0]:
        print(f"  {key:16s} {statistics.median(r[key] for r in loops):10.1f}")
    for key in batches[0]:
        print(f"  {key:16s} {statistics.median(r[key] for r in batches):10.1f}")


if __name__ == "__main__":
    main()
