"""CartPole as a TF-Agents user writes PPO: separate actor and value networks, an observation
normaliser, and the policy's ``action``/``distribution``/``apply_value_network`` (seed 003,
``PPOPolicy``).

The actor maps observations to logits, the value network to values; the agent normalises
observations with the user's normaliser (here plugrl's ``RunningNormalizer``) before either
network sees them, and records the policy info (log-probabilities, value predictions,
distribution parameters) at collection time in ``agent.last_rollout``.

    python examples/tf_agents_ppo_cartpole.py
"""

from __future__ import annotations

import argparse

import numpy as np

from plugrl._backend import keras
from plugrl.agents import PPO
from plugrl.utils.running_moments import RunningNormalizer


def mlp(outputs: int, seed: int) -> keras.Model:
    """Observations [batch, 4] to ``outputs`` numbers per observation."""
    init = keras.initializers.Orthogonal
    S = keras.Input((4,))
    X = keras.layers.Dense(64, activation="tanh", kernel_initializer=init(seed=seed))(S)
    X = keras.layers.Dense(64, activation="tanh", kernel_initializer=init(seed=seed + 1))(X)
    return keras.Model(S, keras.layers.Dense(outputs, kernel_initializer=init(0.01, seed=seed + 2))(X))


def main(total_steps: int = 40_000, seed: int = 0, verbose: bool = True) -> dict:
    """Train and return ``{'agent': ..., 'eval_return': mean greedy return of 10 episodes}``."""
    actor_net, value_net = mlp(2, seed), mlp(1, seed + 10)
    agent = PPO("CartPole-v1", actor_network=actor_net, value_network=value_net,
                observation_normalizer=RunningNormalizer((4,)), n_steps=256, num_envs=4,
                num_epoch=4, batch_size=256, lr=1e-3, seed=seed)
    agent.fit(total_steps)
    eval_return = agent.evaluate(10)
    if verbose:
        info = agent.last_rollout.info
        print(f"last rollout: mean log-probability {info['log_probability'].mean():.3f}, "
              f"mean value prediction {info['value_prediction'].mean():.1f}")
        step = agent.action(np.zeros((2, 4), np.float32), seed=0)
        values, _ = agent.apply_value_network(np.zeros((2, 4), np.float32))
        print(f"action(): {step.action}, logits {step.info['dist_params']['logits'][0].round(3)}; "
              f"values {values.round(1)}")
        print(f"after {agent.num_steps} steps: greedy return {eval_return:.1f}")
    return {"agent": agent, "eval_return": eval_return}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-steps", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.total_steps, args.seed)
