from __future__ import annotations

import logging
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # CartPole renders through pygame

import gymnasium as gym
import numpy as np
import pytest
from PIL import Image, ImageSequence

from plugrl.utils import (
    enable_logging,
    generate_gif,
    get_env_attr,
    get_transition,
    has_env_attr,
    render_episode,
)


class _Tagged(gym.Wrapper):
    def __init__(self, env: gym.Env, **attrs: object) -> None:
        super().__init__(env)
        for name, value in attrs.items():
            setattr(self, name, value)


class _CountRenders(gym.Wrapper):
    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.n_renders = 0
        self.n_steps = 0

    def render(self):
        self.n_renders += 1
        return self.env.render()

    def step(self, action):
        self.n_steps += 1
        return self.env.step(action)


def _random_policy(env: gym.Env, seed: int = 0):
    env.action_space.seed(seed)
    return lambda s: env.action_space.sample()


# ------------------------------------------------------------------------------------ env.py


def test_get_env_attr_through_wrappers():
    inner = _Tagged(gym.make("CartPole-v1"), foo="inner", bar=1)
    env = gym.wrappers.RecordEpisodeStatistics(_Tagged(inner, foo="outer"))
    assert get_env_attr(env, "foo") == "outer"  # outermost layer wins
    assert get_env_attr(env, "bar") == 1
    assert get_env_attr(env, "gravity") == pytest.approx(9.8)  # the unwrapped CartPoleEnv
    assert has_env_attr(env, "gravity") and has_env_attr(env, "bar")
    assert not has_env_attr(env, "no_such_attr")
    assert get_env_attr(env, "no_such_attr", default=None) is None
    with pytest.raises(AttributeError, match="no_such_attr"):
        get_env_attr(env, "no_such_attr")
    # two layers are not deep enough to reach `bar` on the third
    assert not has_env_attr(env, "bar", max_depth=2)
    assert get_env_attr(env, "bar", default=-1, max_depth=2) == -1
    with pytest.raises(ValueError, match="max_depth: expected an int >= 1"):
        has_env_attr(env, "bar", max_depth=0)


def test_get_transition():
    env = gym.make("CartPole-v1")
    s, a, r, s_next, a_next, done, info = get_transition(env, seed=3)
    assert s.shape == s_next.shape == (4,) and s.dtype == np.float32
    assert env.action_space.contains(a) and env.action_space.contains(a_next)
    assert r == 1.0 and done is False and isinstance(info, dict)
    assert not np.array_equal(s, s_next)
    again = get_transition(env, seed=3)
    np.testing.assert_array_equal(again[0], s)
    np.testing.assert_array_equal(again[3], s_next)
    assert (again[1], again[4]) == (a, a_next)


# ---------------------------------------------------------------------------------- media.py


def test_generate_gif_writes_real_animated_gif(tmp_path):
    env = _CountRenders(gym.make("CartPole-v1", render_mode="rgb_array"))
    target = tmp_path / "sub" / "dir" / "cartpole.gif"
    path = generate_gif(env, _random_policy(env), target, resize_to=(120, 80), duration=40)
    assert path == str(target)
    assert env.n_renders == env.n_steps + 1  # one frame after reset, one per step
    with Image.open(target) as im:
        assert im.format == "GIF"
        assert im.size == (120, 80)
        assert im.n_frames > 1
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(im)]
    # Pillow merges identical consecutive frames and adds up their durations, so only the
    # total play time is exact: 40 ms for every rendered frame
    assert sum(durations) == 40 * env.n_renders
    assert os.listdir(target.parent) == ["cartpole.gif"]  # no temporary file left behind


def test_generate_gif_full_size_frames(tmp_path):
    import imageio.v3 as iio

    env = gym.make("CartPole-v1", render_mode="rgb_array")
    path = generate_gif(env, _random_policy(env, seed=1), tmp_path / "full.gif", max_steps=5)
    frames = iio.imread(path, index=None)
    assert frames.shape[0] > 1 and frames.shape[1:3] == (400, 600)


def test_generate_gif_requires_rgb_array(tmp_path):
    env = gym.make("CartPole-v1")  # render_mode=None
    with pytest.raises(ValueError, match=r"env: .*render_mode='rgb_array'.*gymnasium\.make"):
        generate_gif(env, _random_policy(env), tmp_path / "x.gif")
    assert not (tmp_path / "x.gif").exists()


def test_generate_gif_failure_leaves_no_file(tmp_path):
    env = gym.make("CartPole-v1", render_mode="rgb_array")

    def broken_policy(s):
        raise RuntimeError("policy failed")

    (tmp_path / "old.gif").write_bytes(b"previous content")
    with pytest.raises(RuntimeError, match="policy failed"):
        generate_gif(env, broken_policy, tmp_path / "old.gif")
    assert (tmp_path / "old.gif").read_bytes() == b"previous content"
    with pytest.raises(ValueError, match="resize_to"):
        generate_gif(env, _random_policy(env), tmp_path / "y.gif", resize_to=(0, 10))
    assert sorted(os.listdir(tmp_path)) == ["old.gif"]


def test_render_episode_returns_episode_return():
    env = _CountRenders(gym.make("CartPole-v1", render_mode="rgb_array"))
    G = render_episode(env, _random_policy(env, seed=2))
    assert G == env.n_steps > 0  # CartPole pays 1 per step
    assert env.n_renders == env.n_steps + 1
    env2 = _CountRenders(gym.make("CartPole-v1", render_mode="rgb_array"))
    assert render_episode(env2, _random_policy(env2), max_steps=3) <= 3
    assert env2.n_steps <= 3


# ------------------------------------------------------------------------------------ log.py


def test_enable_logging_sets_levels():
    root, jax_logger, absl = (logging.getLogger(n) for n in ("", "jax", "absl"))
    saved = root.level, jax_logger.level, absl.level
    try:
        enable_logging(level=logging.DEBUG, level_jax=logging.WARNING)
        assert root.level == logging.DEBUG
        assert jax_logger.level == absl.level == logging.WARNING
    finally:
        root.setLevel(saved[0])
        jax_logger.setLevel(saved[1])
        absl.setLevel(saved[2])
