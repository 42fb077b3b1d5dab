"""ImagePreprocessor and FrameStacker on real Atari frames (ALE/Pong-v5) and on small fakes."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.wrappers import FrameStackObservation, GrayscaleObservation, ResizeObservation

from plugrl.wrappers import FrameStacker, ImagePreprocessor

ale_py = pytest.importorskip("ale_py")
cv2 = pytest.importorskip("cv2")
gym.register_envs(ale_py)

HEIGHT, WIDTH = 105, 80
#: Gymnasium's GrayscaleObservation weights (luminance), applied then truncated by astype(uint8).
LUMINANCE = np.array([0.2125, 0.7154, 0.0721])


def _pong(**kwargs: Any) -> gym.Env:
    return gym.make("ALE/Pong-v5", **kwargs)


def _actions(n: int) -> list[int]:
    return [int(a) for a in np.random.default_rng(7).integers(0, 6, size=n)]


def _rollout(env: gym.Env, actions: list[int], seed: int = 0) -> list[np.ndarray]:
    """The observation after reset, then after each action (Pong does not end this soon)."""
    s, _ = env.reset(seed=seed)
    observations = [s]
    for a in actions:
        s, _, terminated, truncated, _ = env.step(a)
        assert not (terminated or truncated)
        observations.append(s)
    return observations


def _gymnasium_reference(frame: np.ndarray) -> np.ndarray:
    """What Gymnasium does, written out: luminance truncated to uint8, then cv2 INTER_AREA."""
    gray = np.sum(np.multiply(frame, LUMINANCE), axis=-1).astype(np.uint8)
    return cv2.resize(gray, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)


class _FrameEnv(gym.Env):
    """Tiny env with a given observation space that emits the same given frame every time."""

    def __init__(self, observation_space: spaces.Space, frame: Any = None) -> None:
        self.observation_space = observation_space
        self.action_space = spaces.Discrete(2)
        self._frame = frame

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return self._frame, {}

    def step(self, action):
        return self._frame, 0.0, False, False, {}


# ------------------------------------------------------------------------------------------
# ImagePreprocessor
# ------------------------------------------------------------------------------------------


def test_pong_frames_equal_gymnasium_wrappers_applied_directly():
    actions = _actions(30)
    ours = _rollout(ImagePreprocessor(_pong(), HEIGHT, WIDTH), actions)
    theirs = _rollout(ResizeObservation(GrayscaleObservation(_pong()), (HEIGHT, WIDTH)), actions)
    env = ImagePreprocessor(_pong(), height=HEIGHT, width=WIDTH)
    assert env.observation_space == spaces.Box(0, 255, (HEIGHT, WIDTH), np.uint8)
    for s, s_ref in zip(ours, theirs):
        assert s.shape == (HEIGHT, WIDTH) and s.dtype == np.uint8
        assert env.observation_space.contains(s)
        np.testing.assert_array_equal(s, s_ref)


def test_pong_frames_equal_luminance_then_cv2_inter_area():
    actions = _actions(30)
    ours = _rollout(ImagePreprocessor(_pong(), HEIGHT, WIDTH), actions)
    raw = _rollout(_pong(), actions)
    assert raw[0].shape == (210, 160, 3)
    for s, frame in zip(ours, raw):
        np.testing.assert_array_equal(s, _gymnasium_reference(frame))
    # the docstring's warning: OpenCV's own RGB2GRAY weights (with rounding) give other values
    cv2_gray = [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (WIDTH, HEIGHT),
                           interpolation=cv2.INTER_AREA) for f in raw]
    assert any(not np.array_equal(s, g) for s, g in zip(ours, cv2_gray))


def test_rgb_output_is_resize_observation_alone():
    actions = _actions(10)
    env = ImagePreprocessor(_pong(), HEIGHT, WIDTH, grayscale=False)
    assert env.observation_space == spaces.Box(0, 255, (HEIGHT, WIDTH, 3), np.uint8)
    ours = _rollout(env, actions)
    theirs = _rollout(ResizeObservation(_pong(), (HEIGHT, WIDTH)), actions)
    for s, s_ref in zip(ours, theirs):
        assert s.shape == (HEIGHT, WIDTH, 3) and s.dtype == np.uint8
        np.testing.assert_array_equal(s, s_ref)


def test_grayscale_input_is_only_resized():
    actions = _actions(10)
    env = ImagePreprocessor(GrayscaleObservation(_pong()), HEIGHT, WIDTH, grayscale=True)
    assert env.grayscale and env.input_shape == (210, 160)
    ours = _rollout(env, actions)
    theirs = _rollout(ImagePreprocessor(_pong(), HEIGHT, WIDTH), actions)
    for s, s_ref in zip(ours, theirs):
        np.testing.assert_array_equal(s, s_ref)


def test_wrapper_reaches_the_env_and_its_spec():
    env = ImagePreprocessor(_pong(render_mode="rgb_array"), HEIGHT, WIDTH,
                            assert_input_shape=(210, 160, 3))
    assert isinstance(env, gym.Wrapper)
    assert isinstance(env.unwrapped, ale_py.AtariEnv)
    env.reset(seed=0)
    assert env.render().shape == (210, 160, 3)
    assert env.spec is not None and env.spec.id == "ALE/Pong-v5"


def test_spec_rebuilds_the_same_stack():
    env = FrameStacker(ImagePreprocessor(_pong(), HEIGHT, WIDTH), num_frames=4)
    rebuilt = gym.make(env.spec)
    assert rebuilt.observation_space == env.observation_space
    actions = _actions(5)
    for s, s_ref in zip(_rollout(rebuilt, actions), _rollout(env, actions)):
        np.testing.assert_array_equal(s, s_ref)


@pytest.mark.parametrize("name", ["height", "width"])
@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-3, ValueError), (80.0, TypeError), (True, TypeError)]
)
def test_bad_height_or_width(name, value, error):
    size = {"height": HEIGHT, "width": WIDTH, name: value}
    with pytest.raises(error, match=rf"{name}: expected a positive int, got {value!r}"):
        ImagePreprocessor(_FrameEnv(spaces.Box(0, 255, (8, 8, 3), np.uint8)), **size)


def test_assert_input_shape_checked_at_construction():
    message = r"assert_input_shape: expected .*\(210, 160, 3\), got \(84, 84, 3\)"
    with pytest.raises(ValueError, match=message):
        ImagePreprocessor(_pong(), HEIGHT, WIDTH, assert_input_shape=(84, 84, 3))


@pytest.mark.parametrize(
    ("assert_input_shape", "source"), [((8, 8, 3), "assert_input_shape"), (None, "env.observation_space")]
)
def test_frame_shape_checked_at_run_time(assert_input_shape, source):
    wrong = np.zeros((8, 6, 3), np.uint8)  # the space promises (8, 8, 3)
    env = ImagePreprocessor(_FrameEnv(spaces.Box(0, 255, (8, 8, 3), np.uint8), wrong), 4, 4,
                            assert_input_shape=assert_input_shape)
    message = rf"observation: expected a frame of shape \(8, 8, 3\) \(from {source}\), got \(8, 6, 3\)"
    with pytest.raises(ValueError, match=message):
        env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(0)


@pytest.mark.parametrize(
    ("space", "grayscale", "error", "message"),
    [
        (spaces.Discrete(3), True, TypeError, r"got Discrete\(3\)"),
        (spaces.Box(0, 255, (8,), np.uint8), True, ValueError, r"rank 2 .* or 3 .*got shape \(8,\)"),
        (spaces.Box(0, 255, (8, 8, 4), np.uint8), True, ValueError, r"grayscale=True, got shape \(8, 8, 4\)"),
        (spaces.Box(0, 1, (8, 8, 3), np.float32), False, ValueError,
         r"expected an image Box\(0, 255, shape, uint8\), got Box.*float32"),
    ],
)
def test_not_an_image_space(space, grayscale, error, message):
    with pytest.raises(error, match=r"env.observation_space: .*" + message):
        ImagePreprocessor(_FrameEnv(space), 4, 4, grayscale=grayscale)


# ------------------------------------------------------------------------------------------
# FrameStacker
# ------------------------------------------------------------------------------------------


def test_seed_snippet_pong_105_80_4():
    env = _pong()
    env = ImagePreprocessor(env, height=105, width=80, grayscale=True)
    env = FrameStacker(env, num_frames=4)
    s = env.unwrapped.reset(seed=0)[0]
    assert s.shape == (210, 160, 3)
    s, _ = env.reset(seed=0)
    assert s.shape == (105, 80, 4) and s.dtype == np.uint8
    assert env.observation_space == spaces.Box(0, 255, (105, 80, 4), np.uint8)
    assert env.frame_stack_axis == 2 and env.num_frames == 4
    assert env.observation_space.contains(s)
    s_next, *_ = env.step(0)
    assert env.observation_space.contains(s_next)


def test_stack_holds_the_last_frames_newest_last():
    actions = _actions(12)
    frames = _rollout(ImagePreprocessor(_pong(), HEIGHT, WIDTH), actions)
    stacks = _rollout(FrameStacker(ImagePreprocessor(_pong(), HEIGHT, WIDTH), 4), actions)
    for j in range(4):  # at reset: the first frame, four times
        np.testing.assert_array_equal(stacks[0][..., j], frames[0])
    for k, s in enumerate(stacks):
        for j in range(4):  # s[..., -1 - j] is frame k - j, the reset frame padding the start
            np.testing.assert_array_equal(s[..., -1 - j], frames[max(k - j, 0)])
    # the check above can fail: consecutive frames do differ (the ball moves)
    assert any(not np.array_equal(s[..., -1], s[..., -2]) for s in stacks[1:])


def test_stack_is_frame_stack_observation_moved_last():
    actions = _actions(8)
    ours = _rollout(FrameStacker(ImagePreprocessor(_pong(), HEIGHT, WIDTH), 4), actions)
    theirs = _rollout(FrameStackObservation(ImagePreprocessor(_pong(), HEIGHT, WIDTH), 4), actions)
    for s, s_ref in zip(ours, theirs):
        assert s_ref.shape == (4, HEIGHT, WIDTH)
        np.testing.assert_array_equal(s, np.moveaxis(s_ref, 0, -1))


def test_vector_frames_stack_into_columns():
    env = FrameStacker(gym.make("CartPole-v1"), num_frames=3)
    low = env.env.observation_space.low
    assert env.observation_space.shape == (4, 3) and env.frame_stack_axis == 1
    np.testing.assert_array_equal(env.observation_space.low, np.repeat(low[:, None], 3, axis=1))
    twin = gym.make("CartPole-v1")
    s, _ = env.reset(seed=3)
    x, _ = twin.reset(seed=3)
    np.testing.assert_array_equal(s, np.stack([x, x, x], axis=-1))
    assert env.observation_space.contains(s)
    x_prev = x
    s, *_ = env.step(1)
    x, *_ = twin.step(1)
    np.testing.assert_array_equal(s, np.stack([x_prev, x_prev, x], axis=-1))
    assert env.observation_space.contains(s)


@pytest.mark.parametrize(
    ("num_frames", "error"), [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError)]
)
def test_bad_num_frames(num_frames, error):
    with pytest.raises(error, match=rf"num_frames: expected a positive int, got {num_frames!r}"):
        FrameStacker(gym.make("CartPole-v1"), num_frames=num_frames)


@pytest.mark.parametrize(
    "space", [spaces.Discrete(3), spaces.Dict({"x": spaces.Box(0.0, 1.0, (2,))})], ids=["Discrete", "Dict"]
)
def test_not_a_box(space):
    with pytest.raises(TypeError, match=r"env.observation_space: expected a Box, got (Discrete|Dict)\("):
        FrameStacker(_FrameEnv(space), num_frames=4)
