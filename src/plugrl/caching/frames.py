"""How a replay buffer lays observations out in its slots: whole, or one stacked frame per slot.

An observation made of :math:`k` stacked frames (Gymnasium's ``FrameStackObservation`` gives
``(k, 84, 84)``, channels-last stacking ``(84, 84, k)``) shares :math:`k - 1` frames with the
previous observation of its episode. :class:`FrameLayout` stores each frame once: slot
:math:`p` holds the newest frame of one observation, and that observation is rebuilt from
slots :math:`p - k + 1, \\dots, p`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium import spaces
from gymnasium.wrappers import FrameStackObservation

__all__ = ["FINAL", "PAD", "STEP", "FrameLayout", "infer_frame_stack_axis"]

# What a buffer's slot holds: a time step, a truncated episode's final observation, or one of
# the older frames of an episode's first observation (frame stacking only).
STEP, FINAL, PAD = 0, 1, 2


class FrameLayout:
    r"""The slot layout of a buffer's observations, optionally with frames stored once.

    Without a stacking axis (``axis=None``) a slot holds a whole observation (:math:`k = 1`).
    With ``axis``, an observation is a stack of :math:`k` = ``obs_shape[axis]`` frames along
    ``axis``, oldest first, and a slot holds one frame. The buffer keeps the stacks of an
    episode in consecutive slots, so the observation whose newest frame is in slot :math:`p`
    is

    .. math::

        s = \operatorname{stack}_{\text{axis}}\left(F_{p-k+1}, \dots, F_{p}\right).

    Parameters
    ----------
    obs_shape : tuple of int
        The shape of one observation.
    dtype : numpy dtype or None
        The dtype in which observations are stored (``None``: NumPy's default, float64, for a
        space that declares no dtype).
    axis : int or None, optional
        The axis along which the frames of an observation are stacked.
    """

    def __init__(self, obs_shape: tuple[int, ...], dtype: npt.DTypeLike | None,
                 axis: int | None = None) -> None:
        self.obs_shape, self.dtype = tuple(int(d) for d in obs_shape), np.dtype(dtype)
        self.axis = None if axis is None else _check_axis(axis, self.obs_shape)
        if self.axis is None:
            self.k, self.frame_shape = 1, self.obs_shape
        else:
            self.k = self.obs_shape[self.axis]
            self.frame_shape = self.obs_shape[:self.axis] + self.obs_shape[self.axis + 1:]

    @classmethod
    def from_space(cls, space: Any, axis: int | None = None) -> FrameLayout:
        """The layout of the observations of a Gymnasium space (``env.observation_space``)."""
        if not isinstance(space, spaces.Space) or space.shape is None:
            raise TypeError(f"env: expected an observation_space with a shape, got {space!r}")
        return cls(space.shape, space.dtype, axis)

    def check(self, name: str, s: npt.ArrayLike) -> np.ndarray:
        """Return one observation in the stored dtype, or raise if it does not fit the spec."""
        arr = np.asarray(s)
        if arr.shape != self.obs_shape:
            raise ValueError(f"{name}: expected an observation of shape {self.obs_shape}, "
                             f"got shape {arr.shape}")
        if not np.can_cast(arr.dtype, self.dtype, casting="same_kind"):
            raise TypeError(f"{name}: expected an observation castable to {self.dtype}, "
                            f"got dtype {arr.dtype}")
        return arr.astype(self.dtype, copy=False)

    def frames(self, s: np.ndarray) -> np.ndarray:
        """The frames of one checked observation, oldest first, shape ``[k, *frame_shape]``."""
        return s[None] if self.axis is None else np.moveaxis(s, self.axis, 0)

    def stacks(self, F: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """The observations whose newest frames are in ``slots`` of the frame ring ``F``.

        Parameters
        ----------
        F : ndarray, shape ``[capacity, *frame_shape]``
            The stored frames.
        slots : ndarray of int, shape ``[batch_size]``
            The slots of the newest frames.

        Returns
        -------
        S : ndarray, shape ``[batch_size, *obs_shape]``
            The rebuilt observations, C-contiguous.
        """
        window = (slots[:, None] + np.arange(1 - self.k, 1)) % len(F)
        frames = F[window]  # [batch_size, k, *frame_shape]
        if self.axis is None:
            return frames[:, 0]
        return np.ascontiguousarray(np.moveaxis(frames, 1, self.axis + 1))

    def check_continues(self, name: str, older: np.ndarray, previous: np.ndarray) -> None:
        """Raise unless an observation's older frames repeat the previous observation's newest.

        Parameters
        ----------
        name : str
            The argument being checked, for the error message.
        older : ndarray, shape ``[k - 1, *frame_shape]``
            The oldest :math:`k - 1` frames of the new observation.
        previous : ndarray, shape ``[k - 1, *frame_shape]``
            The newest :math:`k - 1` frames of the episode's previous observation.
        """
        equal_nan = self.dtype.kind in "fc"
        if np.array_equal(older, previous, equal_nan=equal_nan):
            return
        differ = [i for i, (x, y) in enumerate(zip(older, previous))
                  if not np.array_equal(x, y, equal_nan=equal_nan)]
        raise ValueError(
            f"{name}: expected frames 0..{self.k - 2} along frame_stack_axis={self.axis} to repeat "
            f"the newest {self.k - 1} frames of the episode's previous observation (frames are "
            f"stored once), got different frames at positions {differ}; pass a new episode_id "
            "when a new episode starts"
        )


def _check_axis(axis: Any, obs_shape: tuple[int, ...]) -> int:
    ndim = len(obs_shape)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"frame_stack_axis: expected an int or None, got {type(axis).__name__} "
                        f"{axis!r}")
    index = int(axis)
    if not -ndim <= index < ndim:
        raise ValueError(f"frame_stack_axis: expected an int in [{-ndim}, {ndim}) for observations "
                         f"of shape {obs_shape}, got {axis}")
    return index % ndim


def infer_frame_stack_axis(env: Any) -> int | None:
    """The axis along which ``env``'s observations stack frames, as its wrappers say, or None.

    Read, outermost first, from the wrappers of ``env`` (the first sub-environment of a
    Gymnasium ``SyncVectorEnv``; an ``AsyncVectorEnv``'s run in subprocesses, out of reach): an
    attribute ``frame_stack_axis`` (plugrl's :class:`~plugrl.wrappers.FrameStacker` and the
    vector envs that :func:`~plugrl.samplers.make_vector_env` makes for Atari ids set it), or
    Gymnasium's ``FrameStackObservation``, which stacks along the first axis.

    Parameters
    ----------
    env : gymnasium.Env, gymnasium.vector.VectorEnv or any object
        The environment; an object with neither wrappers nor the attribute gives None.
    """
    seen: set[int] = set()
    while env is not None and id(env) not in seen:
        seen.add(id(env))
        axis = vars(env).get("frame_stack_axis") if hasattr(env, "__dict__") else None
        if axis is not None:
            return int(axis)
        if isinstance(env, FrameStackObservation):
            return 0
        envs = vars(env).get("envs") if hasattr(env, "__dict__") else None
        env = envs[0] if isinstance(envs, (list, tuple)) and envs else getattr(env, "env", None)
    return None
