"""Stack the last few frames along a new last axis, as keras-gym's ``FrameStacker``."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import FrameStackObservation

__all__ = ["FrameStacker"]


class FrameStacker(gym.Wrapper[np.ndarray, Any, np.ndarray, Any], gym.utils.RecordConstructorArgs):
    r"""Make each observation the stack of the last ``num_frames`` frames, newest last.

    A frame :math:`x_t` of shape ``shape`` becomes

    .. math::

        s_t = (x_{t-k+1}, \dots, x_{t-1}, x_t)\quad\text{stacked along a new last axis,}

    of shape ``shape + (k,)`` with :math:`k` = ``num_frames`` (channels last, as keras-gym):
    Pong after ``ImagePreprocessor(env, 105, 80)`` and ``FrameStacker(env, 4)`` gives
    ``(105, 80, 4)``, a vector of size ``n`` gives ``(n, k)``. ``s[..., -1]`` is the newest
    frame, ``s[..., -2]`` the one before. At reset the stack is the first frame repeated
    :math:`k` times.

    The stacking is :class:`gymnasium.wrappers.FrameStackObservation` (``padding_type="reset"``),
    whose stack axis (first) is then moved last.

    Parameters
    ----------
    env : gymnasium.Env
        An environment with a ``Box`` observation space (any rank and dtype).
    num_frames : positive int, optional
        Number of frames :math:`k` in each observation.

    Attributes
    ----------
    observation_space : gymnasium.spaces.Box
        ``Box`` of shape ``env.observation_space.shape + (num_frames,)``, the frame's dtype and
        its bounds repeated along the last axis.
    num_frames : int
        As given.
    frame_stack_axis : int
        The index of the stacking axis in each observation, ``len(observation_space.shape) - 1``.
        A replay buffer reads it to store each frame once (``s[..., i]`` is frame ``i``)
        instead of ``num_frames`` times.

    Raises
    ------
    TypeError
        ``num_frames`` is not an int (a float or bool included); ``env.observation_space`` is
        not a ``Box``.
    ValueError
        ``num_frames`` is less than 1.
    """

    def __init__(self, env: gym.Env, num_frames: int = 4) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, num_frames=num_frames)
        # bool is an int subclass, and True frames is a typo, not one frame
        if isinstance(num_frames, bool) or not isinstance(num_frames, int | np.integer):
            raise TypeError(
                f"num_frames: expected a positive int, got {num_frames!r} ({type(num_frames).__name__})"
            )
        if num_frames < 1:
            raise ValueError(f"num_frames: expected a positive int, got {num_frames!r}")
        space = env.observation_space
        if not isinstance(space, spaces.Box):
            raise TypeError(f"env.observation_space: expected a Box, got {space}")
        super().__init__(env)
        self.num_frames = int(num_frames)
        self.frame_stack_axis = len(space.shape)

        # A private FrameStackObservation rather than one between this wrapper and `env`:
        # `self.env` stays the user's env, so `spec` records FrameStacker once and
        # gym.make(env.spec) rebuilds the same stack.
        self._stack = FrameStackObservation(env, self.num_frames, padding_type="reset")
        stacked = self._stack.observation_space
        assert isinstance(stacked, spaces.Box)  # batch_space of a Box is a Box
        self.observation_space = spaces.Box(
            low=self._stack_last(stacked.low), high=self._stack_last(stacked.high),
            dtype=space.dtype,
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the environment; the first stack is its first frame repeated.

        Returns
        -------
        s : ndarray, shape: observation_space.shape
        info : dict
        """
        s, info = self._stack.reset(seed=seed, options=options)
        return self._stack_last(s), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the environment and push its next frame onto the stack (``s_next[..., -1]``).

        Returns
        -------
        s_next : ndarray, shape: observation_space.shape
        r : float
        terminated, truncated : bool
        info : dict
        """
        s_next, r, terminated, truncated, info = self._stack.step(action)
        return self._stack_last(s_next), r, terminated, truncated, info

    def _stack_last(self, stacked: np.ndarray) -> np.ndarray:
        # C-contiguous like any env's own frames (moveaxis alone gives a strided view, which
        # e.g. cv2 rejects); FrameStackObservation hands out a fresh copy, so nothing aliases
        return np.ascontiguousarray(np.moveaxis(stacked, 0, self.frame_stack_axis))
