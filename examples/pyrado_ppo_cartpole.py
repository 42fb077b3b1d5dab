"""CartPole with PPO set up as a pyrado user sets it up (seed 004).

The policy and the critic are objects the user builds: a ``SoftmaxPolicy`` on one network and
pyrado's ``GAE`` critic on a value function of another. Each iteration collects at least
``min_steps`` env steps from ``num_workers`` environments; the critic first fits its value
function with its own epochs, minibatches and learning rate, then PPO updates the policy with
the critic's advantages (clipped with ``eps_clip``). The default budget, 36 000 env steps,
solves CartPole (greedy mean return >= 195) in about 15 s on 2 CPU cores.

    python examples/pyrado_ppo_cartpole.py --steps 36000
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import plugrl
from plugrl._backend import keras
from plugrl.agents import PPO
from plugrl.caching import GAE


class MLP(plugrl.FunctionApproximator):
    """Two hidden layers of 64 tanh units (pyrado's FNNPolicy and FNN value function)."""

    def body(self, S):
        X = keras.layers.Dense(64, activation="tanh")(S)
        return keras.layers.Dense(64, activation="tanh")(X)


def main(num_steps: int = 36_000, seed: int = 0, save_dir: str | None = None,
         verbose: bool = True) -> dict:
    """Train for ``max_iter = num_steps // min_steps`` iterations with pyrado's ``train`` (a
    snapshot of the latest iteration in ``save_dir``, if given); return ``{'mean_return': greedy
    mean over 10 episodes, 'agent': PPO}``."""
    env = gym.make("CartPole-v1")
    policy = plugrl.SoftmaxPolicy(MLP(env, random_seed=seed), random_seed=seed)
    vfcn = plugrl.V(MLP(env, random_seed=seed + 1))
    critic = GAE(vfcn, gamma=0.99, lamda=0.95, num_epoch=10, batch_size=64, standardize_adv=True,
                 max_grad_norm=None, lr=1e-3)
    min_steps = 512

    def logger(record: dict) -> None:  # pyrado's StepLogger (add_value, record_step) works too
        if verbose and algo.curr_iter % 10 == 0:
            print(f"iteration {algo.curr_iter:3d}: average return of the last 10 episodes "
                  f"{record['mean_return']:6.1f}, value loss {critic.metrics['GAE/value_loss']:8.3f}")

    algo = PPO(env, policy=policy, critic=critic, save_dir=save_dir, max_iter=num_steps // min_steps,
               min_steps=min_steps, num_workers=4, num_epoch=10, eps_clip=0.2, batch_size=64,
               max_grad_norm=0.5, lr=1e-3, logger=logger, seed=seed)
    algo.train(snapshot_mode="latest" if save_dir else "no")
    mean_return = algo.evaluate(10)
    if verbose:
        print(f"{'Solved' if mean_return >= 195 else 'Not solved'}: greedy mean return {mean_return:.1f}")
    return {"mean_return": mean_return, "agent": algo}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=36_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-dir", help="where train() keeps the latest snapshot")
    args = parser.parse_args()
    main(args.steps, args.seed, args.save_dir)
