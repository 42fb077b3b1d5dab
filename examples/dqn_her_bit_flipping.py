"""Bit flipping with DQN and Hindsight Experience Replay, in Stable-Baselines3's terms.

``n_bits`` bits and a goal, both random; action ``i`` flips bit ``i``; reward -1 until the bits
equal the goal (then 0, and the episode ends), at most ``n_bits`` steps. With 15 bits a random
policy essentially never meets the goal, so DQN alone learns nothing; HER relabels stored
transitions with goals that were reached later in their episode (``"future"``), and DQN solves
it: success rate 1.00 over 100 episodes after 150k steps (see ``benchmarks/her_bit_flipping.py``).

    python examples/dqn_her_bit_flipping.py [--n-bits 15] [--steps 150000] [--no-her] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

from plugrl.agents import DQN
from plugrl.caching import HerReplayBuffer
from plugrl.envs import BitFlippingEnv


def main(n_bits: int = 15, total_steps: int = 150_000, her: bool = True, seed: int = 0,
         verbose: bool = True) -> dict:
    """Train and return ``{'agent': ..., 'success_rate': over 100 greedy episodes}``."""
    env = BitFlippingEnv(n_bits=n_bits)  # Dict observations: observation, achieved_goal, desired_goal
    her_kwargs = dict(n_sampled_goal=4, goal_selection_strategy="future")
    options = dict(replay_buffer_class=HerReplayBuffer, replay_buffer_kwargs=her_kwargs) if her else {}
    agent = DQN(env, seed=seed, learning_rate=1e-3, batch_size=256, buffer_size=1_000_000,
                learning_starts=1000, gamma=0.95, target_update_interval=1000, train_freq=4,
                gradient_steps=4, exploration_fraction=0.1, exploration_final_eps=0.02,
                hidden_sizes=(256, 256), **options)
    agent.fit(total_steps)

    # The trained policy acts on the env's own Dict observations.
    successes = 0
    for episode in range(100):
        obs, _ = env.reset(seed=10_000 + episode)
        terminated = truncated = False
        while not (terminated or truncated):
            obs, reward, terminated, truncated, info = env.step(agent.select_action(obs, deterministic=True))
        successes += info["is_success"]
    rate = successes / 100
    if verbose:
        print(f"DQN{' + HER' if her else ''} on {n_bits}-bit flipping after {agent.num_steps} steps: "
              f"success rate {rate:.2f} over 100 episodes (mean return {np.mean(agent.evaluate(20)):.2f})")
    return {"agent": agent, "success_rate": rate}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-bits", type=int, default=15)
    parser.add_argument("--steps", type=int, default=150_000)
    parser.add_argument("--no-her", action="store_true", help="plain DQN, for comparison")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.n_bits, args.steps, her=not args.no_her, seed=args.seed)
