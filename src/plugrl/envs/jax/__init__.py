"""Environments in JAX: pure ``reset``/``step`` functions with Gymnasium's dynamics.

``make(id)`` returns a :class:`JaxEnv`; ``to_gymnasium(env)`` wraps it for the ordinary agents.
"""

from __future__ import annotations

import importlib

from plugrl.envs.jax.base import JaxEnv, to_gymnasium

__all__ = ["ENVS", "JaxEnv", "make", "to_gymnasium"]

#: Gymnasium id -> "module:class" of the JAX environment reproducing it.
ENVS = {
    "CartPole-v1": "plugrl.envs.jax.cartpole:CartPole",
    "CartPoleNoVel-v1": "plugrl.envs.jax.cartpole:CartPoleNoVel",
    "Pendulum-v1": "plugrl.envs.jax.pendulum:Pendulum",
    "Acrobot-v1": "plugrl.envs.jax.acrobot:Acrobot",
    "MountainCar-v0": "plugrl.envs.jax.mountain_car:MountainCar",
    "MountainCarContinuous-v0": "plugrl.envs.jax.mountain_car_continuous:MountainCarContinuous",
    "ConnectFour-v0": "plugrl.envs.jax.connect_four:ConnectFour",
}


def make(env_id: str) -> JaxEnv:
    """The JAX environment for a Gymnasium id (one of :data:`ENVS`)."""
    if env_id not in ENVS:
        raise ValueError(f"env_id: expected one of {sorted(ENVS)}, got {env_id!r}")
    module, name = ENVS[env_id].split(":")
    return getattr(importlib.import_module(module), name)()
