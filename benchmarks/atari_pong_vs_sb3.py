"""PPO and DQN on Pong: plugrl against Stable-Baselines3 and its AtariWrapper, in one run.

It measures the two figures of plugrl's Atari goals (training at least 2x SB3's env steps/s, replay
memory at most 1.1 x 84 x 84 bytes per transition):

- **Training throughput** on ``ALE/Pong-v5``: env steps (agent steps of 4 frames) per second
  of ``fit``/``learn`` in a timed window after a warm-up that holds plugrl's compilation and
  torch's first calls. PPO: the first rollout and its update (1024 steps) warm up, the next
  ``--ppo-steps`` are timed. DQN: ``--dqn-learning-starts`` random steps fill the buffer (the
  same in both; RL-Zoo's 100k would leave no update in a short run), 200 steps of learning
  warm up, the next ``--dqn-steps`` are timed, with a buffer of ``--dqn-buffer`` transitions.
- **Replay memory per transition**: plugrl's DQN buffer and SB3's ``ReplayBuffer``
  (``optimize_memory_usage=False`` as RL-Zoo, and True), each filled with ``--memory-transitions``
  steps of Pong with random actions. Method: the buffer's arrays' ``nbytes`` over the
  transitions the full buffer holds (plugrl's slots also hold the 3 older frames of each
  episode's first observation), and as a check the growth of the process's resident memory
  while filling, over the same count (meaningful for buffers of many megabytes: a small one
  may reuse memory the process already holds). Both against 84 x 84 = 7056 bytes, one frame.

Hyperparameters are RL-Zoo's Atari presets. PPO: 8 envs, ``n_steps=128``, 4 epochs, batch 256,
learning rate linear from 2.5e-4, clip range linear from 0.1, ``vf_coef=0.5``,
``ent_coef=0.01`` (SB3's defaults otherwise, which plugrl's equal: gamma 0.99, GAE lambda 0.95,
gradient norm 0.5). DQN: one env, buffer 100k, lr 1e-4, batch 32, target copied every 1000 env
steps, ``train_freq=4``, one gradient step, epsilon from 1 to 0.01 over the first 10 % of the
run (so the timed window acts greedily 99 % of the time), Huber loss, gradient norm 10. Network:
the Nature-DQN CNN, SB3's ``CnnPolicy`` (actor and critic share it) and plugrl's default for
image observations (uint8 frames scaled inside both).

Environments: both play the game as the literature does (frames held 4 times, the maximum of
the last two, up to 30 no-ops at reset, sticky actions with probability 0.25 per frame, 84 x 84
grayscale, 4 frames stacked, rewards clipped to their sign). SB3: ``make_atari_env("ALE/Pong-v5",
n_envs, env_kwargs={"frameskip": 1, "repeat_action_probability": 0.25})`` (``AtariWrapper``
in a ``DummyVecEnv``) and ``VecFrameStack(n_stack=4)``. plugrl: ``PPO("ALE/Pong-v5", ...)`` and
``DQN("ALE/Pong-v5", ...)`` in ale-py's C++ ``AtariVectorEnv``. What differs: SB3's wrapper also
presses FIRE after a reset and ends an episode at each lost life (Pong has no lives; FIRE only
serves earlier); its ``DummyVecEnv`` steps the games one after another in Python, where ale-py
steps them in C++ threads: that is part of what is compared.

Each run is a fresh subprocess of this script (``--worker``), one at a time: plugrl, then SB3
once per ``--threads`` value with ``torch.set_num_threads(n)`` (the ratio takes SB3's best);
plugrl keeps its defaults (XLA's CPU thread pool, ale-py's threads: one per core, at most one
per env) and starts with its persistent compilation cache off. Run it on a quiet machine; it
prints the load average before and after.

    python benchmarks/atari_pong_vs_sb3.py [--ppo-steps 8192] [--dqn-steps 3000] [--threads 1,2]
        [--only plugrl|sb3] [--parts ppo,dqn,memory] [--json PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import ppo_cartpole_vs_sb3 as common

ENV_ID = "ALE/Pong-v5"
SB3_ENV_KWARGS = {"frameskip": 1, "repeat_action_probability": 0.25}
FRAME_BYTES = 84 * 84
MEMORY_GOAL = 1.1  # bytes per transition, in frames
THROUGHPUT_GOAL = 2.0

#: RL-Zoo's ``hyperparams/ppo.yml`` entry for Atari.
PPO_PRESET = {"num_envs": 8, "n_steps": 128, "n_epochs": 4, "batch_size": 256, "lr": 2.5e-4,
              "clip": 0.1, "vf_coef": 0.5, "ent_coef": 0.01}
#: RL-Zoo's ``hyperparams/dqn.yml`` entry for Atari, in SB3's names (plugrl's aliases), less
#: ``buffer_size`` and ``learning_starts`` (flags) and ``optimize_memory_usage`` (False, SB3 only).
DQN_PRESET = {"learning_rate": 1e-4, "batch_size": 32, "target_update_interval": 1000,
              "train_freq": 4, "gradient_steps": 1, "exploration_fraction": 0.1,
              "exploration_final_eps": 0.01}
PPO_WARMUP = PPO_PRESET["num_envs"] * PPO_PRESET["n_steps"]  # one rollout and its update
DQN_WARMUP = 200  # learning steps after learning_starts: the first updates compile


class StepClock:
    """Env steps and training seconds at each boundary after an update, for throughput.

    Both libraries call :meth:`boundary`: plugrl from ``fit``'s callback, SB3 from
    :func:`ppo_cartpole_vs_sb3._sb3_callback` at the start of the next rollout.
    """

    def __init__(self, setup_s: float) -> None:
        self.setup_s = setup_s
        self.t0 = common.clock()
        self.marks = [(0, 0.0)]

    def boundary(self, steps: int) -> bool:
        """Record ``steps`` env steps done now; never asks to stop (returns False)."""
        self.marks.append((steps, common.clock() - self.t0))
        return False

    def mark(self, steps: int) -> tuple[int, float]:
        """The first boundary at or after ``steps`` env steps."""
        return next(m for m in self.marks if m[0] >= steps)

    def result(self, window_start: int, fill_end: int | None = None) -> dict[str, Any]:
        """Throughput after the first boundary at or after ``window_start``; with ``fill_end``
        (DQN's ``learning_starts``), also that of the random steps up to the last boundary
        before it (plugrl's first update, which compiles, ends the round that reaches it)."""
        (s0, t0), (s1, t1) = self.mark(window_start), self.marks[-1]
        out = {"setup_s": self.setup_s, "warmup_steps": s0, "warmup_s": t0,
               "timed_steps": s1 - s0, "timed_s": t1 - t0, "steps_per_s": (s1 - s0) / (t1 - t0)}
        if fill_end is not None:
            steps, seconds = max(m for m in self.marks if m[0] < max(fill_end, 1))
            out["fill_steps_per_s"] = steps / seconds if steps else float("nan")
        return out


# ---------------------------------------------------------------------- workers
def _import_plugrl() -> tuple[float, dict[str, str]]:
    t0 = common.clock()
    import ale_py
    import jax

    import plugrl
    return common.clock() - t0, {"plugrl": plugrl.__version__, "jax": jax.__version__,
                                 "ale_py": ale_py.__version__}


def _import_sb3(threads: int) -> tuple[float, dict[str, str]]:
    t0 = common.clock()
    import ale_py
    import gymnasium as gym
    import stable_baselines3
    import torch
    import torch._dynamo  # noqa: F401  (imported lazily by Adam: an import, not SB3's setup)

    gym.register_envs(ale_py)
    torch.set_num_threads(threads)
    return common.clock() - t0, {"stable_baselines3": stable_baselines3.__version__,
                                 "torch": torch.__version__, "ale_py": ale_py.__version__,
                                 "torch_threads": str(torch.get_num_threads())}


def _sb3_envs(n_envs: int, seed: int) -> Any:
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    return VecFrameStack(make_atari_env(ENV_ID, n_envs, seed=seed, env_kwargs=SB3_ENV_KWARGS), 4)


def ppo_plugrl(args: argparse.Namespace) -> dict[str, Any]:
    """Time plugrl's PPO in this process; the returned dict is the worker's JSON."""
    import_s, versions = _import_plugrl()
    from plugrl.agents import PPO

    t0, p = common.clock(), PPO_PRESET
    agent = PPO(ENV_ID, seed=args.seed, num_envs=p["num_envs"], n_steps=p["n_steps"],
                num_epoch=p["n_epochs"], batch_size=p["batch_size"], lr=f"lin_{p['lr']}",
                clip=f"lin_{p['clip']}", vfcn_coeff=p["vf_coef"], entropy_coeff=p["ent_coef"])
    timer = StepClock(common.clock() - t0)
    agent.fit(PPO_WARMUP + args.ppo_steps,
              callback=lambda agent, record: not timer.boundary(int(record["steps"])))
    return {**timer.result(PPO_WARMUP), "import_s": import_s, "versions": versions}


def ppo_sb3(args: argparse.Namespace) -> dict[str, Any]:
    """Time Stable-Baselines3's PPO in this process with ``args.threads`` torch threads."""
    import_s, versions = _import_sb3(args.threads)
    from stable_baselines3 import PPO

    t0, p = common.clock(), PPO_PRESET
    model = PPO("CnnPolicy", _sb3_envs(p["num_envs"], args.seed), n_steps=p["n_steps"],
                n_epochs=p["n_epochs"], batch_size=p["batch_size"],
                learning_rate=common.LinearSchedule(p["lr"]),
                clip_range=common.LinearSchedule(p["clip"]), vf_coef=p["vf_coef"],
                ent_coef=p["ent_coef"], seed=args.seed, device="cpu", verbose=0)
    timer = StepClock(common.clock() - t0)
    model.learn(PPO_WARMUP + args.ppo_steps, callback=common._sb3_callback(timer))
    return {**timer.result(PPO_WARMUP), "import_s": import_s, "versions": versions}


def dqn_plugrl(args: argparse.Namespace) -> dict[str, Any]:
    """Time plugrl's DQN in this process; the returned dict is the worker's JSON."""
    import_s, versions = _import_plugrl()
    from plugrl.agents import DQN

    t0 = common.clock()
    agent = DQN(ENV_ID, seed=args.seed, buffer_size=args.dqn_buffer,
                learning_starts=args.dqn_learning_starts, **DQN_PRESET)
    timer = StepClock(common.clock() - t0)
    window = args.dqn_learning_starts + DQN_WARMUP
    agent.fit(window + args.dqn_steps,
              callback=lambda agent, record: not timer.boundary(int(record["steps"])))
    return {**timer.result(window, args.dqn_learning_starts), "import_s": import_s,
            "versions": versions}


def dqn_sb3(args: argparse.Namespace) -> dict[str, Any]:
    """Time Stable-Baselines3's DQN in this process with ``args.threads`` torch threads."""
    import_s, versions = _import_sb3(args.threads)
    from stable_baselines3 import DQN

    t0 = common.clock()
    model = DQN("CnnPolicy", _sb3_envs(1, args.seed), buffer_size=args.dqn_buffer,
                learning_starts=args.dqn_learning_starts, optimize_memory_usage=False,
                seed=args.seed, device="cpu", verbose=0, **DQN_PRESET)
    timer = StepClock(common.clock() - t0)
    window = args.dqn_learning_starts + DQN_WARMUP
    model.learn(window + args.dqn_steps, callback=common._sb3_callback(timer))
    return {**timer.result(window, args.dqn_learning_starts), "import_s": import_s,
            "versions": versions}


def rss_bytes() -> int:
    """The resident memory of this process (Linux's ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _per_transition(name: str, nbytes: int, transitions: int, rss_growth: int) -> dict[str, Any]:
    return {"buffer": name, "nbytes": nbytes, "transitions": transitions,
            "bytes_per_transition": nbytes / transitions,
            "rss_bytes_per_transition": rss_growth / transitions}


def memory_plugrl(args: argparse.Namespace) -> dict[str, Any]:
    """Fill plugrl's DQN buffer with ``--memory-transitions`` random steps of Pong."""
    _, versions = _import_plugrl()
    from plugrl.agents import DQN

    n = args.memory_transitions
    # learning_starts past the fit: random actions only, no update (so no compiled programs)
    agent = DQN(ENV_ID, seed=args.seed, buffer_size=n, learning_starts=n + 1)
    rss0 = rss_bytes()
    with warnings.catch_warnings():  # "the initial fill is the training": here it is meant to be
        warnings.simplefilter("ignore")
        agent.fit(n)
    buffer = agent.buffer
    figures = _per_transition("plugrl DQN buffer", buffer.nbytes, len(buffer), rss_bytes() - rss0)
    return {"buffers": [figures], "versions": versions}


def memory_sb3(args: argparse.Namespace) -> dict[str, Any]:
    """Fill SB3's ``ReplayBuffer`` (``optimize_memory_usage`` False, then True) with
    ``--memory-transitions`` random steps of Pong as SB3's DQN sees them."""
    _, versions = _import_sb3(1)
    from stable_baselines3.common.buffers import ReplayBuffer
    from stable_baselines3.common.vec_env import VecTransposeImage

    n, envs = args.memory_transitions, VecTransposeImage(_sb3_envs(1, args.seed))
    spaces = (envs.observation_space, envs.action_space)
    plain = ReplayBuffer(n, *spaces, device="cpu", optimize_memory_usage=False)
    rss0 = rss_bytes()
    obs = envs.reset()
    for _ in range(n):  # as SB3's _store_transition: a finished episode's last observation
        actions = np.array([envs.action_space.sample()])
        next_obs, rewards, dones, infos = envs.step(actions)
        real_next = next_obs.copy()
        if dones[0]:
            real_next[0] = infos[0]["terminal_observation"]
        plain.add(obs, real_next, actions, rewards, dones, infos)
        obs = next_obs
    rss1 = rss_bytes()
    # SB3 refuses optimize_memory_usage with handle_timeout_termination (RL-Zoo turns it off).
    compact = ReplayBuffer(n, *spaces, device="cpu", optimize_memory_usage=True,
                           handle_timeout_termination=False)
    for i in range(n):  # the same transitions
        compact.add(plain.observations[i], plain.next_observations[i], plain.actions[i],
                    plain.rewards[i], plain.dones[i], [{}])
    rss2 = rss_bytes()
    return {"buffers": [
        _per_transition("SB3 ReplayBuffer, optimize_memory_usage=False", _nbytes(plain), n, rss1 - rss0),
        _per_transition("SB3 ReplayBuffer, optimize_memory_usage=True", _nbytes(compact), n, rss2 - rss1),
    ], "versions": versions}


def _nbytes(buffer: Any) -> int:
    names = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")
    return sum(getattr(buffer, name).nbytes for name in names if hasattr(buffer, name))


WORKERS = {"plugrl-ppo": ppo_plugrl, "sb3-ppo": ppo_sb3, "plugrl-dqn": dqn_plugrl,
           "sb3-dqn": dqn_sb3, "plugrl-memory": memory_plugrl, "sb3-memory": memory_sb3}


# ---------------------------------------------------------------------- parent
PASSED_ON = ("seed", "ppo_steps", "dqn_steps", "dqn_buffer", "dqn_learning_starts",
             "memory_transitions")


def spawn(worker: str, args: argparse.Namespace, threads: int = 1) -> dict[str, Any]:
    """Run one worker in a fresh subprocess of this script; return its JSON (last line)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", worker, "--threads", str(threads)]
    for name in PASSED_ON:
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env["PLUGRL_COMPILATION_CACHE"] = "off"  # cold: compilation counts in the warm-up
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {worker} failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if "steps_per_s" in result:
        torch_threads = f" ({threads} torch thread{'s' * (threads > 1)})" * worker.startswith("sb3")
        print(f"  {worker}{torch_threads}: {result['steps_per_s']:.1f} steps/s", file=sys.stderr,
              flush=True)
    return result


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Every run, one process at a time: per part, plugrl then SB3 per thread count."""
    runs: dict[str, Any] = {}
    for part in ("ppo", "dqn"):
        if part in args.parts:
            runs[part] = {}
            if args.only != "sb3":
                runs[part]["plugrl"] = spawn(f"plugrl-{part}", args)
            for n in args.threads if args.only != "plugrl" else ():
                runs[part][f"SB3, {n} thread{'s' * (n > 1)}"] = spawn(f"sb3-{part}", args, n)
    if "memory" in args.parts:
        runs["memory"] = [buffer for lib in ("plugrl", "sb3") if args.only in (None, lib)
                          for buffer in spawn(f"{lib}-memory", args)["buffers"]]
    return runs


COLUMNS = [("steps/s", "steps_per_s", "{:.1f}"), ("timed steps", "timed_steps", "{:.0f}"),
           ("timed s", "timed_s", "{:.1f}"), ("warm-up steps", "warmup_steps", "{:.0f}"),
           ("warm-up s", "warmup_s", "{:.1f}"), ("fill steps/s", "fill_steps_per_s", "{:.0f}"),
           ("setup s", "setup_s", "{:.1f}"), ("import s", "import_s", "{:.1f}")]


def print_throughput(runs: dict[str, Any]) -> None:
    """A table per algorithm (a row per run), then plugrl / SB3 for each thread count."""
    for part in (p for p in ("ppo", "dqn") if p in runs):
        columns = [c for c in COLUMNS if any(c[1] in r for r in runs[part].values())]
        print(f"\n{part.upper()} training throughput (env steps/s in the timed window)")
        print(f"{'':18s}" + "".join(f"{h:>15s}" for h, _, _ in columns))
        for name, r in runs[part].items():
            print(f"  {name:16s}" + "".join(f"{fmt.format(r[key]):>15s}" for _, key, fmt in columns))
        sb3 = {name: r["steps_per_s"] for name, r in runs[part].items() if name != "plugrl"}
        if "plugrl" not in runs[part] or not sb3:
            continue
        ours = runs[part]["plugrl"]["steps_per_s"]
        for name, theirs in sb3.items():
            print(f"  plugrl / {name:28s} {ours / theirs:6.2f}")
        best = max(sb3, key=sb3.__getitem__)
        print(f"  plugrl / best SB3 ({best}){'':{max(0, 8 - len(best))}s} {ours / sb3[best]:6.2f}"
              f"   (goal >= {THROUGHPUT_GOAL:g})")


def print_memory(buffers: list[dict[str, Any]], transitions: int) -> None:
    """Bytes per transition of each buffer, in bytes and in 84 x 84 frames."""
    print(f"\nReplay memory per transition ({transitions} random steps of Pong; arrays: nbytes / "
          f"transitions held; RSS: resident memory growth while filling / transitions held)")
    print(f"{'':48s}{'arrays B':>10s}{'frames':>8s}{'RSS B':>10s}{'frames':>8s}")
    for b in buffers:
        arrays, rss = b["bytes_per_transition"], b["rss_bytes_per_transition"]
        print(f"  {b['buffer']:46s}{arrays:10.0f}{arrays / FRAME_BYTES:8.3f}"
              f"{rss:10.0f}{rss / FRAME_BYTES:8.3f}")
    print(f"  (one frame: 84 x 84 = {FRAME_BYTES} bytes; goal for plugrl <= {MEMORY_GOAL:g} frames)")
    ours = [b for b in buffers if b["buffer"].startswith("plugrl")]
    for b in (b for b in buffers if ours and b is not ours[0]):
        print(f"  {b['buffer']} / plugrl: "
              f"{b['bytes_per_transition'] / ours[0]['bytes_per_transition']:.2f}")


def describe(args: argparse.Namespace, command: str, load: list[tuple[float, ...]]) -> str:
    """The settings, the machine, its load and the exact command, printed above the tables."""
    loads = " -> ".join("/".join(f"{x:.2f}" for x in avg) for avg in load)
    return (f"{ENV_ID}, RL-Zoo's Atari presets. PPO: 8 envs x 128 steps, 4 epochs, batch 256, "
            f"lr lin 2.5e-4, clip lin 0.1; warm-up {PPO_WARMUP} steps, then {args.ppo_steps} "
            f"timed.\nDQN: 1 env, buffer {args.dqn_buffer}, lr 1e-4, batch 32, target every "
            f"1000 steps, train_freq 4, eps 1 -> 0.01 over 10 %; {args.dqn_learning_starts} "
            f"random steps, {DQN_WARMUP} learning steps of warm-up, then {args.dqn_steps} timed.\n"
            f"SB3 with torch threads {','.join(map(str, args.threads))}; plugrl with its defaults "
            f"(XLA's thread pool, ale-py's vector env threads).\n"
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}; load average (1/5/15 min) before -> after: {loads}\n"
            f"Command: {command}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options; ``--worker`` is internal (``--threads`` is then one count)."""
    ints = lambda s: [int(x) for x in s.split(",")]  # noqa: E731
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ppo-steps", type=int, default=8192, help="timed PPO env steps (8192)")
    parser.add_argument("--dqn-steps", type=int, default=3000, help="timed DQN env steps (3000)")
    parser.add_argument("--dqn-buffer", type=int, default=100_000, help="DQN buffer (100000)")
    parser.add_argument("--dqn-learning-starts", type=int, default=1000,
                        help="DQN's random steps before learning, both libraries (1000)")
    parser.add_argument("--memory-transitions", type=int, default=20_000,
                        help="transitions filled into each replay buffer (20000)")
    parser.add_argument("--threads", type=ints, default=[1, 2], help="SB3's torch threads (1,2)")
    parser.add_argument("--only", choices=["plugrl", "sb3"], help="run one library only")
    parser.add_argument("--parts", type=lambda s: s.split(","), default=["ppo", "dqn", "memory"],
                        help="comma-separated: ppo, dqn, memory (all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (0)")
    parser.add_argument("--json", metavar="PATH", help="save the raw results to PATH")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.threads = args.threads[0]
    return args


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)))
        return
    args.plugrl_only = args.only == "plugrl"
    common.require_peers(args, __file__)
    missing = [m for m in ("ale_py", "cv2") if importlib.util.find_spec(m) is None]
    if missing:
        sys.exit(f"{', '.join(missing)} not importable in {sys.executable}: Pong needs ale-py and "
                 f"OpenCV (pip install -r benchmarks/requirements-peers.txt)")
    command = shlex.join([sys.executable, *sys.argv])
    load = [os.getloadavg()]
    print("Running, one process at a time ...", file=sys.stderr)
    runs = run_all(args)
    load.append(os.getloadavg())
    print(describe(args, command, load))
    print_throughput(runs)
    if "memory" in runs:
        print_memory(runs["memory"], args.memory_transitions)
    if args.json:
        with open(args.json, "w") as f:
            settings = {"ppo": PPO_PRESET, "dqn": DQN_PRESET, "ppo_warmup": PPO_WARMUP,
                        "dqn_warmup": DQN_WARMUP, **{n: getattr(args, n) for n in PASSED_ON},
                        "threads": args.threads}
            json.dump({"command": command, "load_average": load, "settings": settings,
                       "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
