"""Downscale (and grayscale) image observations, as keras-gym's ``ImagePreprocessor``."""

from __future__ import annotations

from functools import partial
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import GrayscaleObservation, ResizeObservation, TransformObservation

__all__ = ["ImagePreprocessor"]


class ImagePreprocessor(
    gym.Wrapper[np.ndarray, Any, np.ndarray, Any], gym.utils.RecordConstructorArgs
):
    r"""Turn each image frame into a smaller uint8 frame, grayscale by default.

    The work is done by Gymnasium's own wrappers, composed:
    :class:`gymnasium.wrappers.GrayscaleObservation` (``keep_dim=False``), then
    :class:`gymnasium.wrappers.ResizeObservation`. So the values are Gymnasium's:

    * grayscale is the luminance :math:`Y = 0.2125\,R + 0.7154\,G + 0.0721\,B`, truncated to
      uint8 (``astype``, not rounded) — not OpenCV's ``cv2.COLOR_RGB2GRAY`` weights;
    * resizing is ``cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)``.

    Atari's ``ALE/Pong-v5`` frames of shape ``(210, 160, 3)`` become ``(105, 80)`` with
    ``height=105, width=80``.

    Parameters
    ----------
    env : gymnasium.Env
        An environment whose observation space is an image ``Box(0, 255, shape, uint8)``
        with ``shape`` either ``(H, W, C)`` (``C == 3``, RGB, when ``grayscale=True``) or
        ``(H, W)`` (already grayscale: then ``grayscale`` changes nothing).
    height : positive int
        Output height (number of pixel rows).
    width : positive int
        Output width (number of pixel columns).
    grayscale : bool, optional
        Whether to convert RGB frames to grayscale.
    assert_input_shape : tuple of int, optional
        If given, the shape every input frame must have: checked against
        ``env.observation_space`` at construction and against each frame at run time.

    Attributes
    ----------
    observation_space : gymnasium.spaces.Box, uint8
        ``Box(0, 255, (height, width), uint8)`` for grayscale output,
        ``Box(0, 255, (height, width, C), uint8)`` otherwise.
    input_shape : tuple of int
        The shape of the frames the wrapped environment emits.
    height, width : int
        As given.
    grayscale : bool
        Whether the output is grayscale (also True for an already grayscale input).

    Raises
    ------
    TypeError
        ``height`` or ``width`` is not an int (a float or bool included);
        ``env.observation_space`` is not a ``Box``.
    ValueError
        ``height`` or ``width`` is not positive; ``env.observation_space`` is not an image
        (rank 2 or 3, uint8, bounds 0 to 255, 3 channels for ``grayscale=True``);
        ``assert_input_shape`` differs from the observation space's shape, or (at run time)
        from a frame's shape.
    """

    def __init__(
        self,
        env: gym.Env,
        height: int,
        width: int,
        grayscale: bool = True,
        assert_input_shape: tuple[int, ...] | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, height=height, width=width, grayscale=grayscale,
            assert_input_shape=assert_input_shape,
        )
        self.height = _check_positive_int("height", height)
        self.width = _check_positive_int("width", width)
        self.input_shape = _check_image_space(env.observation_space, bool(grayscale))
        if assert_input_shape is not None and tuple(assert_input_shape) != self.input_shape:
            raise ValueError(
                f"assert_input_shape: expected the shape of env.observation_space "
                f"{self.input_shape}, got {tuple(assert_input_shape)}"
            )
        super().__init__(env)
        self.grayscale = bool(grayscale) or len(self.input_shape) == 2

        # The Gymnasium wrappers sit on a private chain rather than between this wrapper and
        # `env`: `self.env` stays the user's env, so `spec` records ImagePreprocessor once and
        # gym.make(env.spec) rebuilds the same stack.
        frames: gym.Env = TransformObservation(
            env,
            partial(
                _check_frame_shape, expected=self.input_shape,
                source="env.observation_space" if assert_input_shape is None else "assert_input_shape",
            ),
            None,
        )
        if len(self.input_shape) == 3 and grayscale:
            frames = GrayscaleObservation(frames, keep_dim=False)
        self._frames = ResizeObservation(frames, (self.height, self.width))
        self.observation_space = self._frames.observation_space

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the environment and return its first frame, preprocessed.

        Returns
        -------
        s : ndarray, uint8, shape: observation_space.shape
        info : dict
        """
        return self._frames.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the environment; the next frame comes back preprocessed.

        Returns
        -------
        s_next : ndarray, uint8, shape: observation_space.shape
        r : float
        terminated, truncated : bool
        info : dict
        """
        return self._frames.step(action)


def _check_positive_int(name: str, value: Any) -> int:
    # bool is an int subclass, and True as a height is a typo, not a 1-pixel image
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}: expected a positive int, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return int(value)


def _check_image_space(space: gym.Space, grayscale: bool) -> tuple[int, ...]:
    if not isinstance(space, spaces.Box):
        raise TypeError(f"env.observation_space: expected an image Box(0, 255, shape, uint8), got {space}")
    shape = space.shape
    if len(shape) not in (2, 3):
        raise ValueError(
            f"env.observation_space: expected an image of rank 2 (H, W) or 3 (H, W, C), "
            f"got shape {shape}"
        )
    if grayscale and len(shape) == 3 and shape[-1] != 3:
        raise ValueError(
            f"env.observation_space: expected RGB frames of shape (H, W, 3) for grayscale=True, "
            f"got shape {shape}"
        )
    if space.dtype != np.uint8 or not (np.all(space.low == 0) and np.all(space.high == 255)):
        raise ValueError(f"env.observation_space: expected an image Box(0, 255, shape, uint8), got {space}")
    return shape


def _check_frame_shape(frame: Any, expected: tuple[int, ...], source: str) -> np.ndarray:
    # cv2.resize would silently accept a frame of another size and return a wrong image
    frame = np.asarray(frame)
    if frame.shape != expected:
        raise ValueError(
            f"observation: expected a frame of shape {expected} (from {source}), got {frame.shape}"
        )
    return frame
