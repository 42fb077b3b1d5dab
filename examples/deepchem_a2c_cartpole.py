"""CartPole as a DeepChem user writes it: a ``Policy`` subclass whose ``create_model`` returns a
Keras model with the outputs ``'action_prob'`` and ``'value'``, trained by PPO with DeepChem's
hyperparameter names (seed 002).

DeepChem's script reads ``dc.rl.PPO(env, policy, max_rollout_length=..., ...)``; here the
environment is a Gymnasium id and the classes come from plugrl.

    python examples/deepchem_a2c_cartpole.py
"""

from __future__ import annotations

import argparse

import plugrl
from plugrl._backend import keras
from plugrl.agents import A2C, PPO


class CartPolePolicy(plugrl.policies.Policy):
    """Action probabilities and a value from one small network, as in DeepChem's examples."""

    def __init__(self) -> None:
        super().__init__(["action_prob", "value"])

    def create_model(self, **kwargs):
        state = keras.Input((4,))
        hidden = keras.layers.Dense(64, activation="tanh")(state)
        hidden = keras.layers.Dense(64, activation="tanh")(hidden)
        action_prob = keras.layers.Dense(2, activation="softmax")(hidden)
        value = keras.layers.Dense(1)(hidden)
        return keras.Model(inputs=state, outputs=[action_prob, value])


def main(total_steps: int = 40_000, seed: int = 0, algorithm: str = "ppo", verbose: bool = True) -> dict:
    """Train and return ``{'agent': ..., 'eval_return': mean greedy return of 10 episodes}``."""
    policy = CartPolePolicy()
    if algorithm == "ppo":
        agent = PPO("CartPole-v1", policy, max_rollout_length=256, optimization_rollouts=4,
                    optimization_epochs=4, batch_size=0, clipping_width=0.2, discount_factor=0.99,
                    advantage_lambda=0.95, value_weight=0.5, entropy_weight=0.0,
                    optimizer=keras.optimizers.Adam(learning_rate=1e-3), seed=seed)
    else:
        agent = A2C("CartPole-v1", policy, max_rollout_length=20, discount_factor=0.99,
                    advantage_lambda=0.98, value_weight=1.0, entropy_weight=0.01, seed=seed)
    agent.fit(total_steps)
    eval_return = agent.evaluate(10)
    if verbose:
        probs, value = agent.predict([0.0, 0.0, 0.0, 0.0])
        print(f"after {agent.num_steps} steps: greedy return {eval_return:.1f}; at the upright "
              f"state the policy predicts {probs.round(3)} and the value {value:.1f}")
    return {"agent": agent, "eval_return": eval_return}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-steps", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--algorithm", choices=["ppo", "a2c"], default="ppo")
    args = parser.parse_args()
    main(args.total_steps, args.seed, args.algorithm)
