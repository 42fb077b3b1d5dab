"""DQN with and without Hindsight Experience Replay on n-bit flipping (issue: memory and goals).

plugrl's DQN trains on ``plugrl.envs.BitFlippingEnv(n_bits)`` (random start and goal, reward -1
until the goal, truncated after ``n_bits`` steps) for ``--steps`` env steps, once with
``replay_buffer_class="her"`` (``n_sampled_goal=4``, ``"future"``) and once with the uniform
buffer, the same hyperparameters otherwise. Every ``--eval-interval`` steps (at a round
boundary) the greedy policy plays 100 episodes with fixed reset seeds; the success rate is the
fraction that reach the goal. Printed: the success rates along the way, the first step count
with success >= 0.9, and wall time.

With ``--sb3-python PATH`` (an interpreter with stable-baselines3 and a CPU torch, see
``benchmarks/README.md``), Stable-Baselines3's ``DQN("MultiInputPolicy", ...,
replay_buffer_class=HerReplayBuffer)`` trains side by side on the same env class and settings, in
a subprocess of this script (``--worker sb3``).

    python benchmarks/her_bit_flipping.py [--n-bits 15] [--steps 150000] [--seed 0]
        [--eval-interval 10000] [--no-baseline] [--sb3-python PATH] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from typing import Any

#: DQN's hyperparameters in Stable-Baselines3's names (plugrl accepts them as aliases).
SETTINGS = {"learning_rate": 1e-3, "batch_size": 256, "buffer_size": 1_000_000,
            "learning_starts": 1000, "gamma": 0.95, "target_update_interval": 1000,
            "train_freq": 4, "gradient_steps": 4, "exploration_fraction": 0.1,
            "exploration_final_eps": 0.02}
NET_ARCH = [256, 256]
HER_KWARGS = {"n_sampled_goal": 4, "goal_selection_strategy": "future"}
EVAL_EPISODES = 100


def success_rate(act: Any, n_bits: int) -> float:
    """The fraction of ``EVAL_EPISODES`` greedy episodes (reset seeds 10_000 + i) that reach the goal."""
    from plugrl.envs import BitFlippingEnv

    env, successes = BitFlippingEnv(n_bits=n_bits), 0
    for i in range(EVAL_EPISODES):
        obs, _ = env.reset(seed=10_000 + i)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(act(obs))
            done = terminated or truncated
        successes += terminated
    return successes / EVAL_EPISODES


def run_plugrl(n_bits: int, steps: int, seed: int, eval_interval: int, her: bool) -> dict[str, Any]:
    from plugrl.agents import DQN
    from plugrl.envs import BitFlippingEnv

    options = {"replay_buffer_class": "her", "replay_buffer_kwargs": HER_KWARGS} if her else {}
    agent = DQN(BitFlippingEnv(n_bits=n_bits), seed=seed, hidden_sizes=tuple(NET_ARCH), **SETTINGS, **options)
    curve: list[tuple[int, float]] = []
    start = time.perf_counter()
    evaluating = [0.0]

    def evaluate(agent: Any, record: dict) -> None:
        if agent.num_steps // eval_interval > (agent.num_steps - SETTINGS["train_freq"]) // eval_interval:
            t = time.perf_counter()
            curve.append((agent.num_steps, success_rate(lambda s: agent.select_action(s, True), n_bits)))
            evaluating[0] += time.perf_counter() - t

    agent.fit(steps, callback=evaluate)
    wall = time.perf_counter() - start
    return {"library": "plugrl", "her": her, "curve": curve, "train_s": wall - evaluating[0]}


def run_sb3(n_bits: int, steps: int, seed: int, eval_interval: int, her: bool) -> dict[str, Any]:
    import torch
    from stable_baselines3 import DQN, HerReplayBuffer
    from stable_baselines3.common.callbacks import BaseCallback

    from plugrl.envs import BitFlippingEnv

    torch.set_num_threads(1)
    curve: list[tuple[int, float]] = []
    evaluating = [0.0]

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % eval_interval == 0:
                t = time.perf_counter()
                act = lambda s: int(self.model.predict(s, deterministic=True)[0])  # noqa: E731
                curve.append((self.num_timesteps, success_rate(act, n_bits)))
                evaluating[0] += time.perf_counter() - t
            return True

    options = {"replay_buffer_class": HerReplayBuffer, "replay_buffer_kwargs": HER_KWARGS} if her else {}
    model = DQN("MultiInputPolicy", BitFlippingEnv(n_bits=n_bits), seed=seed, device="cpu",
                policy_kwargs={"net_arch": NET_ARCH}, **SETTINGS, **options)
    start = time.perf_counter()
    model.learn(steps, callback=Evaluate())
    return {"library": "sb3", "her": her, "curve": curve,
            "train_s": time.perf_counter() - start - evaluating[0]}


def report(result: dict[str, Any]) -> str:
    solved = next((steps for steps, rate in result["curve"] if rate >= 0.9), None)
    final = result["curve"][-1][1] if result["curve"] else float("nan")
    curve = " ".join(f"{steps // 1000}k:{rate:.2f}" for steps, rate in result["curve"])
    return (f"{result['library']:6s} {'DQN + HER' if result['her'] else 'DQN':9s} final success "
            f"{final:.2f}, first >= 0.9 at {solved if solved else 'never'} steps, training "
            f"{result['train_s']:.0f} s\n    {curve}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-bits", type=int, default=15)
    parser.add_argument("--steps", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-interval", type=int, default=10_000)
    parser.add_argument("--no-baseline", action="store_true", help="skip DQN without HER")
    parser.add_argument("--sb3-python", help="an interpreter with stable-baselines3, for the side by side")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", choices=["sb3"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    common = (args.n_bits, args.steps, args.seed, args.eval_interval)
    if args.worker == "sb3":
        print(json.dumps(run_sb3(*common, her=True)))
        return
    results = [run_plugrl(*common, her=True)]
    print(report(results[-1]), flush=True)
    if not args.no_baseline:
        results.append(run_plugrl(*common, her=False))
        print(report(results[-1]), flush=True)
    if args.sb3_python:
        env = {**os.environ, "KERAS_BACKEND": "jax"}  # plugrl.envs imports keras there too
        out = subprocess.run([args.sb3_python, __file__, "--worker", "sb3", "--n-bits", str(args.n_bits),
                              "--steps", str(args.steps), "--seed", str(args.seed), "--eval-interval",
                              str(args.eval_interval)], env=env, check=True, capture_output=True, text=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(report(results[-1]), flush=True)
    print(f"n_bits={args.n_bits}, steps={args.steps}, seed={args.seed}, {EVAL_EPISODES} evaluation "
          f"episodes; success of the last evaluation: "
          + ", ".join(f"{r['library']}{' + HER' if r['her'] else ''} {r['curve'][-1][1]:.2f}"
                      for r in results if r["curve"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "settings": SETTINGS, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
