"""DQN on CartPole-v1: plugrl against Stable-Baselines3, side by side in one run.

Both libraries train with RL-Zoo's CartPole-v1 DQN preset (learning rate 2.3e-3, batch 64,
buffer 100k, 1000 random steps first, ``gamma=0.99``, target update every 10 env steps,
``train_freq=256`` with 128 gradient steps per round, epsilon linear from 1 to 0.04 over the
first 16 % of the run, 256x256 ReLU MLP; SB3's defaults otherwise: Huber loss, ``tau=1``,
``max_grad_norm=10``) for at most ``--steps`` env steps. The epsilon schedule spans ``--steps``
in both. At the first round boundary at or after every multiple of ``--eval-interval`` env
steps, the greedy policy plays 20 episodes on a separate ``gymnasium.make("CartPole-v1")`` with
fixed reset seeds (the same for both libraries); training stops at the first mean return >= 475.

Each (library, seed) runs in a fresh subprocess of this script (``--worker``), one at a time:
plugrl cold (empty JAX compilation cache), plugrl warm (reusing the cache the cold run of that
seed filled), SB3 (``torch.set_num_threads(1)``, ``device="cpu"``). The timing, evaluation and
reporting code is shared with ``ppo_cartpole_vs_sb3.py``; the figures are the same: env steps
and wall time to 475, training throughput (env steps / training time, evaluation excluded) and
the same after the first round ("steady-state"). Ratios are ratios of medians.

Needs Stable-Baselines3 and a CPU torch in the running Python (see ``benchmarks/README.md``):

    python benchmarks/dqn_cartpole_vs_sb3.py [--seeds 0,1,2] [--steps 50000]
        [--eval-interval 10000] [--json PATH] [--plugrl-only] [--no-warm]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
from typing import Any

import ppo_cartpole_vs_sb3 as common

ENV_ID = common.ENV_ID

#: RL-Zoo's ``hyperparams/dqn.yml`` entry for CartPole-v1, in SB3's names (plugrl's DQNConfig
#: accepts them as aliases).
PRESET = {"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000,
          "learning_starts": 1000, "gamma": 0.99, "target_update_interval": 10,
          "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
          "exploration_final_eps": 0.04}
NET_ARCH = [256, 256]


# ---------------------------------------------------------------------- workers
def run_plugrl(seed: int, total_steps: int, eval_interval: int,
               jax_cache: str | None) -> dict[str, Any]:
    """Train plugrl's DQN in this process; the returned dict is the worker's JSON."""
    t0 = common.clock()
    import jax

    if jax_cache:
        common._use_persistent_cache(jax, jax_cache)
    import plugrl
    from plugrl.agents.off_policy.dqn import DQN

    import_s = common.clock() - t0
    agent: Any = None
    tracker = common.Tracker(lambda s: agent.select_action(s, deterministic=True), eval_interval)
    agent = DQN(ENV_ID, seed=seed, hidden_sizes=tuple(NET_ARCH), **PRESET)
    tracker.start_training()
    # fit stops when the callback returns exactly False.
    agent.fit(total_steps,
              callback=lambda agent, record: not tracker.boundary(int(record["steps"])))
    versions = {"plugrl": plugrl.__version__, "jax": jax.__version__}
    return {**tracker.result(), "import_s": import_s, "versions": versions}


def run_sb3(seed: int, total_steps: int, eval_interval: int) -> dict[str, Any]:
    """Train Stable-Baselines3's DQN in this process; the returned dict is the worker's JSON."""
    t0 = common.clock()
    import stable_baselines3
    import torch
    import torch._dynamo  # noqa: F401  (imported lazily by Adam: an import, not SB3's setup)
    from stable_baselines3 import DQN

    import_s = common.clock() - t0
    torch.set_num_threads(1)  # with two, SB3 ran 3-10x slower on these shared machines
    model: Any = None
    tracker = common.Tracker(lambda s: int(model.predict(s, deterministic=True)[0]), eval_interval)
    model = DQN("MlpPolicy", ENV_ID, policy_kwargs={"net_arch": NET_ARCH}, seed=seed,
                device="cpu", verbose=0, **PRESET)
    tracker.start_training()
    model.learn(total_steps, callback=common._sb3_callback(tracker))
    versions = {"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__}
    return {**tracker.result(), "import_s": import_s, "versions": versions}


def describe(args: argparse.Namespace, command: str) -> str:
    """The settings, the machine and the exact command, printed above the tables."""
    return (f"DQN on {ENV_ID}, RL-Zoo preset (lr 2.3e-3, batch 64, buffer 100k, 1000 random "
            f"steps, target every 10 steps, 128 gradient steps every 256 env steps, epsilon "
            f"1 -> 0.04 over 16 %, 256x256 ReLU)\n"
            f"Evaluation: {common.EVAL_EPISODES} greedy episodes at the first round boundary at "
            f"or after every {args.eval_interval} env steps, stop at mean >= "
            f"{common.THRESHOLD:g}; at most {args.steps} env steps; seeds "
            f"{','.join(map(str, args.seeds))}\n"
            f"Wall times count from the agent's construction (imports excluded, listed apart); "
            f"medians over seeds, 'not reached' ranks last.\n"
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}\n"
            f"Command: {command}")


def main() -> None:
    args = common.parse_args(description=__doc__, steps=50_000)  # RL-Zoo's budget
    if args.worker:
        common.worker_main(args, run_plugrl, run_sb3)
        return
    common.require_peers(args, __file__)
    command = shlex.join([sys.executable, *sys.argv])
    print(f"Running {len(args.seeds)} seeds, one process at a time ...", file=sys.stderr)
    runs = common.run_all(args, __file__)
    print(describe(args, command))
    common.print_tables(runs)
    common.print_ratios(runs)
    if args.json:
        with open(args.json, "w") as f:
            settings = {**PRESET, "net_arch": NET_ARCH, "eval_interval": args.eval_interval,
                        "steps": args.steps, "eval_episodes": common.EVAL_EPISODES,
                        "threshold": common.THRESHOLD}
            json.dump({"command": command, "settings": settings, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
