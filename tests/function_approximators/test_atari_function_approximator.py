"""AtariFunctionApproximator: heads on stacked frames first or last, byte scaling, bad input.

Each network costs a compile, so one function approximator per observation layout is built
per module and every head is built on it (they share its body).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import plugrl
from plugrl._backend import keras
from plugrl.function_approximators.predefined.atari import is_image_space
from plugrl.function_approximators.predefined.mlp import SpacesOnly
from plugrl.predefined import AtariFunctionApproximator
from plugrl.wrappers import FrameStacker, ImagePreprocessor

pytest.importorskip("ale_py")
pytest.importorskip("cv2")

from plugrl.samplers.atari import make_atari  # noqa: E402

NUM_ACTIONS = 6  # Pong's minimal action set


def _observation(env: gym.Env, steps: int = 6) -> np.ndarray:
    """An observation a few random steps into an episode (its frames differ)."""
    s, _ = env.reset(seed=0)
    for a in np.random.default_rng(0).integers(0, NUM_ACTIONS, size=steps):
        s, *_ = env.step(int(a))
    return s


def _channels_last_env() -> gym.Env:
    """keras-gym's Pong: raw frames, its ImagePreprocessor and FrameStacker, (105, 80, 3)."""
    return FrameStacker(ImagePreprocessor(make_atari("ALE/Pong-v5", preprocessing=False), 105, 80), 3)


def _spaces(shape: tuple[int, ...], dtype: Any = np.uint8) -> SpacesOnly:
    return SpacesOnly(spaces.Box(0, 255, shape, dtype), spaces.Discrete(NUM_ACTIONS))


@pytest.fixture(scope="module", params=["channels_first", "channels_last"])
def layout(request: pytest.FixtureRequest) -> dict[str, Any]:
    """An env, one of its observations and every function built on one Atari body."""
    env = make_atari("ALE/Pong-v5") if request.param == "channels_first" else _channels_last_env()
    func = AtariFunctionApproximator(env, random_seed=0)
    assert not func.convolutional  # nothing built yet
    pi, v = plugrl.SoftmaxPolicy(func, random_seed=0), plugrl.V(func)
    functions = {"q2": plugrl.QTypeII(func), "q1": plugrl.QTypeI(func), "pi": pi, "v": v,
                 "actor_critic": plugrl.ActorCritic(pi, v)}
    yield {"name": request.param, "env": env, "s": _observation(env), "func": func, **functions}
    env.close()


def test_observation_shapes_and_channel_order(layout: dict[str, Any]) -> None:
    expected_shape = (4, 84, 84) if layout["name"] == "channels_first" else (105, 80, 3)
    assert layout["s"].shape == expected_shape and layout["s"].dtype == np.uint8
    assert layout["func"].channels_first is (layout["name"] == "channels_first")
    assert layout["func"].observation_dtype == np.uint8


def test_outputs_of_every_head(layout: dict[str, Any]) -> None:
    s = layout["s"]
    assert layout["q2"](s).shape == (NUM_ACTIONS,)
    assert layout["q1"](s).shape == (NUM_ACTIONS,) and np.isfinite(layout["q1"](s, 2))
    assert layout["pi"](s) in range(NUM_ACTIONS)
    assert layout["pi"].dist_params(s).shape == (NUM_ACTIONS,)
    assert np.isfinite(layout["v"](s))
    Z, V = layout["actor_critic"].dist_params(s)
    assert Z.shape == (NUM_ACTIONS,) and np.isfinite(V)
    Q_s = layout["q2"].batch_eval(np.stack([s, s, s]))
    assert Q_s.shape == (3, NUM_ACTIONS)


def test_heads_share_the_body(layout: dict[str, Any]) -> None:
    func = layout["func"]
    body_kernels = {head.name: head.model.get_layer("body").trainable_variables[0]
                    for head in (func.head_model(name) for name in ("q2", "q1", "pi", "v"))}
    assert len({id(kernel) for kernel in body_kernels.values()}) == 1
    assert func.convolutional


def test_body_scales_bytes_and_moves_frames_last(layout: dict[str, Any]) -> None:
    """The body's Rescaling layer gives s / 255; the first convolution then sees the frames
    on its last (channel) axis, whatever the env's stacking axis."""
    func, s = layout["func"], layout["s"]
    func.sync_keras_variables()
    body = func.head_model("v").model.get_layer("body")
    rescaling = next(layer for layer in body.layers if isinstance(layer, keras.layers.Rescaling))
    conv = next(layer for layer in body.layers if isinstance(layer, keras.layers.Conv2D))
    probe = keras.Model(body.inputs[0], [rescaling.output, conv.input])
    scaled, conv_input = (np.asarray(x)[0] for x in probe(s[None]))
    np.testing.assert_allclose(scaled, s / 255.0, rtol=1e-6)
    frames_last = np.moveaxis(s, 0, -1) if func.channels_first else s
    np.testing.assert_allclose(conv_input, frames_last / 255.0, rtol=1e-6)


def test_a_single_grayscale_frame_of_the_smallest_size() -> None:
    """Rank 2 is one channel; 36 x 36 is the smallest image the three convolutions accept."""
    env = ImagePreprocessor(make_atari("ALE/Pong-v5", preprocessing=False), 36, 36)
    func = AtariFunctionApproximator(env, random_seed=0)
    assert not func.channels_first
    q = plugrl.QTypeII(func)
    s = _observation(env)
    assert s.shape == (36, 36) and q(s).shape == (NUM_ACTIONS,)
    assert q.batch_eval(np.stack([s, s])).shape == (2, NUM_ACTIONS)
    assert func.convolutional
    env.close()


@pytest.mark.parametrize(("shape", "channels_first"), [
    ((4, 84, 84), True), ((84, 84, 4), False), ((210, 160, 3), False), ((3, 64, 48), True),
])
def test_channel_order_is_guessed_from_the_shape_without_wrappers(shape: tuple[int, ...],
                                                                  channels_first: bool) -> None:
    assert AtariFunctionApproximator(_spaces(shape)).channels_first is channels_first


def test_channel_order_follows_the_wrappers_over_the_shape() -> None:
    """FrameStacker of 100 frames of 84 x 84 stacks last, though the last axis is the largest."""
    class Frames(gym.Env):
        observation_space = spaces.Box(0, 255, (84, 84), np.uint8)
        action_space = spaces.Discrete(NUM_ACTIONS)

    env = FrameStacker(Frames(), 100)
    assert env.observation_space.shape == (84, 84, 100)
    assert AtariFunctionApproximator(env).channels_first is False
    assert AtariFunctionApproximator(_spaces((84, 84, 100))).channels_first is True  # the guess


def test_non_image_observations_are_a_type_error(cartpole: gym.Env) -> None:
    with pytest.raises(TypeError, match=r"env.observation_space: expected a Box of images.*Box"):
        AtariFunctionApproximator(cartpole)
    with pytest.raises(TypeError, match="env.observation_space"):
        AtariFunctionApproximator(SpacesOnly(spaces.Discrete(3), spaces.Discrete(2)))


@pytest.mark.parametrize(("shape", "size"), [
    ((35, 36), "35 x 36"), ((4, 84, 30), "84 x 30"), ((30, 84, 4), "30 x 84"),
])
def test_images_smaller_than_36_pixels_are_a_value_error(shape: tuple[int, ...], size: str) -> None:
    with pytest.raises(ValueError, match=rf"env.observation_space: .*at least 36 x 36 .*got {size}"):
        AtariFunctionApproximator(_spaces(shape))


def test_an_mlp_is_not_convolutional(cartpole: gym.Env, mlp_class: type) -> None:
    func = mlp_class(cartpole, random_seed=0)
    plugrl.V(func)
    assert not func.convolutional
    assert func.observation_dtype == np.float32


@pytest.mark.parametrize(("space", "expected"), [
    (spaces.Box(0, 255, (4, 84, 84), np.uint8), True),
    (spaces.Box(0, 255, (84, 84), np.uint8), True),
    (spaces.Box(0, 1, (4, 84, 84), np.float32), False),
    (spaces.Box(0, 255, (84,), np.uint8), False),
    (spaces.Discrete(4), False),
])
def test_is_image_space(space: spaces.Space, expected: bool) -> None:
    assert is_image_space(space) is expected
