"""PPO env steps/s with Ray actors on an environment whose step costs 2 ms (issue 18).

The environment is CartPole-v1 whose ``step`` first spins for ``--step-ms`` ms (a busy loop, no
sleep: it takes a core, as a physics or chemistry simulator would). Every configuration trains
PPO on ``--envs`` environments (default 2) with the same seed and settings, for ``--steps`` env
steps after a warm-up ``fit`` (compilation, actor start-up):

- ``sync``: the local vector env, one process (the baseline);
- ``async``: Gymnasium's subprocess vector env, one subprocess per env;
- ``ray-1``: one Ray actor stepping all envs (``envs_per_worker = envs``);
- ``ray-2`` (...): one actor per env (``envs_per_worker = 1``).

All Ray runs collect the same data as ``sync`` bit for bit (same seed), so only their speed
differs. RLlib's PPO is not run: ``ray[rllib]`` pins ``gymnasium==1.2.2`` (plugrl runs on the
installed 1.4) and its PPO needs torch, neither of which the shared environment can take.

    python benchmarks/ray_scaling.py [--steps 4096] [--envs 2] [--step-ms 2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import gymnasium as gym


class BusyCartPole(gym.Wrapper):
    """CartPole whose step spins for ``step_ms`` milliseconds first."""

    def __init__(self, step_ms: float) -> None:
        super().__init__(gym.make("CartPole-v1"))
        self.step_seconds = step_ms / 1000.0

    def step(self, action):
        end = time.perf_counter() + self.step_seconds
        while time.perf_counter() < end:
            pass
        return super().step(action)


def make_env(step_ms: float):
    return lambda: BusyCartPole(step_ms)


def steps_per_second(name: str, args: argparse.Namespace) -> float:
    from plugrl.agents import PPO

    vectorization, _, workers = name.partition("-")
    options = {"vectorization": vectorization}
    if vectorization == "ray":
        options["envs_per_worker"] = args.envs // int(workers)
    agent = PPO(make_env(args.step_ms), seed=0, num_envs=args.envs, n_steps=64, batch_size=64,
                num_epoch=4, hidden_sizes=(64, 64), **options)
    agent.fit(2 * 64 * args.envs)  # warm-up: compilation, actors started and their policy built
    start, steps = time.perf_counter(), agent.num_steps
    agent.fit(args.steps)
    rate = (agent.num_steps - steps) / (time.perf_counter() - start)
    agent.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4096)
    parser.add_argument("--envs", type=int, default=2)
    parser.add_argument("--step-ms", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    import ray

    ray.init(num_cpus=args.envs, include_dashboard=False, log_to_driver=False)
    names = ["sync", "async", "ray-1", *(f"ray-{w}" for w in range(2, args.envs + 1) if args.envs % w == 0)]
    results = {name: [] for name in names}
    for _ in range(args.repeats):  # interleaved, so that the machine's load touches all alike
        for name in names:
            results[name].append(steps_per_second(name, args))
            print(f"{name:>6}: {results[name][-1]:8.1f} env steps/s", flush=True)
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    print(f"\nmedian env steps/s over {args.repeats} runs ({args.envs} envs, {args.step_ms} ms per "
          f"step, {args.steps} steps; load average {os.getloadavg()[0]:.2f}):")
    for name, rate in medians.items():
        print(f"{name:>6}: {rate:8.1f}   x{rate / medians['ray-1']:.2f} of ray-1, "
              f"x{rate / medians['sync']:.2f} of sync")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"args": vars(args), "runs": results, "median": medians}, f, indent=2)
    ray.shutdown()


if __name__ == "__main__":
    main()
