"""SAC on Pendulum-v1: plugrl against Stable-Baselines3, side by side in one run.

Both libraries train with RL-Zoo's Pendulum-v1 SAC preset (learning rate 1e-3, otherwise SB3's
SAC defaults: batch 256, buffer 1e6, 100 random steps first, ``tau=0.005``, ``gamma=0.99``, one
gradient step per env step, entropy coefficient learned from 1 towards ``-dim(A)``, separate
256x256 ReLU actor and twin critics) for at most ``--steps`` env steps. After every
``--eval-interval`` env steps the deterministic policy plays 10 episodes on a separate
``gymnasium.make("Pendulum-v1")`` with fixed reset seeds (the same for both libraries); training
stops at the first mean return >= -200.

Each (library, seed) runs in a fresh subprocess of this script (``--worker``), one at a time:
plugrl cold (empty JAX compilation cache), plugrl warm (reusing the cache of the cold run), and
SB3 (``torch.set_num_threads(1)``, ``device="cpu"``).

Reported per run and as medians over seeds: env steps at the first evaluation >= -200, wall
time to it, training throughput (env steps / training time, evaluation excluded), steady-state
throughput (after the first 1000 steps, which leaves plugrl's compilation out) and the time of
one update (sampling a batch and one gradient step, timed apart after training). Ratios are
ratios of medians. The floating-point work of one gradient step is printed with them, since at
these sizes it, not the framework, bounds the speed.

    python benchmarks/sac_pendulum_vs_sb3.py [--seeds 0,1,2] [--steps 20000]
        [--eval-interval 2000] [--json PATH] [--plugrl-only] [--no-warm]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import ppo_cartpole_vs_sb3 as common  # evaluation, tables and ratios shared with the PPO benchmark

ENV_ID = "Pendulum-v1"
THRESHOLD = -200.0
EVAL_EPISODES = 10
STEADY_AFTER = 1000
"""Steady-state throughput counts from this many env steps on (learning started, compiled)."""
TIMED_UPDATES = 200

#: RL-Zoo's ``hyperparams/sac.yml`` entry for Pendulum-v1, with SB3's defaults written out.
PRESET = {"lr": 1e-3, "batch_size": 256, "buffer_size": 1_000_000, "learning_starts": 100,
          "tau": 0.005, "gamma": 0.99, "train_freq": 1, "gradient_steps": 1,
          "hidden_sizes": (256, 256)}

clock = time.perf_counter


# ---------------------------------------------------------------------- shared by both workers
class Tracker:
    """Clocks one training run; evaluates after the update of every ``eval_interval``-th step."""

    def __init__(self, act: Callable[[np.ndarray], np.ndarray], eval_interval: int) -> None:
        self.act, self.eval_interval = act, eval_interval
        self.eval_env = gym.make(ENV_ID)
        self.t_fit = math.nan
        self.eval_s = 0.0
        self.steady: tuple[int, float] | None = None
        self.last: tuple[int, float] = (0, 0.0)
        self.evaluations: list[dict[str, float]] = []
        self.solved: dict[str, float] | None = None

    def start_training(self) -> None:
        self.t_fit = clock()

    def boundary(self, steps: int) -> bool:
        """Record the end of env step ``steps`` and its update; return True to stop training."""
        train_s = clock() - self.t_fit - self.eval_s
        self.last = (steps, train_s)
        if self.steady is None and steps >= STEADY_AFTER:
            self.steady = self.last
        if steps % self.eval_interval:
            return False
        t0 = clock()
        mean_return = common.evaluate(self.act, self.eval_env, EVAL_EPISODES)
        self.eval_s += clock() - t0
        record = {"steps": steps, "mean_return": mean_return, "wall_s": clock() - self.t_fit,
                  "wall_no_eval_s": train_s}
        self.evaluations.append(record)
        if mean_return >= THRESHOLD:
            self.solved = record
            return True
        return False

    def result(self) -> dict[str, Any]:
        steps, train_s = self.last
        steady = ((steps - self.steady[0]) / (train_s - self.steady[1])
                  if self.steady and steps > self.steady[0] else math.nan)
        solved = self.solved or {}
        return {"train_s": train_s, "eval_s": self.eval_s, "steps_trained": steps,
                "steps_per_s": steps / train_s, "steady_steps_per_s": steady,
                "steps_to_threshold": solved.get("steps"),
                "wall_to_threshold_s": solved.get("wall_s"),
                "wall_to_threshold_no_eval_s": solved.get("wall_no_eval_s"),
                "evaluations": self.evaluations}


def time_updates(update: Callable[[], Any]) -> float:
    """Median seconds of one call of ``update`` (sample a batch, one gradient step)."""
    times = []
    for _ in range(TIMED_UPDATES):
        t0 = clock()
        update()
        times.append(clock() - t0)
    return statistics.median(times)


# ---------------------------------------------------------------------- workers
def run_plugrl(seed: int, total_steps: int, eval_interval: int,
               jax_cache: str | None) -> dict[str, Any]:
    """Train plugrl's SAC in this process; the returned dict is the worker's JSON."""
    import jax

    if jax_cache:
        jax.config.update("jax_compilation_cache_dir", jax_cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    import plugrl
    from plugrl.agents.off_policy.sac import SAC

    agent: Any = None
    tracker = Tracker(lambda s: agent.select_action(s, deterministic=True), eval_interval)
    p = PRESET
    agent = SAC(ENV_ID, seed=seed, lr=p["lr"], batch_size=p["batch_size"],
                memory_size=p["buffer_size"], num_init_memory_steps=p["learning_starts"],
                tau=p["tau"], gamma=p["gamma"], train_freq=p["train_freq"],
                num_updates_per_step=p["gradient_steps"], hidden_sizes=p["hidden_sizes"])
    tracker.start_training()
    agent.fit(total_steps, callback=lambda agent, record: not tracker.boundary(int(record["steps"])))
    update_s = time_updates(lambda: agent._update(total_steps, agent.num_steps))
    versions = {"plugrl": plugrl.__version__, "jax": jax.__version__}
    return {**tracker.result(), "update_ms": 1e3 * update_s, "versions": versions}


def run_sb3(seed: int, total_steps: int, eval_interval: int) -> dict[str, Any]:
    """Train Stable-Baselines3's SAC in this process; the returned dict is the worker's JSON."""
    import stable_baselines3
    import torch
    import torch._dynamo  # imported lazily by Adam: before the clocks start
    from stable_baselines3 import SAC

    torch.set_num_threads(1)  # with two threads SB3 ran 3-10x slower on these machines
    model: Any = None
    tracker = Tracker(lambda s: model.predict(s, deterministic=True)[0], eval_interval)
    p = PRESET
    model = SAC("MlpPolicy", gym.make(ENV_ID), learning_rate=p["lr"], batch_size=p["batch_size"],
                buffer_size=p["buffer_size"], learning_starts=p["learning_starts"], tau=p["tau"],
                gamma=p["gamma"], train_freq=p["train_freq"], gradient_steps=p["gradient_steps"],
                policy_kwargs={"net_arch": list(p["hidden_sizes"])}, seed=seed, device="cpu",
                verbose=0)
    tracker.start_training()
    # With train_freq=1 a rollout is one env step: the PPO script's rollout boundaries are
    # step boundaries, each reported after that step's update.
    model.learn(total_steps, callback=common._sb3_callback(tracker))
    update_s = time_updates(lambda: model.train(gradient_steps=1, batch_size=p["batch_size"]))
    versions = {"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__}
    return {**tracker.result(), "update_ms": 1e3 * update_s, "versions": versions}


# ---------------------------------------------------------------------- floating-point work
def update_flops(obs_dim: int = 3, act_dim: int = 1, hidden: tuple[int, ...] = (256, 256),
                 batch: int = 256) -> float:
    """Floating-point operations of the matrix products of one SAC gradient step.

    Forward passes: the actor at ``S_next`` and the two target critics (the target), the two
    critics at ``S`` (their loss), the actor and both critics at its sampled actions (the actor's
    loss). A backward pass costs two products per layer (inputs and weights), one where only the
    inputs' gradient is needed (the critics inside the actor's loss).
    """
    def macs(sizes: list[int]) -> int:
        return sum(a * b for a, b in itertools.pairwise(sizes))

    actor = macs([obs_dim, *hidden, 2 * act_dim])
    critic = macs([obs_dim + act_dim, *hidden, 1])
    passes = (actor + 2 * critic            # target: actor(S_next), target critics
              + 2 * critic * 3              # critics at S: forward + backward (inputs, weights)
              + actor * 3                   # actor: forward + backward
              + 2 * critic * 2)             # critics at the actor's actions: forward + input grads
    return 2.0 * batch * passes


# ---------------------------------------------------------------------- parent
def _progress(runs: dict[str, list[dict[str, Any]]], name: str, result: dict[str, Any]) -> None:
    runs[name].append(result)
    print(f"  {name:12s} seed {result['seed']}: {common._fmt_steps(result['steps_to_threshold'])} steps "
          f"to {THRESHOLD:g}, {result['steps_per_s']:.0f} steps/s, "
          f"update {result['update_ms']:.2f} ms", file=sys.stderr, flush=True)


COLUMNS = [("steps to -200", "steps_to_threshold", "steps"),
           ("wall to -200 s", "wall_to_threshold_s", "{:.1f}"),
           ("  no eval s", "wall_to_threshold_no_eval_s", "{:.1f}"),
           ("steps/s", "steps_per_s", "{:.0f}"),
           ("steady steps/s", "steady_steps_per_s", "{:.0f}"),
           ("update ms", "update_ms", "{:.2f}")]


def print_ratios(runs: dict[str, list[dict[str, Any]]]) -> None:
    """plugrl/SB3 for throughput, SB3/plugrl for times: above 1 means plugrl is faster."""
    flops = update_flops()
    for name, results in runs.items():
        rate = flops / (common.median(results, "update_ms") * 1e-3) / 1e9
        print(f"  {name:12s} one update: {common.median(results, 'update_ms'):.2f} ms, "
              f"{rate:.0f} GFLOP/s on the matrix products")
    if "SB3" not in runs:
        return
    sb3 = runs["SB3"]
    print("\nRatios of medians (> 1: plugrl faster)")
    for name in (n for n in runs if n != "SB3"):
        ours = runs[name]
        for label, ratio in [
                ("training steps/s, plugrl/SB3",
                 common.median(ours, "steps_per_s") / common.median(sb3, "steps_per_s")),
                ("steady-state steps/s, plugrl/SB3",
                 common.median(ours, "steady_steps_per_s") / common.median(sb3, "steady_steps_per_s")),
                ("update time, SB3/plugrl",
                 common.median(sb3, "update_ms") / common.median(ours, "update_ms")),
                ("wall time to -200, SB3/plugrl",
                 common._ratio(common.median(sb3, "wall_to_threshold_s"),
                               common.median(ours, "wall_to_threshold_s")))]:
            print(f"  {name:12s} {label:36s} {common._fmt(ratio, '{:.2f}'):>6s}")


def describe(args: argparse.Namespace, command: str) -> str:
    return (f"SAC on {ENV_ID}, RL-Zoo preset (lr 1e-3, batch 256, 256x256 ReLU, tau 0.005, "
            f"1 gradient step per env step, learned entropy coefficient)\n"
            f"Evaluation: {EVAL_EPISODES} deterministic episodes every {args.eval_interval} env "
            f"steps, stop at mean >= {THRESHOLD:g}; at most {args.steps} env steps; seeds "
            f"{','.join(map(str, args.seeds))}\n"
            f"One gradient step: {update_flops() / 1e6:.0f} MFLOP in matrix products "
            f"(batch 256, {PRESET['hidden_sizes']})\n"
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n"
            f"Command: {command}")


def main() -> None:
    args = common.parse_args(description=__doc__, steps=20_000, eval_interval=2_000)
    if args.worker:
        common.worker_main(args, run_plugrl, run_sb3)
        return
    common.require_peers(args, __file__)
    command = shlex.join([sys.executable, *sys.argv])
    print(f"Running {len(args.seeds)} seeds, one process at a time ...", file=sys.stderr)
    runs = common.run_all(args, __file__, progress=_progress)
    print(describe(args, command))
    common.print_tables(runs, COLUMNS, THRESHOLD)
    print()
    print_ratios(runs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": command, "settings": {**PRESET, "steps": args.steps,
                                                        "eval_interval": args.eval_interval},
                       "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
