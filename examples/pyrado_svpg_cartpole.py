"""Stein Variational Policy Gradient on CartPole, set up as a pyrado user sets it up (seed 004).

pyrado's ``SVPG(save_dir, env, particle, max_iter, num_particles, temperature, horizon)``: the
particle is the blueprint of every policy (here an A2C agent's configuration), ``horizon`` the
steps of each particle's rollouts per environment. The particles train as one computation; on
plugrl's JAX CartPole the whole iteration (every particle's rollouts, their gradients, the
kernel and the joint update) runs inside one compiled function, called once per iteration by
``train``. The default budget, 48 000 env steps per particle, gets the best particle to
CartPole's maximum of 500 in about 13 s of CPU time on 2 cores.

    python examples/pyrado_svpg_cartpole.py --steps-per-particle 48000
"""

from __future__ import annotations

import argparse

import numpy as np

from plugrl.agents import A2C, SVPG
from plugrl.envs.jax import make


def main(steps_per_particle: int = 48_000, num_particles: int = 8, temperature: float = 1.0,
         seed: int = 0, save_dir: str | None = None, verbose: bool = True) -> dict:
    """Train with pyrado's ``train`` for ``max_iter`` iterations (a snapshot of the latest in
    ``save_dir``, if given); return ``{'returns': each particle's greedy mean return over 5
    episodes on Gymnasium's CartPole, 'agent': SVPG}``."""
    particle = A2C("CartPole-v1", num_workers=8, lr=7e-4)  # the blueprint: its configuration
    horizon = 16
    max_iter = steps_per_particle // (horizon * 8)

    def logger(record: dict) -> None:
        if verbose and algo.curr_iter % 100 == 0:
            returns = " ".join(f"{record[f'SVPG/return_{i}']:5.0f}" for i in range(num_particles))
            print(f"iteration {algo.curr_iter:4d}: particles' returns {returns}, "
                  f"bandwidth {record['SVPG/bandwidth']:6.1f}")

    algo = SVPG(make("CartPole-v1"), particle=particle, num_particles=num_particles,
                temperature=temperature, horizon=horizon, max_iter=max_iter, save_dir=save_dir,
                logger=logger, seed=seed)
    algo.train(snapshot_mode="latest" if save_dir else "no")
    returns = np.array([p.evaluate(5) for p in algo.iter_particles])
    if verbose:
        print(f"particles' greedy returns {np.round(returns, 1).tolist()}; "
              f"best particle {int(returns.argmax())}: {returns.max():.1f}")
    return {"returns": returns, "agent": algo}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps-per-particle", type=int, default=48_000)
    parser.add_argument("--particles", type=int, default=8)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-dir", help="where train() keeps the latest snapshot")
    args = parser.parse_args()
    main(args.steps_per_particle, args.particles, args.temperature, args.seed, args.save_dir)
