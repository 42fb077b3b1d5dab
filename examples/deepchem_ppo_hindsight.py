"""Hindsight Experience Replay as DeepChem does it: ``PPO(env, use_hindsight=True)`` on an
environment with ``apply_hindsight(states, actions, goal)`` (seed 002).

The environment is bit flipping in DeepChem's form (``BitFlippingEnv(flat=True)``: the state is
the bits followed by the goal, and ``apply_hindsight`` relabels a rollout with another goal).
Each rollout is learned from twice: with the goals the agent pursued, and relabelled with the
states it reached, so half of what PPO sees reaches its goal. On 6 bits, 40k steps: success
rate 1.00 with hindsight, 0.06 without (seed 0, ~6 s on 2 CPU cores).

    python examples/deepchem_ppo_hindsight.py [--n-bits 6] [--steps 40000] [--no-hindsight]
"""

from __future__ import annotations

import argparse

import numpy as np

from plugrl.agents import PPO
from plugrl.envs import BitFlippingEnv


def main(n_bits: int = 6, total_steps: int = 40_000, use_hindsight: bool = True, seed: int = 0,
         verbose: bool = True) -> dict:
    """Train and return ``{'agent': ..., 'success_rate': over 100 greedy episodes}``."""
    env = BitFlippingEnv(n_bits=n_bits, flat=True)
    agent = PPO(env, use_hindsight=use_hindsight, max_rollout_length=32, optimization_rollouts=4,
                optimization_epochs=4, batch_size=64, discount_factor=0.95, entropy_weight=0.01,
                lr=1e-3, seed=seed)
    agent.fit(total_steps)
    _, returns = agent.evaluate(100, return_episode_rewards=True)
    rate = float(np.mean(np.array(returns) > -n_bits))  # a failed episode scores -n_bits
    if verbose:
        print(f"PPO{' with' if use_hindsight else ' without'} hindsight on {n_bits}-bit flipping after "
              f"{agent.num_steps} steps: success rate {rate:.2f} over 100 episodes")
    return {"agent": agent, "success_rate": rate}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-bits", type=int, default=6)
    parser.add_argument("--steps", type=int, default=40_000)
    parser.add_argument("--no-hindsight", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.n_bits, args.steps, use_hindsight=not args.no_hindsight, seed=args.seed)
