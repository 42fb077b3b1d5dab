"""SVPG on CartPole-v1 against independent agents: learning curves and the cost of an iteration.

Two parts:

1. **Learning** (fast path, JAX CartPole): per seed, SVPG with 8 A2C particles at each
   temperature, against 8 independent A2C agents trained at once with ``train_many`` (same
   networks, settings and per-agent budget; their seeds are the particles' seeds). Every
   ``--eval-every`` env steps per agent, the mean and best of the agents' deterministic
   evaluation returns (20 episodes each, inside the compiled program) are printed.
2. **Speed**: the wall time of warm runs (compiled before timing) of SVPG with n particles
   against n independent A2C agents trained one after another (each its own ``fit``), for each
   n in ``--particles``: on the fast path in one compiled chunk (and against ``train_many`` of
   n agents at once), on the fast path with the host called after every iteration (as
   ``train()`` or a callback does), and on Gymnasium's CartPole (the ordinary path). Prints the
   ratio (n agents' time / SVPG's time).

::

    python benchmarks/svpg_cartpole.py [--seeds 0,1,2] [--temperatures 1,10,100]
        [--budget 50000] [--eval-every 10000] [--particles 8,16] [--parts learning,speed]
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from typing import Any

import numpy as np

from plugrl.agents import A2C, SVPG
from plugrl.envs.jax import make

EVAL_EPISODES = 20


def learning(seeds: list[int], temperatures: list[float], budget: int, every: int) -> None:
    n = 8
    print(f"\n== learning: {n} A2C particles, {budget} env steps per agent, "
          f"eval every {every} ({EVAL_EPISODES} episodes)")
    for seed in seeds:
        runs = A2C(make("CartPole-v1"), seed=seed, eval_episodes=EVAL_EPISODES).train_many(
            [seed + 2 * i for i in range(n)], budget, eval_interval=every)
        _print_curve(f"seed {seed} independent", runs.eval_steps, runs.eval_returns.T)
        for temperature in temperatures:
            agent = SVPG(make("CartPole-v1"), num_particles=n, temperature=temperature, seed=seed,
                         eval_episodes=EVAL_EPISODES)
            agent.fit(n * budget, eval_interval=n * every)
            curve = np.array([[h[f"SVPG/eval_return_{i}"] for i in range(n)] for h in agent.history])
            steps = np.array([h["steps"] for h in agent.history]) / n
            _print_curve(f"seed {seed} SVPG T={temperature:g}", steps, curve)


def _print_curve(label: str, steps: np.ndarray, returns: np.ndarray) -> None:
    """``returns`` [evaluations, agents]: the mean and best over agents at each evaluation."""
    mean = " ".join(f"{r:6.1f}" for r in returns.mean(axis=1))
    best = " ".join(f"{r:6.1f}" for r in returns.max(axis=1))
    print(f"{label:28s} steps {' '.join(f'{int(s):6d}' for s in steps)}")
    print(f"{'':28s} mean  {mean}  (final {returns[-1].mean():.1f}, area {returns.mean():.1f})")
    print(f"{'':28s} best  {best}")


def speed(particles: list[int]) -> None:
    print("\n== speed: warm iterations, SVPG of n A2C particles against n independent A2C agents")
    regimes = (("fast path, one chunk", True, 40_000, None),
               ("fast path, host per iteration", True, 4_000, lambda agent, record: None),
               ("ordinary path", False, 1_000, None))
    for label, fast, steps_per_agent, callback in regimes:
        for n in particles:
            env = (lambda: make("CartPole-v1")) if fast else (lambda: "CartPole-v1")
            svpg = SVPG(env(), num_particles=n, seed=0)
            svpg_time = _warm_time(functools.partial(svpg.fit, n * steps_per_agent, callback=callback))
            agents = [A2C(env(), seed=2 * i) for i in range(n)]
            independent = _warm_time(functools.partial(_fit_all, agents, steps_per_agent, callback))
            line = (f"{label:30s} n={n:2d}: SVPG {svpg_time:6.2f} s, {n} agents one after another "
                    f"{independent:6.2f} s -> ratio {independent / svpg_time:5.2f}x")
            if fast and callback is None:
                many = A2C(env(), seed=0)
                seeds = [2 * i for i in range(n)]
                vmapped = _warm_time(functools.partial(many.train_many, seeds, steps_per_agent))
                line += f"; train_many of {n} {vmapped:6.2f} s ({vmapped / svpg_time:4.2f}x)"
            print(line + f"  [{steps_per_agent} steps per agent]")


def _fit_all(agents: list[Any], steps: int, callback: Any) -> None:
    for agent in agents:
        agent.fit(steps, callback=callback)


def _warm_time(run: Any) -> float:
    """Seconds of ``run()`` after a first call that compiles."""
    run()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--temperatures", default="1,10,100")
    parser.add_argument("--budget", type=int, default=50_000)
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--particles", default="8,16")
    parser.add_argument("--parts", default="learning,speed")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    parts = args.parts.split(",")
    if "learning" in parts:
        learning([int(s) for s in args.seeds.split(",")], [float(t) for t in args.temperatures.split(",")],
                 args.budget, args.eval_every)
    if "speed" in parts:
        speed([int(n) for n in args.particles.split(",")])
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
