from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from plugrl.wrappers import DefaultPreprocessor


class _FixedObsEnv(gym.Env):
    """Tiny env that emits a given sequence of observations, one per reset/step."""

    def __init__(self, observation_space: spaces.Space, observations: list[Any]) -> None:
        self.observation_space = observation_space
        self.action_space = spaces.Discrete(2)
        self._observations = observations
        self._i = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._i = 0
        return self._observations[0], {}

    def step(self, action):
        self._i += 1
        done = self._i == len(self._observations) - 1
        return self._observations[self._i], 1.0, done, False, {}


def test_frozenlake_one_hot():
    env = DefaultPreprocessor(gym.make("FrozenLake-v1"))
    assert env.observation_space == spaces.Box(0.0, 1.0, (16,), np.float32)
    s, _ = env.reset(seed=0)
    assert s.dtype == np.float32
    np.testing.assert_array_equal(s, np.eye(16, dtype=np.float32)[0])
    env.action_space.seed(0)
    for _ in range(5):
        s, _, terminated, truncated, _ = env.step(env.action_space.sample())
        np.testing.assert_array_equal(s, np.eye(16)[env.unwrapped.s])
        assert env.observation_space.contains(s)
        if terminated or truncated:
            break


def test_nested_spaces_are_flattened():
    space = spaces.Dict(
        {
            "pos": spaces.Discrete(3),
            "md": spaces.MultiDiscrete([2, 3]),
            "tup": spaces.Tuple((spaces.MultiBinary(2), spaces.Box(-1.0, 1.0, (2,)))),
        }
    )
    obs = [
        {
            "pos": 2,
            "md": np.array([1, 0]),
            "tup": (np.array([1, 0], dtype=np.int8), np.array([0.25, -0.5], dtype=np.float32)),
        },
        {
            "pos": 0,
            "md": np.array([0, 2]),
            "tup": (np.array([0, 1], dtype=np.int8), np.array([1.0, 1.0], dtype=np.float32)),
        },
    ]
    env = DefaultPreprocessor(_FixedObsEnv(space, obs))
    assert env.original_observation_space is space
    assert env.observation_space.shape == (3 + 5 + 2 + 2,)
    parts = {  # expected features per key, laid out in the space's key order
        "pos": [[0, 0, 1], [1, 0, 0]],
        "md": [[0, 1, 1, 0, 0], [1, 0, 0, 0, 1]],
        "tup": [[1, 0, 0.25, -0.5], [0, 1, 1.0, 1.0]],
    }
    expected = [sum((parts[k][i] for k in space.spaces), []) for i in range(2)]
    s0, _ = env.reset()
    s1, *_ = env.step(0)
    assert s0.tolist() == expected[0] and s1.tolist() == expected[1]
    assert s0.dtype == s1.dtype == np.float32
    assert env.observation_space.contains(s0) and env.observation_space.contains(s1)
    np.testing.assert_array_equal(env.observation_space.low[-2:], [-1, -1])


def test_box_keeps_shape_and_becomes_float32():
    env = gym.make("CartPole-v1")
    wrapped = DefaultPreprocessor(gym.make("CartPole-v1"))
    assert wrapped.observation_space.shape == (4,)
    assert wrapped.observation_space.dtype == np.float32
    raw, _ = env.reset(seed=1)
    s, _ = wrapped.reset(seed=1)
    np.testing.assert_array_equal(s, raw)

    box = spaces.Box(0, 255, (2, 3, 1), dtype=np.uint8)
    img = np.arange(6, dtype=np.uint8).reshape(2, 3, 1)
    wrapped = DefaultPreprocessor(_FixedObsEnv(box, [img, img]))
    assert wrapped.observation_space.shape == (2, 3, 1)
    assert wrapped.observation_space.dtype == np.float32
    assert wrapped.observation_space.high.max() == 255.0
    s, _ = wrapped.reset()
    assert s.dtype == np.float32 and s.shape == (2, 3, 1)
    np.testing.assert_array_equal(s, img)


def test_unsupported_space_raises():
    with pytest.raises(TypeError, match="Text"):
        DefaultPreprocessor(_FixedObsEnv(spaces.Text(4), ["abcd"]))
