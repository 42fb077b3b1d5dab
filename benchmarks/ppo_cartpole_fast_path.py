"""PPO on CartPole-v1, the fast path side by side with plugrl's ordinary path, SB3 and rejax.

Four parts, every run in a fresh subprocess, one at a time:

1. **Time to 475** with RL-Zoo's CartPole-v1 PPO preset (as ``ppo_cartpole_vs_sb3.py``; 8 envs
   x 32 steps, batch 256, 20 epochs, lr linear from 1e-3, clip linear from 0.2, 64x64 tanh):
   plugrl's fast path cold (empty JAX cache, compilation counted) and warm (the persistent cache
   of the cold run), plugrl's ordinary path, Stable-Baselines3 and rejax. The fast path and
   rejax evaluate inside their compiled programs, 20 deterministic episodes on their JAX
   CartPole; the ordinary path and SB3 on Gymnasium's, as in ``ppo_cartpole_vs_sb3.py``. rejax
   has no schedules (constant lr 1e-3 and clip 0.2) and clips gradients per element.
2. **Throughput** of the compiled loop at PureJaxRL's settings (4 envs x 128 steps, 4 epochs of
   4 minibatches, 64x64 tanh, no evaluation): compile time and env steps/s (best of 3 runs).
3. **Many seeds**: 16 seeds at once under ``jax.vmap`` against one seed, same budget, cold.

Needs SB3 in the running Python and rejax in another (``--rejax-python``; see README.md)::

    python benchmarks/ppo_cartpole_fast_path.py [--seeds 0,1,2] [--rejax-python PATH]
        [--parts time,throughput,seeds] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
from typing import Any

import ppo_cartpole_vs_sb3 as side_by_side
from ppo_cartpole_vs_sb3 import ENV_ID, EVAL_EPISODES, PRESET, THRESHOLD, clock

PUREJAXRL = {"num_envs": 4, "n_steps": 128, "num_epoch": 4, "num_minibatches": 4, "lr": 2.5e-4,
             "gamma": 0.99, "gae_lambda": 0.95, "clip": 0.2, "ent_coef": 0.01}
THROUGHPUT_STEPS = 262_144  # 512 updates of 512 steps


# ---------------------------------------------------------------------- plugrl's fast path
def _plugrl_imports(jax_cache: str | None) -> float:
    t0 = clock()
    import jax

    if jax_cache:
        side_by_side._use_persistent_cache(jax, jax_cache)
    import plugrl  # noqa: F401

    return clock() - t0


def _zoo_ppo(env: Any, seed: int) -> Any:
    from plugrl.agents import PPO

    return PPO(env, seed=seed, num_envs=PRESET["num_envs"], n_steps=PRESET["n_steps"],
               batch_size=PRESET["batch_size"], gae_lambda=PRESET["gae_lambda"],
               gamma=PRESET["gamma"], num_epoch=PRESET["n_epochs"],
               entropy_coeff=PRESET["ent_coef"], lr=f"lin_{PRESET['lr']}",
               clip=f"lin_{PRESET['clip']}", hidden_sizes=PRESET["hidden_sizes"],
               activation="tanh", eval_episodes=EVAL_EPISODES)


def run_fast(args: argparse.Namespace) -> dict[str, Any]:
    """Fast path to 475: one compiled chunk per evaluation interval, stop at the threshold."""
    import_s = _plugrl_imports(args.jax_cache)
    from plugrl.envs.jax import make

    t_construct = clock()
    agent = _zoo_ppo(make(ENV_ID), args.seed)
    t_fit = clock()
    marks: list[tuple[int, float, float]] = []  # (steps, eval return, seconds since fit)

    def callback(agent: Any, record: dict) -> bool:
        marks.append((int(record["steps"]), record["eval_return"], clock() - t_fit))
        return record["eval_return"] < THRESHOLD

    agent.fit(args.steps, callback=callback, eval_interval=args.eval_interval)
    solved = next((m for m in marks if m[1] >= THRESHOLD), None)
    gym_check = side_by_side.evaluate(lambda s: agent.select_action(s, deterministic=True),
                                      side_by_side.gym.make(ENV_ID))
    return _chunk_result(marks, solved, t_fit - t_construct, import_s) | {"gymnasium_eval": gym_check}


def _chunk_result(marks: list, solved: Any, setup_s: float, import_s: float) -> dict[str, Any]:
    """The time-to-threshold figures of a run evaluated inside compiled chunks."""
    steps, _, train_s = marks[-1]
    first_steps, _, first_s = marks[0]
    steady = (steps - first_steps) / (train_s - first_s) if len(marks) > 1 else math.nan
    wall = None if solved is None else setup_s + solved[2]
    return {"setup_s": setup_s, "train_s": train_s, "eval_s": 0.0, "steps_trained": steps,
            "first_rollout_s": first_s, "steps_per_s": steps / train_s,
            "steady_steps_per_s": steady, "steps_to_threshold": None if solved is None else solved[0],
            "wall_to_threshold_s": wall, "wall_to_threshold_no_eval_s": wall, "import_s": import_s,
            "evaluations": [{"steps": s, "mean_return": r} for s, r, _ in marks]}


def run_fast_throughput(args: argparse.Namespace) -> dict[str, Any]:
    """Compile time and steps/s of the fast path's compiled chunk at PureJaxRL's settings."""
    _plugrl_imports(None)
    import numpy as np

    from plugrl._backend import prng_key
    from plugrl.agents import PPO
    from plugrl.agents.on_policy.fast_training import hyperparameters
    from plugrl.envs.jax import make

    p = PUREJAXRL
    size = p["num_envs"] * p["n_steps"]
    agent = PPO(make(ENV_ID), seed=args.seed, num_envs=p["num_envs"], n_steps=p["n_steps"],
                batch_size=size // p["num_minibatches"], num_epoch=p["num_epoch"], lr=p["lr"],
                gamma=p["gamma"], gae_lambda=p["gae_lambda"], clip=p["clip"],
                entropy_coeff=p["ent_coef"], hidden_sizes=(64, 64), activation="tanh")
    updates = THROUGHPUT_STEPS // size
    trainer = agent.fast_path.trainer(updates, 0)
    call = (trainer.start(agent.learner.state, np.asarray(prng_key(args.seed))),
            hyperparameters(agent.config), np.float32(THROUGHPUT_STEPS), np.int32(updates))
    t0 = clock()
    compiled, _ = trainer.compiled(*call)
    compile_s = clock() - t0
    return {"compile_s": compile_s, **_best_of(lambda: compiled(*call)[1].mean_return, 3)}


def run_fast_seeds(args: argparse.Namespace) -> dict[str, Any]:
    """Wall time of ``train_many`` over ``--num-seeds`` seeds (1: ``fit``), compile included."""
    import_s = _plugrl_imports(None)
    import numpy as np

    from plugrl.envs.jax import make

    t0 = clock()
    agent = _zoo_ppo(make(ENV_ID), args.seed)
    if args.num_seeds == 1:
        agent.fit(args.steps, eval_interval=args.eval_interval)
        finals = [agent.history[-1]["eval_return"]]
    else:
        many = agent.train_many(list(range(args.num_seeds)), args.steps, eval_interval=args.eval_interval)
        finals = many.eval_returns[:, -1].tolist()
    wall = clock() - t0
    return {"wall_s": wall, "import_s": import_s, "steps": args.steps, "num_seeds": args.num_seeds,
            "final_eval_median": float(np.median(finals)), "steps_per_s": args.num_seeds * args.steps / wall}


def _best_of(run: Any, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        t0 = clock()
        run().block_until_ready()
        times.append(clock() - t0)
    return {"run_s": min(times), "steps_per_s": THROUGHPUT_STEPS / min(times)}


# ---------------------------------------------------------------------- rejax
def _rejax_algo(settings: dict[str, Any], total_steps: int, eval_freq: int) -> Any:
    """rejax's PPO on gymnax's CartPole-v1, behind a four-value ``step`` (gymnax >= 1 returns
    ``terminated`` and ``truncated`` apart; rejax 0.1.3 unpacks four), with a deterministic
    20-episode evaluation like the others'."""
    import gymnax
    import jax.numpy as jnp
    from rejax import PPO
    from rejax.evaluate import evaluate

    base, params = gymnax.make(ENV_ID)

    class FourValueStep(type(base)):
        def step(self, key: Any, state: Any, action: Any, params: Any = None) -> tuple:
            obs, state, reward, terminated, truncated, info = super().step(key, state, action, params)
            return obs, state, reward, terminated | truncated, info

    env = FourValueStep()
    algo = PPO.create(env=env, env_params=params, total_timesteps=total_steps, eval_freq=eval_freq,
                      skip_initial_evaluation=True, max_grad_norm=0.5, vf_coef=0.5,
                      agent_kwargs={"activation": "tanh", "hidden_layer_sizes": (64, 64)}, **settings)

    def greedy_evaluation(algo: Any, ts: Any, rng: Any) -> Any:
        def act(obs: Any, rng: Any) -> Any:
            dist = algo.actor.apply(ts.actor_ts.params, obs[None], method="_action_dist")
            return jnp.argmax(dist.logits[0])

        return evaluate(act, rng, env, params, EVAL_EPISODES, params.max_steps_in_episode)

    return algo.replace(eval_callback=greedy_evaluation)


def _zoo_rejax_settings() -> dict[str, Any]:
    return {"num_envs": PRESET["num_envs"], "num_steps": PRESET["n_steps"],
            "num_epochs": PRESET["n_epochs"],
            "num_minibatches": PRESET["num_envs"] * PRESET["n_steps"] // PRESET["batch_size"],
            "learning_rate": PRESET["lr"], "gamma": PRESET["gamma"],
            "gae_lambda": PRESET["gae_lambda"], "clip_eps": PRESET["clip"],
            "ent_coef": PRESET["ent_coef"]}


def run_rejax(args: argparse.Namespace) -> dict[str, Any]:
    """rejax to 475: its ``train`` continued one evaluation interval per call."""
    t0 = clock()
    import jax

    if args.jax_cache:
        side_by_side._use_persistent_cache(jax, args.jax_cache)
    import rejax  # noqa: F401

    import_s = clock() - t0
    t_construct = clock()
    size = PRESET["num_envs"] * PRESET["n_steps"]
    interval = math.ceil(args.eval_interval / size) * size
    algo = _rejax_algo(_zoo_rejax_settings(), interval, interval)
    ts = jax.jit(algo.init_state)(jax.random.PRNGKey(args.seed))
    train = jax.jit(algo.train)
    t_fit = clock()
    marks, steps = [], 0
    while steps < args.steps:
        ts, (_, returns) = train(None, ts)
        steps += interval
        marks.append((steps, float(returns.mean()), clock() - t_fit))
        if marks[-1][1] >= THRESHOLD:
            break
    solved = marks[-1] if marks[-1][1] >= THRESHOLD else None
    return _chunk_result(marks, solved, t_fit - t_construct, import_s)


def run_rejax_throughput(args: argparse.Namespace) -> dict[str, Any]:
    import jax

    p = PUREJAXRL
    algo = _rejax_algo({"num_envs": p["num_envs"], "num_steps": p["n_steps"],
                        "num_epochs": p["num_epoch"], "num_minibatches": p["num_minibatches"],
                        "learning_rate": p["lr"], "gamma": p["gamma"], "gae_lambda": p["gae_lambda"],
                        "clip_eps": p["clip"], "ent_coef": p["ent_coef"]},
                       THROUGHPUT_STEPS, THROUGHPUT_STEPS)
    key = jax.random.PRNGKey(args.seed)
    t0 = clock()
    compiled = jax.jit(algo.train).lower(key).compile()
    compile_s = clock() - t0
    return {"compile_s": compile_s, **_best_of(lambda: compiled(key)[1][1], 3)}


def run_rejax_seeds(args: argparse.Namespace) -> dict[str, Any]:
    t0 = clock()
    import jax
    import numpy as np

    import_s = clock() - t0
    t0 = clock()
    size = PRESET["num_envs"] * PRESET["n_steps"]
    interval = math.ceil(args.eval_interval / size) * size
    algo = _rejax_algo(_zoo_rejax_settings(), math.ceil(args.steps / interval) * interval, interval)
    keys = jax.random.split(jax.random.PRNGKey(0), args.num_seeds)
    _, (_, returns) = jax.jit(jax.vmap(algo.train))(keys)
    finals = np.asarray(returns)[:, -1].mean(axis=-1)
    wall = clock() - t0
    return {"wall_s": wall, "import_s": import_s, "steps": args.steps, "num_seeds": args.num_seeds,
            "final_eval_median": float(np.median(finals)), "steps_per_s": args.num_seeds * args.steps / wall}


WORKERS = {"fast": run_fast, "fast-throughput": run_fast_throughput, "fast-seeds": run_fast_seeds,
           "rejax": run_rejax, "rejax-throughput": run_rejax_throughput, "rejax-seeds": run_rejax_seeds}


# ---------------------------------------------------------------------- parent
def spawn(worker: str, python: str, args: argparse.Namespace, seed: int = 0,
          jax_cache: str | None = None, **extra: Any) -> dict[str, Any]:
    """Run a worker of this script (or of ``ppo_cartpole_vs_sb3.py``) in a fresh process."""
    if worker in ("plugrl", "sb3"):
        return side_by_side.spawn(worker, seed, args, jax_cache)
    cmd = [python, os.path.abspath(__file__), "--worker", worker, "--seed", str(seed),
           "--steps", str(extra.get("steps", args.steps)), "--eval-interval", str(args.eval_interval),
           "--num-seeds", str(extra.get("num_seeds", 1))]
    if jax_cache:
        cmd += ["--jax-cache", jax_cache]
    env = dict(os.environ)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env["PLUGRL_COMPILATION_CACHE"] = jax_cache or "off"
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {worker} seed {seed} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def time_to_threshold(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Part 1; the libraries alternate seed by seed so that drift hits all of them."""
    runs: dict[str, list[dict[str, Any]]] = {"fast cold": [], "fast warm": [], "ordinary": [],
                                             "SB3": [], "rejax cold": []}
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="plugrl-jax-cache-") as cache:
            _progress(runs, "fast cold", spawn("fast", sys.executable, args, seed, cache))
            _progress(runs, "fast warm", spawn("fast", sys.executable, args, seed, cache))
        _progress(runs, "ordinary", spawn("plugrl", sys.executable, args, seed))
        _progress(runs, "SB3", spawn("sb3", sys.executable, args, seed))
        if args.rejax_python:
            with tempfile.TemporaryDirectory(prefix="rejax-jax-cache-") as cache:
                _progress(runs, "rejax cold", spawn("rejax", args.rejax_python, args, seed, cache))
    return {name: results for name, results in runs.items() if results}


def _progress(runs: dict[str, list], name: str, result: dict[str, Any]) -> None:
    runs[name].append(result)
    print(f"  {name:10s} seed {result.get('seed', '?')}: "
          f"{side_by_side._fmt_steps(result['steps_to_threshold'])} steps to {THRESHOLD:g}, "
          f"wall {result['wall_to_threshold_s'] or math.inf:.2f} s", file=sys.stderr, flush=True)


def print_time_ratios(runs: dict[str, list[dict[str, Any]]]) -> None:
    sb3 = side_by_side.median(runs["SB3"], "wall_to_threshold_s")
    print("\nWall time to 475, medians, relative to SB3 (< 1: faster than SB3)")
    for name, results in runs.items():
        wall = side_by_side.median(results, "wall_to_threshold_s")
        print(f"  {name:12s} {wall:7.2f} s   {wall / sb3:5.2f} x SB3")


def throughput(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    out = {"fast": spawn("fast-throughput", sys.executable, args)}
    if args.rejax_python:
        out["rejax"] = spawn("rejax-throughput", args.rejax_python, args)
    print(f"\nThroughput of the compiled loop, PureJaxRL settings (4 envs x 128 steps, 4 epochs x 4 "
          f"minibatches, 64x64 tanh), {THROUGHPUT_STEPS} env steps, cold, best of 3 runs")
    for name, r in out.items():
        print(f"  {name:8s} compile {r['compile_s']:6.2f} s   {r['steps_per_s']:9.0f} env steps/s")
    return out


def many_seeds(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    out = {"fast 1 seed": spawn("fast-seeds", sys.executable, args, num_seeds=1),
           "fast 16 seeds": spawn("fast-seeds", sys.executable, args, num_seeds=16)}
    if args.rejax_python:
        out["rejax 1 seed"] = spawn("rejax-seeds", args.rejax_python, args, num_seeds=1)
        out["rejax 16 seeds"] = spawn("rejax-seeds", args.rejax_python, args, num_seeds=16)
    print(f"\nMany seeds at once: RL-Zoo preset, {args.steps} env steps per seed, evaluation every "
          f"{args.eval_interval}, cold, wall time from construction (imports excluded)")
    for name, r in out.items():
        print(f"  {name:15s} wall {r['wall_s']:7.2f} s   {r['steps_per_s']:9.0f} env steps/s   "
              f"median final eval {r['final_eval_median']:.1f}")
    for lib in ("fast", "rejax"):
        if f"{lib} 16 seeds" in out:
            ratio = out[f"{lib} 16 seeds"]["wall_s"] / out[f"{lib} 1 seed"]["wall_s"]
            print(f"  {lib}: 16 seeds take {ratio:.2f} x the wall time of one")
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000, help="most env steps per run")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2])
    parser.add_argument("--eval-interval", type=int, default=10_000)
    parser.add_argument("--rejax-python", help="a Python with rejax installed (left out if not given)")
    parser.add_argument("--parts", default="time,throughput,seeds")
    parser.add_argument("--json", metavar="PATH", help="save the raw results to PATH")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--num-seeds", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--jax-cache", help=argparse.SUPPRESS)
    parser.add_argument("--no-warm", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plugrl-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps({"seed": args.seed, **WORKERS[args.worker](args)}))
        return
    command = shlex.join([sys.executable, *sys.argv])
    parts = args.parts.split(",")
    results: dict[str, Any] = {"command": command}
    print(side_by_side.describe(args, command))
    if "time" in parts:
        results["time"] = runs = time_to_threshold(args)
        side_by_side.print_tables(runs)
        print_time_ratios(runs)
    if "throughput" in parts:
        results["throughput"] = throughput(args)
    if "seeds" in parts:
        results["seeds"] = many_seeds(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
