"""Private argument checks and action conversion shared by the short-term caches.

Every check raises an error whose message names the argument, the expected value and the
actual value, so a bad call fails at the API boundary rather than deep inside a batch.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from gymnasium import spaces

from plugrl.utils.validation import (  # noqa: F401
    check_flag,
    check_gamma,
    check_positive_int,
    check_terminated,
)

__all__ = [
    "NothingToPopError",
    "check_action_space",
    "check_flag",
    "check_gamma",
    "check_positive_int",
    "check_terminated",
    "check_reward",
    "convert_action",
    "ended_episode_error",
    "unknown_action",
]


class NothingToPopError(IndexError, RuntimeError):
    """Raised by ``pop()``/``flush()`` when no transition can be popped yet.

    It subclasses both ``IndexError`` (like ``list.pop`` on an empty list) and ``RuntimeError``
    (popping too early is a misuse of the cache's protocol), so either ``except`` clause works.
    """


def check_reward(r: Any) -> float:
    """Return the reward as a float, or raise if it is not a finite real scalar."""
    if isinstance(r, np.ndarray) and r.ndim == 0:
        r = r.item()
    if isinstance(r, (bool, np.bool_)) or not isinstance(r, numbers.Real):
        raise TypeError(f"r: expected a finite real reward, got {type(r).__name__} {r!r}")
    value = float(r)
    if not math.isfinite(value):
        raise ValueError(f"r: expected a finite reward, got {value!r}")
    return value


def check_action_space(env: Any) -> spaces.Space[Any]:
    """Return ``env.action_space``, or raise if ``env`` has no Gymnasium action space."""
    space = getattr(env, "action_space", None)
    if not isinstance(space, spaces.Space):
        raise TypeError(
            "env: expected a Gymnasium env with a gymnasium.spaces.Space action_space, "
            f"got {type(env).__name__} with action_space={space!r}"
        )
    return space


def convert_action(name: str, a: Any, space: spaces.Space[Any]) -> np.ndarray:
    """Convert one action to the dtype and shape the caches store for ``space``.

    ``Discrete`` actions become int64 scalars, ``Box`` actions float32 arrays of the space's
    shape; actions of other spaces are kept as given (``np.array(a, copy=True)``).
    """
    if isinstance(space, spaces.Discrete):
        arr = np.asarray(a)
        if arr.shape != () or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(
                f"{name}: expected an int action for {space}, got {arr.dtype} array of shape {arr.shape}"
            )
        return np.asarray(arr, dtype=np.int64)
    if isinstance(space, spaces.Box):
        arr = np.array(a, dtype=np.float32, copy=True)
        if arr.shape != space.shape:
            raise ValueError(
                f"{name}: expected an action of shape {space.shape} for {space}, got shape {arr.shape}"
            )
        return arr
    return np.array(a, copy=True)


def unknown_action(space: spaces.Space[Any], a_like: np.ndarray) -> np.ndarray | None:
    """Return the marker for "unknown next action", or None if ``space`` has none.

    The marker is ``-1`` for ``Discrete`` spaces and an all-NaN float32 array for ``Box``
    spaces. For other spaces it is an array like ``a_like`` filled with NaN (floating dtypes) or
    ``-1`` (signed integer dtypes); any other dtype has no marker.
    """
    if isinstance(space, spaces.Discrete):
        return np.asarray(-1, dtype=np.int64)
    if isinstance(space, spaces.Box):
        return np.full(space.shape, np.nan, dtype=np.float32)
    if np.issubdtype(a_like.dtype, np.floating):
        return np.full_like(a_like, np.nan)
    if np.issubdtype(a_like.dtype, np.signedinteger):
        return np.full_like(a_like, -1)
    return None


def ended_episode_error(cache: str, remaining: int) -> RuntimeError:
    """The error for adding a transition while a finished episode is still in the cache."""
    return RuntimeError(
        f"{cache}.add: expected the finished episode to be emptied first, got {remaining} of its "
        "transitions still in the cache; call pop() or flush() until it is empty, or reset()"
    )
