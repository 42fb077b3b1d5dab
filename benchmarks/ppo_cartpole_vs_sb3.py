"""PPO on CartPole-v1: plugrl against Stable-Baselines3, side by side in one run.

Both libraries train with RL-Zoo's CartPole-v1 PPO preset (8 envs, ``n_steps=32``,
``batch_size=256``, ``gae_lambda=0.8``, ``gamma=0.98``, 20 epochs, no entropy bonus, learning
rate linear from 1e-3, clip range linear from 0.2, separate 64x64 tanh actor and critic MLPs;
per-minibatch advantage normalisation, ``max_grad_norm=0.5``, ``vf_coef=0.5``) for at most
``--steps`` env steps. At the first rollout boundary at or after every multiple of
``--eval-interval`` env steps, the policy plays 20 deterministic episodes on a separate
``gymnasium.make("CartPole-v1")`` with fixed reset seeds (the same for both libraries); training
stops at the first mean return >= 475.

Each (library, seed) runs in a fresh subprocess of this script (``--worker``), one at a time:

- plugrl cold: empty JAX compilation cache, so compile time counts;
- plugrl warm: a new process reusing the persistent JAX cache the cold run of that seed filled;
- SB3: ``torch.set_num_threads(1)``, ``DummyVecEnv``, ``device="cpu"``.

Reported per run and as medians over seeds: env steps at the first evaluation >= 475, wall
time to it from the agent's construction with and without the evaluations, training
throughput (env steps / training time, evaluation excluded) and the same after the first
rollout ("steady-state", which leaves plugrl's compilation out). Ratios are ratios of medians.

Needs Stable-Baselines3 and a CPU torch in the running Python (see ``benchmarks/README.md``):

    python benchmarks/ppo_cartpole_vs_sb3.py [--seeds 0,1,2] [--steps 100000]
        [--eval-interval 10000] [--json PATH] [--plugrl-only] [--no-warm]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

ENV_ID = "CartPole-v1"
THRESHOLD = 475.0
EVAL_EPISODES = 20
EVAL_SEED = 10_000
"""Evaluation episode ``i`` resets with seed ``EVAL_SEED + i``, whatever the library and seed."""

#: RL-Zoo's ``hyperparams/ppo.yml`` entry for CartPole-v1.
PRESET = {"num_envs": 8, "n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98,
          "n_epochs": 20, "ent_coef": 0.0, "lr": 1e-3, "clip": 0.2, "hidden_sizes": (64, 64)}

SETUP_HINT = """\
Stable-Baselines3 (with torch) is not importable in this Python ({python}).
Set up the benchmark environment from the repository root (see benchmarks/README.md):

    python -m venv .venv-bench
    .venv-bench/bin/pip install torch==2.13.0      # the machine's local CPU wheel
    .venv-bench/bin/pip install -r benchmarks/requirements-peers.txt
    .venv-bench/bin/pip install -e .
    .venv-bench/bin/python benchmarks/ppo_cartpole_vs_sb3.py

or pass --plugrl-only to run plugrl alone."""

clock = time.perf_counter


# ---------------------------------------------------------------------- shared by both workers
def evaluate(act: Callable[[np.ndarray], int], env: gym.Env,
             n_episodes: int = EVAL_EPISODES) -> float:
    """Mean return of ``n_episodes`` episodes of ``act`` on ``env``, reset with fixed seeds."""
    returns = []
    for i in range(n_episodes):
        s, _ = env.reset(seed=EVAL_SEED + i)
        G, done = 0.0, False
        while not done:
            s, r, terminated, truncated, _ = env.step(act(s))
            G += float(r)
            done = terminated or truncated
        returns.append(G)
    return float(np.mean(returns))


class Tracker:
    """Clocks one training run and evaluates it at rollout boundaries.

    Both libraries call :meth:`boundary` after each rollout's update, so the evaluations see
    the same number of updates and the clocks stop at the same points.

    Parameters
    ----------
    act : callable
        The deterministic policy: one observation in, one action out.
    eval_interval : int
        Evaluate at the first boundary at or after each multiple of this many env steps.
    """

    def __init__(self, act: Callable[[np.ndarray], int], eval_interval: int) -> None:
        self.act = act
        self.eval_interval = eval_interval
        self.eval_env = gym.make(ENV_ID)
        self.next_eval = eval_interval
        self.t_construct = clock()
        self.t_fit = math.nan
        self.eval_s = 0.0
        self.boundaries: list[tuple[int, float]] = []  # (env steps, training seconds so far)
        self.evaluations: list[dict[str, float]] = []
        self.solved: dict[str, float] | None = None

    def start_training(self) -> None:
        """Mark the end of construction (networks, envs) and the start of ``fit``/``learn``."""
        self.t_fit = clock()

    def boundary(self, steps: int) -> bool:
        """Record a rollout boundary at ``steps`` env steps; return True to stop training."""
        train_s = clock() - self.t_fit - self.eval_s
        self.boundaries.append((steps, train_s))
        if steps < self.next_eval:
            return False
        self.next_eval = (steps // self.eval_interval + 1) * self.eval_interval
        t0 = clock()
        mean_return = evaluate(self.act, self.eval_env)
        self.eval_s += clock() - t0
        setup_s = self.t_fit - self.t_construct
        record = {"steps": steps, "mean_return": mean_return,
                  "wall_s": clock() - self.t_construct,  # evaluations included
                  "wall_no_eval_s": setup_s + train_s}
        self.evaluations.append(record)
        if mean_return >= THRESHOLD:
            self.solved = record
            return True
        return False

    def result(self) -> dict[str, Any]:
        """Plain data for the parent process: timings, throughput and every evaluation."""
        steps, train_s = self.boundaries[-1]
        first_steps, first_s = self.boundaries[0]
        steady = ((steps - first_steps) / (train_s - first_s)
                  if len(self.boundaries) > 1 else math.nan)
        solved = self.solved or {}
        return {"setup_s": self.t_fit - self.t_construct, "train_s": train_s,
                "eval_s": self.eval_s, "steps_trained": steps, "first_rollout_s": first_s,
                "steps_per_s": steps / train_s, "steady_steps_per_s": steady,
                "steps_to_threshold": solved.get("steps"),
                "wall_to_threshold_s": solved.get("wall_s"),
                "wall_to_threshold_no_eval_s": solved.get("wall_no_eval_s"),
                "evaluations": self.evaluations}


# ---------------------------------------------------------------------- workers
def run_plugrl(seed: int, total_steps: int, eval_interval: int,
               jax_cache: str | None) -> dict[str, Any]:
    """Train plugrl's PPO in this process; the returned dict is the worker's JSON."""
    t0 = clock()
    import jax

    if jax_cache:
        _use_persistent_cache(jax, jax_cache)
    import plugrl
    from plugrl.agents import PPO

    import_s = clock() - t0
    agent: Any = None
    tracker = Tracker(lambda s: agent.select_action(s, deterministic=True), eval_interval)
    agent = PPO(ENV_ID, seed=seed, num_envs=PRESET["num_envs"], n_steps=PRESET["n_steps"],
                batch_size=PRESET["batch_size"], gae_lambda=PRESET["gae_lambda"],
                gamma=PRESET["gamma"], num_epoch=PRESET["n_epochs"],
                entropy_coeff=PRESET["ent_coef"], lr=f"lin_{PRESET['lr']}",
                clip=f"lin_{PRESET['clip']}", hidden_sizes=PRESET["hidden_sizes"],
                activation="tanh")
    tracker.start_training()
    # fit stops when the callback returns exactly False.
    agent.fit(total_steps,
              callback=lambda agent, record: not tracker.boundary(int(record["steps"])))
    versions = {"plugrl": plugrl.__version__, "jax": jax.__version__}
    return {**tracker.result(), "import_s": import_s, "versions": versions}


def _use_persistent_cache(jax: Any, path: str) -> None:
    """Cache every compiled program in ``path``, however small or quick to compile."""
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def run_sb3(seed: int, total_steps: int, eval_interval: int) -> dict[str, Any]:
    """Train Stable-Baselines3's PPO in this process; the returned dict is the worker's JSON."""
    t0 = clock()
    # Adam's constructor imports torch._dynamo lazily (about 3 s): it counts here, as an import
    # like plugrl's, rather than as SB3's setup.
    import stable_baselines3
    import torch
    import torch._dynamo  # noqa: F401
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    import_s = clock() - t0
    # One thread: with two, SB3 ran 3-10x slower on these shared machines (BENCHMARKING.md).
    torch.set_num_threads(1)
    model: Any = None
    tracker = Tracker(lambda s: int(model.predict(s, deterministic=True)[0]), eval_interval)
    envs = make_vec_env(ENV_ID, n_envs=PRESET["num_envs"], seed=seed)  # DummyVecEnv
    model = PPO("MlpPolicy", envs, n_steps=PRESET["n_steps"], batch_size=PRESET["batch_size"],
                gae_lambda=PRESET["gae_lambda"], gamma=PRESET["gamma"],
                n_epochs=PRESET["n_epochs"], ent_coef=PRESET["ent_coef"],
                learning_rate=LinearSchedule(PRESET["lr"]),
                clip_range=LinearSchedule(PRESET["clip"]),
                policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]},
                               "activation_fn": torch.nn.Tanh},
                seed=seed, device="cpu", verbose=0)
    tracker.start_training()
    model.learn(total_steps, callback=_sb3_callback(tracker))
    versions = {"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__}
    return {**tracker.result(), "import_s": import_s, "versions": versions}


class LinearSchedule:
    """RL-Zoo's ``lin_<x>``: ``x`` times SB3's remaining progress (1 at the start, 0 at the end)."""

    def __init__(self, initial: float) -> None:
        self.initial = initial

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.initial


def _sb3_callback(tracker: Tracker) -> Any:
    """An SB3 callback that reports rollout boundaries after each update to ``tracker`` (any
    object with a ``boundary(steps)`` method; the off-policy scripts use it too).

    SB3 calls ``_on_rollout_end`` before ``train()`` on that rollout, so evaluating there would
    score the policy one update behind plugrl's. The boundary after an update is instead the
    start of the next rollout, or the end of training after the last one. Stopping is
    signalled by ``_on_step`` returning False at the next env step, after the clocks stopped.
    """
    from stable_baselines3.common.callbacks import BaseCallback

    class RolloutBoundaries(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.stop = False

        def _on_rollout_start(self) -> None:
            if self.model.num_timesteps > 0:
                self.stop = tracker.boundary(self.model.num_timesteps)

        def _on_step(self) -> bool:
            return not self.stop

        def _on_training_end(self) -> None:
            if not self.stop:
                tracker.boundary(self.model.num_timesteps)

    return RolloutBoundaries()


def worker_main(args: argparse.Namespace, run_plugrl: Callable[..., dict[str, Any]] = run_plugrl,
                run_sb3: Callable[..., dict[str, Any]] = run_sb3) -> None:
    """Run one (library, seed) and print its JSON as the last line of stdout (the other
    benchmarks pass their own ``run_plugrl`` and ``run_sb3``)."""
    if args.worker == "plugrl":
        result = run_plugrl(args.seed, args.steps, args.eval_interval, args.jax_cache)
    else:
        result = run_sb3(args.seed, args.steps, args.eval_interval)
    print(json.dumps({"library": args.worker, "seed": args.seed, **result}))


# ---------------------------------------------------------------------- parent
def spawn(library: str, seed: int, args: argparse.Namespace, jax_cache: str | None = None,
          script: str = __file__) -> dict[str, Any]:
    """Run one worker of ``script`` (this one by default) in a fresh subprocess; return its JSON."""
    cmd = [sys.executable, os.path.abspath(script), "--worker", library, "--seed", str(seed),
           "--steps", str(args.steps), "--eval-interval", str(args.eval_interval)]
    if jax_cache:
        cmd += ["--jax-cache", jax_cache]
    env = dict(os.environ)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # a user's cache would make the cold run warm
    # plugrl's own default cache too: the worker's cache is the only one it may use.
    env["PLUGRL_COMPILATION_CACHE"] = jax_cache or "off"
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {library} seed {seed} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_all(args: argparse.Namespace, script: str = __file__,
            progress: Callable[..., None] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every seed's runs of ``script``'s workers, one process at a time; the libraries alternate
    so drift hits both. ``progress(runs, name, result)`` records each run (default
    :func:`_progress`)."""
    progress = progress or _progress
    runs: dict[str, list[dict[str, Any]]] = {"plugrl cold": [], "plugrl warm": [], "SB3": []}
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="plugrl-jax-cache-") as cache:
            progress(runs, "plugrl cold", spawn("plugrl", seed, args, cache, script))
            if not args.no_warm:
                progress(runs, "plugrl warm", spawn("plugrl", seed, args, cache, script))
        if not args.plugrl_only:
            progress(runs, "SB3", spawn("sb3", seed, args, script=script))
    return {name: results for name, results in runs.items() if results}


def _progress(runs: dict[str, list[dict[str, Any]]], name: str, result: dict[str, Any]) -> None:
    runs[name].append(result)
    print(f"  {name:12s} seed {result['seed']}: {_fmt_steps(result['steps_to_threshold'])} steps "
          f"to {THRESHOLD:g}, {result['steps_per_s']:.0f} steps/s", file=sys.stderr, flush=True)


COLUMNS = [  # (header, key in a run's result, format)
    ("steps to 475", "steps_to_threshold", "steps"),
    ("wall to 475 s", "wall_to_threshold_s", "{:.2f}"),
    ("  no eval s", "wall_to_threshold_no_eval_s", "{:.2f}"),
    ("steps/s", "steps_per_s", "{:.0f}"),
    ("steady steps/s", "steady_steps_per_s", "{:.0f}"),
    ("setup s", "setup_s", "{:.2f}"),
    ("1st rollout s", "first_rollout_s", "{:.2f}"),
    ("import s", "import_s", "{:.2f}"),
]


def value(result: dict[str, Any], key: str) -> float:
    """A result's figure; not reaching 475 counts as infinitely many steps and seconds."""
    x = result[key]
    return math.inf if x is None else float(x)


def median(results: list[dict[str, Any]], key: str) -> float:
    """Median of a figure over seeds (see :func:`value` for runs that missed 475)."""
    return statistics.median(value(r, key) for r in results)


def _fmt_steps(x: float | None) -> str:
    return "not reached" if x is None or math.isinf(x) else f"{x:.0f}"


def _fmt(x: float, fmt: str) -> str:
    if fmt == "steps":
        return _fmt_steps(x)
    return "-" if math.isinf(x) or math.isnan(x) else fmt.format(x)


def print_tables(runs: dict[str, list[dict[str, Any]]], columns: list[tuple[str, str, str]] | None = None,
                 threshold: float = THRESHOLD) -> None:
    """One table per library: a row per seed and the medians (``columns``: this script's
    ``COLUMNS`` unless given, as (header, result key, format))."""
    columns = COLUMNS if columns is None else columns
    header = f"{'':18s}" + "".join(f"{h:>15s}" for h, _, _ in columns)
    for name, results in runs.items():
        reached = sum(r["steps_to_threshold"] is not None for r in results)
        print(f"\n{name} (reached {threshold:g} in {reached}/{len(results)} seeds)")
        print(header)
        for r in results:
            print(f"{'  seed ' + str(r['seed']):18s}"
                  + "".join(f"{_fmt(value(r, key), fmt):>15s}" for _, key, fmt in columns))
        print(f"{'  median':18s}"
              + "".join(f"{_fmt(median(results, key), fmt):>15s}" for _, key, fmt in columns))


def print_ratios(runs: dict[str, list[dict[str, Any]]]) -> None:
    """plugrl/SB3 for throughput, SB3/plugrl for wall time: above 1 means plugrl is faster."""
    if "SB3" not in runs:
        return
    sb3 = runs["SB3"]
    print("\nRatios of medians (> 1: plugrl faster)")
    for name in (n for n in runs if n != "SB3"):
        ours = runs[name]
        figures = [
            ("training steps/s, plugrl/SB3",
             median(ours, "steps_per_s") / median(sb3, "steps_per_s")),
            ("steady-state steps/s, plugrl/SB3",
             median(ours, "steady_steps_per_s") / median(sb3, "steady_steps_per_s")),
            ("wall time to 475, SB3/plugrl",
             _ratio(median(sb3, "wall_to_threshold_s"), median(ours, "wall_to_threshold_s"))),
            ("wall time to 475 without evaluation, SB3/plugrl",
             _ratio(median(sb3, "wall_to_threshold_no_eval_s"),
                    median(ours, "wall_to_threshold_no_eval_s"))),
        ]
        for label, ratio in figures:
            print(f"  {name:12s} {label:48s} {_fmt(ratio, '{:.2f}'):>6s}")


def _ratio(a: float, b: float) -> float:
    """``a / b``, or NaN when either median run did not reach the threshold."""
    return a / b if math.isfinite(a) and math.isfinite(b) else math.nan


def describe(args: argparse.Namespace, command: str) -> str:
    """The settings, the machine and the exact command, printed above the tables."""
    return (f"PPO on {ENV_ID}, RL-Zoo preset (8 envs x 32 steps, batch 256, 20 epochs, "
            f"lr lin 1e-3, clip lin 0.2, 64x64 tanh, separate actor/critic)\n"
            f"Evaluation: {EVAL_EPISODES} deterministic episodes at the first rollout boundary "
            f"at or after every {args.eval_interval} env steps, stop at mean >= {THRESHOLD:g}; "
            f"at most {args.steps} env steps; seeds {','.join(map(str, args.seeds))}\n"
            f"Wall times count from the agent's construction (imports excluded, listed apart); "
            f"medians over seeds, 'not reached' ranks last.\n"
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}\n"
            f"Command: {command}")


def parse_args(argv: list[str] | None = None, *, description: str = __doc__,
               steps: int = 100_000, eval_interval: int = 10_000) -> argparse.Namespace:
    """Options of the parent; ``--worker``, ``--seed`` and ``--jax-cache`` are internal. The
    other benchmark scripts pass their own docstring and defaults."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--steps", type=int, default=steps,
                        help=f"most env steps per run (default {steps})")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2],
                        help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--eval-interval", type=int, default=eval_interval,
                        help=f"env steps between evaluations (default {eval_interval})")
    parser.add_argument("--json", metavar="PATH", help="save the raw results to PATH")
    parser.add_argument("--plugrl-only", action="store_true", help="skip Stable-Baselines3")
    parser.add_argument("--no-warm", action="store_true", help="skip plugrl's warm-cache runs")
    parser.add_argument("--worker", choices=["plugrl", "sb3"], help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--jax-cache", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def require_peers(args: argparse.Namespace, script: str = __file__) -> None:
    """Exit with set-up instructions unless SB3 and torch import (or ``--plugrl-only``)."""
    if args.plugrl_only or all(importlib.util.find_spec(m) for m in ("stable_baselines3", "torch")):
        return
    hint = SETUP_HINT.format(python=sys.executable)
    print(hint.replace("ppo_cartpole_vs_sb3.py", os.path.basename(script)), file=sys.stderr)
    sys.exit(2)


def main() -> None:
    args = parse_args()
    if args.worker:
        worker_main(args)
        return
    require_peers(args)
    command = shlex.join([sys.executable, *sys.argv])
    print(f"Running {len(args.seeds)} seeds, one process at a time ...", file=sys.stderr)
    runs = run_all(args)
    print(describe(args, command))
    print_tables(runs)
    print_ratios(runs)
    if args.json:
        with open(args.json, "w") as f:
            settings = {**PRESET, "eval_interval": args.eval_interval, "steps": args.steps,
                        "eval_episodes": EVAL_EPISODES, "threshold": THRESHOLD}
            json.dump({"command": command, "settings": settings, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
