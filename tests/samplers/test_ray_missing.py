"""Without Ray installed, asking for it names the extra to install."""

from __future__ import annotations

import sys

import pytest

from plugrl.agents import PPO
from plugrl.samplers import make_vector_env


@pytest.fixture
def without_ray(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError


def test_vectorization_ray_without_ray_names_the_extra(without_ray):
    with pytest.raises(ImportError, match=r'pip install "plugrl\[ray\]"'):
        make_vector_env("CartPole-v1", 2, "ray")
    with pytest.raises(ImportError, match=r"plugrl\[ray\]"):
        PPO("CartPole-v1", num_envs=2, vectorization="ray")
