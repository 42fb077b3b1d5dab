r"""The Nature-DQN convolutional network (Mnih et al., 2015) for Atari 2600 and other image
observations: keras-gym's ``predefined.AtariFunctionApproximator``."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl._backend import Optimizer, keras
from plugrl.caching.frames import infer_frame_stack_axis
from plugrl.function_approximators.base import FunctionApproximator

__all__ = ["AtariFunctionApproximator", "is_image_space"]


def is_image_space(space: Any) -> bool:
    """Whether ``space`` holds images a convolutional network reads: a uint8 ``Box`` of rank 2
    (one grayscale frame) or 3 (frames or colour channels along one axis), as Stable-Baselines3
    decides between its ``CnnPolicy`` and ``MlpPolicy``."""
    return (isinstance(space, gym.spaces.Box) and space.dtype == np.uint8
            and len(space.shape) in (2, 3))


class AtariFunctionApproximator(FunctionApproximator):
    r"""A function approximator for Atari 2600 and other image environments.

    The body is the Nature-DQN network, convolutions without pooling:

    .. math::

        S\ \xrightarrow{/255}\ \text{conv}_{8\times 8,\,4}^{32}\ \to\
        \text{conv}_{4\times 4,\,2}^{64}\ \to\ \text{conv}_{3\times 3,\,1}^{64}\ \to\
        \text{dense}^{512}\ \to\ X

    with ReLU activations and orthogonal weights of gain :math:`\sqrt 2`. The uint8 frames are
    scaled inside the network, so observations travel (and replay buffers store them) as bytes.
    Observations may be stacked frames with the stacking axis first, as Gymnasium's
    ``FrameStackObservation`` and ale-py's vector environment give them (:math:`[k, h, w]`), or
    last, as :class:`~plugrl.wrappers.FrameStacker` (:math:`[h, w, k]`); a single grayscale frame
    :math:`[h, w]` has one channel. The stacking axis is read from the environment's wrappers
    where they say it, else guessed from the shape (the smaller end axis holds the frames).

    Parameters
    ----------
    env : gymnasium.Env or SpacesOnly
        An environment with image observations: a ``Box`` of rank 2 or 3, at least
        :math:`36 \times 36` pixels (the smallest image the three convolutions accept).
    optimizer : optax.GradientTransformation or keras.optimizers.Optimizer, optional
        If left unspecified, the default Adam optimizer with ``**optimizer_kwargs``.
    random_seed : int, optional
        Seed of the weight initialisation.
    **optimizer_kwargs
        Keyword arguments of the default optimizer, e.g. ``lr=0.00025``.

    Attributes
    ----------
    channels_first : bool
        Whether the frames are stacked along the first axis (moved last inside the network).
    """

    MIN_SIZE = 36  # (36 - 8) / 4 + 1 = 8, (8 - 4) / 2 + 1 = 3, 3 - 3 + 1 = 1

    def __init__(self, env: Any, optimizer: Optimizer | keras.optimizers.Optimizer | None = None,
                 *, random_seed: int | None = None, **optimizer_kwargs: Any) -> None:
        space = env.observation_space
        shape = getattr(space, "shape", None)
        if not isinstance(space, gym.spaces.Box) or shape is None or len(shape) not in (2, 3):
            raise TypeError(f"env.observation_space: expected a Box of images, of rank 2 [height, "
                            f"width] or 3 (stacked frames or channels), got {space}")
        self.channels_first = _channels_first(tuple(shape), infer_frame_stack_axis(env))
        height, width = shape[1:] if self.channels_first else shape[:2]
        if min(height, width) < self.MIN_SIZE:
            raise ValueError(f"env.observation_space: expected images of at least {self.MIN_SIZE} x "
                             f"{self.MIN_SIZE} pixels, got {height} x {width} (shape {shape})")
        super().__init__(env, optimizer, random_seed=random_seed, **optimizer_kwargs)

    def body(self, S: Any) -> Any:
        X = keras.layers.Rescaling(1.0 / 255.0)(S)  # also casts the bytes to float32
        if len(S.shape) == 3:  # one grayscale frame: one channel
            X = keras.layers.Reshape((*S.shape[1:], 1))(X)
        elif self.channels_first:
            X = keras.layers.Permute((2, 3, 1))(X)
        for filters, size, stride in ((32, 8, 4), (64, 4, 2), (64, 3, 1)):
            X = keras.layers.Conv2D(filters, size, strides=stride, activation="relu",
                                    kernel_initializer=_relu_orthogonal())(X)
        X = keras.layers.Flatten()(X)
        return keras.layers.Dense(512, activation="relu", kernel_initializer=_relu_orthogonal())(X)


def _relu_orthogonal() -> keras.initializers.Initializer:
    return keras.initializers.Orthogonal(gain=math.sqrt(2.0))


def _channels_first(shape: tuple[int, ...], stack_axis: int | None) -> bool:
    """Whether the frames (channels) of observations of ``shape`` lie along the first axis."""
    if len(shape) != 3:
        return False
    if stack_axis is not None:
        return stack_axis % 3 == 0
    return shape[0] < shape[-1]
