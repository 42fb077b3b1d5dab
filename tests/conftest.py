"""Shared fixtures: small environments and function approximators with known structure."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium as gym  # noqa: E402
import pytest  # noqa: E402

import plugrl  # noqa: E402
from plugrl._backend import keras  # noqa: E402


class MLP(plugrl.FunctionApproximator):
    """A small two-layer body used across the tests."""

    def body(self, S):
        return keras.layers.Dense(16, activation="tanh")(S)


@pytest.fixture
def cartpole() -> gym.Env:
    env = gym.make("CartPole-v1")
    yield env
    env.close()


@pytest.fixture
def pendulum() -> gym.Env:
    env = gym.make("Pendulum-v1")
    yield env
    env.close()


@pytest.fixture
def real_pendulum() -> gym.Env:
    """Pendulum with actions on the reals, as GaussianPolicy needs."""
    env = plugrl.wrappers.BoxActionsToReals(gym.make("Pendulum-v1"))
    yield env
    env.close()


@pytest.fixture
def mlp_class() -> type[plugrl.FunctionApproximator]:
    return MLP
