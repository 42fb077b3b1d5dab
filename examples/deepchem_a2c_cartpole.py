"""CartPole as a DeepChem user writes it: a ``Policy`` subclass whose ``create_model`` returns a
Keras model with the outputs ``'action_prob'`` and ``'value'``, trained by PPO with DeepChem's
hyperparameter names (seed 002) and a Keras optimizer. PPO's greedy return reaches 500 in
50k steps (seeds 0-3, ~10-15 s on 2 CPU cores).

DeepChem's script reads ``env = dc.rl.GymEnvironment('CartPole-v1')`` and ``dc.rl.PPO(env,
policy, max_rollout_length=..., ...)``; here the same classes come from plugrl.

    python examples/deepchem_a2c_cartpole.py
"""

from __future__ import annotations  # noqa: I001  (plugrl is imported before keras)

import argparse

import plugrl  # before keras: plugrl selects Keras's JAX backend
import keras
from plugrl.agents import A2C, PPO
from plugrl.envs import GymEnvironment


env = GymEnvironment("CartPole-v1")


class CartPolePolicy(plugrl.policies.Policy):
    """Action probabilities and a value from one small network, as in DeepChem's examples."""

    def __init__(self) -> None:
        super().__init__(["action_prob", "value"])

    def create_model(self, **kwargs):
        state = keras.Input(env.state_shape)
        hidden = keras.layers.Dense(64, activation="tanh")(state)
        hidden = keras.layers.Dense(64, activation="tanh")(hidden)
        action_prob = keras.layers.Dense(env.n_actions, activation="softmax")(hidden)
        value = keras.layers.Dense(1)(hidden)
        return keras.Model(inputs=state, outputs=[action_prob, value])


def main(total_steps: int = 50_000, seed: int = 0, algorithm: str = "ppo", verbose: bool = True) -> dict:
    """Train and return ``{'agent': ..., 'eval_return': mean greedy return of 10 episodes}``.

    PPO takes RL-Zoo's CartPole settings in DeepChem's names (8 rollouts of 32 steps per
    iteration, 20 epochs, a clipping width decaying from 0.2) and DeepChem's way of decaying the
    learning rate: an Adam optimizer with a polynomial decay to 0 over the run's updates. A2C
    takes DeepChem's defaults; on CartPole it needs a larger budget and is less reliable.
    """
    policy = CartPolePolicy()
    if algorithm == "ppo":
        updates = (total_steps // (32 * 8)) * 20  # iterations x epochs x one batch per iteration
        learning_rate = keras.optimizers.schedules.PolynomialDecay(1e-3, max(updates, 1), 0.0)
        agent = PPO(env, policy, max_rollout_length=32, optimization_rollouts=8,
                    optimization_epochs=20, batch_size=256, clipping_width="lin_0.2",
                    discount_factor=0.98, advantage_lambda=0.8, value_weight=0.5, entropy_weight=0.0,
                    optimizer=keras.optimizers.Adam(learning_rate=learning_rate), seed=seed)
    else:
        agent = A2C(env, policy, max_rollout_length=20, discount_factor=0.99,
                    advantage_lambda=0.98, value_weight=1.0, entropy_weight=0.01,
                    optimizer=keras.optimizers.Adam(learning_rate=1e-3), seed=seed)
    agent.fit(total_steps)
    eval_return = agent.evaluate(10)
    if verbose:
        probs, value = agent.predict([0.0, 0.0, 0.0, 0.0])
        print(f"after {agent.num_steps} steps: greedy return {eval_return:.1f}; at the upright "
              f"state the policy predicts {probs.round(3)} and the value {value:.1f}")
    return {"agent": agent, "eval_return": eval_return}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-steps", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--algorithm", choices=["ppo", "a2c"], default="ppo")
    args = parser.parse_args()
    main(args.total_steps, args.seed, args.algorithm)
