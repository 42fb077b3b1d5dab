"""Recurrent PPO on velocity-masked CartPole: plugrl against sb3-contrib's RecurrentPPO.

Two measurements, each (library, network) in a fresh subprocess of this script (``--worker``),
one at a time:

1. **Speed** on the ordinary path (Gymnasium's CartPole-v1 behind
   :class:`plugrl.wrappers.MaskVelocityWrapper`, ``SyncVectorEnv`` of 8 / ``DummyVecEnv`` of 8),
   with RL-Zoo's ``CartPoleNoVel-v1`` RecurrentPPO settings in both libraries: 8 envs,
   ``n_steps=32``, ``batch_size=256``, 20 epochs, ``gae_lambda=0.98``, ``gamma=0.99``, no
   entropy bonus, learning rate linear from 1e-3, clip range linear from 0.2, an LSTM of 64
   units for the actor and one for the critic (``enable_critic_lstm``), then one ReLU layer of
   64 each (``net_arch=dict(pi=[64], vf=[64])``), ``max_grad_norm=0.5``; ``lstm-shared``: one
   LSTM for both (sb3-contrib's ``shared_lstm``; plugrl's ``shared_network`` also shares the
   ReLU layer after it, where sb3-contrib keeps one per head). The feed-forward
   baseline of the same width replaces each LSTM by a dense layer of 64 (``[64, 64]`` ReLU).
   Reported: steady-state training throughput (env steps/s after the first rollout and update,
   which leaves plugrl's compilation out) and the cost of a recurrent iteration relative to a
   feed-forward one in the same library; medians over ``--repeats`` runs. sb3-contrib runs
   with ``torch.set_num_threads(1)`` (see ``BENCHMARKING.md``).
2. **Learning** (``--learning``, plugrl alone): PPO with the LSTM and the feed-forward PPO on
   the fast path (``CartPoleNoVel-v1`` in JAX), 200k env steps, 20 deterministic evaluation
   episodes every 10k steps: the steps at which the mean first reached 475, and the best and
   final evaluations of each.

Figures of 2026-12-06 (2 shared cores under load from other jobs; sb3-contrib 2.9.2, torch
2.13 CPU, one thread; medians of 3 runs of 4096 steps):

- env steps/s, plugrl against sb3-contrib: two LSTMs 4.9k vs 448 (10.9x); a shared LSTM 8.2k vs
  716 (11.4x); the feed-forward PPO 20.2k vs 4.8k (4.2x).
- a recurrent iteration against a feed-forward one of the same width: plugrl 4.1x (two LSTMs),
  2.5x (shared); sb3-contrib 10.8x and 6.7x. An LSTM cell of 64 units on 68 inputs has 4.3x the
  weights of the dense layer of 64 it replaces, and the update (20 epochs of 256 samples) ran at
  about the same GFLOP/s for both networks (plugrl's update: 44 ms of CPU time against 6 ms;
  chunks of ``sequence_length=8``: 36 ms; the rollout 9 ms against 7 ms): with two LSTMs the
  arithmetic alone is over 3x.
- learning (``--learning``, 3 seeds, 200k steps): the LSTM first reached 475 at 110k, 120k and
  140k steps (final 500, 498, 500; Gymnasium evaluation 500 for each); the feed-forward PPO's best
  evaluations were 47.6, 45.8 and 49.2.

Run from the repository root in the benchmark environment (plugrl, sb3-contrib and a CPU torch):

    PYTHONPATH=src python benchmarks/recurrent_ppo.py [--steps 8192] [--repeats 3]
        [--learning] [--seeds 0,1,2] [--plugrl-only] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

N_ENVS, N_STEPS, LSTM, WIDTH = 8, 32, 64, 64
ZOO = dict(batch_size=256, n_epochs=20, gamma=0.99, gae_lambda=0.98, ent_coef=0.0, max_grad_norm=0.5)
clock = time.perf_counter


# ---------------------------------------------------------------------- workers
def plugrl_speed(recurrent: bool, steps: int, shared: bool = False) -> dict[str, float]:
    import gymnasium as gym

    import plugrl.agents
    from plugrl.wrappers import MaskVelocityWrapper

    env = gym.vector.SyncVectorEnv([lambda: MaskVelocityWrapper(gym.make("CartPole-v1"))] * N_ENVS,
                                   autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    config = dict(num_envs=N_ENVS, n_steps=N_STEPS, batch_size=ZOO["batch_size"], num_epoch=ZOO["n_epochs"],
                  gamma=ZOO["gamma"], gae_lambda=ZOO["gae_lambda"], entropy_coeff=0.0, lr="lin_1e-3",
                  clip="lin_0.2", activation="relu", max_grad_norm=ZOO["max_grad_norm"])
    if recurrent:
        config.update(recurrent="lstm", lstm_hidden_size=LSTM, hidden_sizes=(WIDTH,), shared_network=shared)
    else:
        config.update(hidden_sizes=(WIDTH, WIDTH))
    agent = plugrl.agents.PPO(env, seed=0, **config)
    agent.fit(N_ENVS * N_STEPS)  # compiles
    start = clock()
    agent.fit(steps)
    return {"steps_per_s": steps / (clock() - start)}


def sb3_speed(recurrent: bool, steps: int, shared: bool = False) -> dict[str, float]:
    import gymnasium as gym
    import torch
    from sb3_contrib import RecurrentPPO
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv

    from plugrl.wrappers import MaskVelocityWrapper

    torch.set_num_threads(1)
    env = DummyVecEnv([lambda: MaskVelocityWrapper(gym.make("CartPole-v1"))] * N_ENVS)
    policy_kwargs: dict[str, Any] = dict(activation_fn=torch.nn.ReLU, ortho_init=False)
    if recurrent:
        policy_kwargs.update(lstm_hidden_size=LSTM, enable_critic_lstm=not shared, shared_lstm=shared,
                             net_arch=dict(pi=[WIDTH], vf=[WIDTH]))
        cls, policy = RecurrentPPO, "MlpLstmPolicy"
    else:
        policy_kwargs.update(net_arch=dict(pi=[WIDTH, WIDTH], vf=[WIDTH, WIDTH]))
        cls, policy = PPO, "MlpPolicy"

    def linear(x: float) -> Any:
        return lambda progress: progress * x

    model = cls(policy, env, n_steps=N_STEPS, learning_rate=linear(1e-3), clip_range=linear(0.2),
                policy_kwargs=policy_kwargs, device="cpu", seed=0, **ZOO)

    class Starts(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def _on_rollout_start(self) -> None:
            self.times.append(clock())

        def _on_step(self) -> bool:
            return True

    starts = Starts()
    model.learn(steps + N_ENVS * N_STEPS, callback=starts)
    end = clock()
    return {"steps_per_s": (len(starts.times) - 1) * N_ENVS * N_STEPS / (end - starts.times[1])}


def plugrl_learning(recurrent: bool, seed: int, steps: int) -> dict[str, Any]:
    from plugrl.agents import PPO
    from plugrl.envs.jax import make

    config = dict(num_envs=N_ENVS, n_steps=N_STEPS, batch_size=ZOO["batch_size"], num_epoch=ZOO["n_epochs"],
                  gamma=ZOO["gamma"], gae_lambda=ZOO["gae_lambda"], lr="lin_1e-3", clip="lin_0.2",
                  activation="relu", eval_episodes=20)
    config.update(dict(recurrent="lstm", lstm_hidden_size=LSTM, hidden_sizes=(WIDTH,)) if recurrent
                  else dict(hidden_sizes=(WIDTH, WIDTH)))
    agent = PPO(make("CartPoleNoVel-v1"), seed=seed, **config)
    start = clock()
    agent.fit(steps, eval_interval=10_000)
    curve = [(int(r["steps"]), float(r["eval_return"])) for r in agent.history]
    reached = next((s for s, g in curve if g >= 475), None)
    return {"curve": curve, "first_475": reached, "best": max(g for _, g in curve),
            "final": curve[-1][1], "wall_s": clock() - start,
            "gymnasium_eval": float(agent.evaluate(20))}


# ---------------------------------------------------------------------- driver
def run_worker(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], check=True, capture_output=True,
                         text=True, env=os.environ)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8192, help="env steps timed per speed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--learning", action="store_true", help="also the 200k-step learning runs")
    parser.add_argument("--learning-steps", type=int, default=200_000)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--plugrl-only", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, library, network, *rest = args.worker
        recurrent = network.startswith("lstm")
        if kind == "speed":
            result = (plugrl_speed if library == "plugrl" else sb3_speed)(recurrent, int(rest[0]),
                                                                         network == "lstm-shared")
        else:
            result = plugrl_learning(recurrent, int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return
    libraries = ["plugrl"] + ([] if args.plugrl_only else ["sb3"])
    report: dict[str, Any] = {"speed": {}, "learning": {}}
    for library in libraries:
        for network in ("lstm", "lstm-shared", "mlp"):
            rates = [run_worker("speed", library, network, str(args.steps))["steps_per_s"]
                     for _ in range(args.repeats)]
            report["speed"][f"{library}/{network}"] = statistics.median(rates)
            print(f"{library:7s} {network:4s} {statistics.median(rates):9.0f} env steps/s "
                  f"(runs: {', '.join(f'{r:.0f}' for r in rates)})", flush=True)
    speed = report["speed"]
    for library in libraries:
        for network in ("lstm", "lstm-shared"):
            ratio = speed[f"{library}/mlp"] / speed[f"{library}/{network}"]
            print(f"{library}: a recurrent iteration ({network}) costs {ratio:.2f}x a feed-forward one")
    if not args.plugrl_only:
        for network in ("lstm", "lstm-shared", "mlp"):
            print(f"{network}: plugrl / sb3: {speed[f'plugrl/{network}'] / speed[f'sb3/{network}']:.1f}x "
                  f"the env steps/s")
    if args.learning:
        for network in ("lstm", "mlp"):
            runs = [run_worker("learning", "plugrl", network, seed, str(args.learning_steps))
                    for seed in args.seeds.split(",")]
            report["learning"][network] = runs
            for seed, run in zip(args.seeds.split(","), runs):
                print(f"plugrl {network} seed {seed}: first >= 475 at {run['first_475']} steps, best "
                      f"{run['best']:.1f}, final {run['final']:.1f}, Gymnasium eval "
                      f"{run['gymnasium_eval']:.1f}, {run['wall_s']:.1f} s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
