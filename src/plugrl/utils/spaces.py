"""Feature vectors for observations and actions of any Gymnasium space (used by
:class:`plugrl.wrappers.DefaultPreprocessor`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from plugrl.utils.arrays import one_hot

__all__ = ["feature_dim", "feature_space", "feature_vector"]

_ONE_HOT_SPACES = (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
_SUPPORTED = "Box, Discrete, MultiDiscrete, MultiBinary, Tuple or Dict"


def _unsupported(space: Any) -> TypeError:
    return TypeError(f"space: expected a gymnasium {_SUPPORTED} space, got {space!r}")


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    # an empty Tuple/Dict space has an empty (not a missing) feature vector
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _multi_discrete_one_hot(x: Any, space: spaces.MultiDiscrete) -> np.ndarray:
    nvec = np.asarray(space.nvec).ravel()
    offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])
    start = np.asarray(getattr(space, "start", 0))
    out = np.zeros(int(nvec.sum()), dtype=np.float32)
    out[offsets + (np.asarray(x) - start).ravel()] = 1.0
    return out


def feature_vector(x: Any, space: spaces.Space) -> np.ndarray:
    r"""Flat float32 feature vector of a single observation or action.

    * ``Discrete(n)``: one-hot :math:`e_{x - \text{start}} \in \{0, 1\}^n`;
    * ``Box``: the values, flattened;
    * ``MultiDiscrete(nvec)``: concatenated one-hots, one of size ``nvec[k]`` per component;
    * ``MultiBinary``: the bits, flattened;
    * ``Tuple`` / ``Dict``: concatenated features of the components, in the space's order
      (``space.spaces`` key order for a Dict).

    Parameters
    ----------
    x : int, ndarray, tuple or dict
        A single element of ``space`` (no batch axis). Box values are not bounds-checked
        (environments like CartPole emit observations outside their Box); their shape is.
    space : gymnasium.spaces.Space
        One of the spaces listed above, arbitrarily nested.

    Returns
    -------
    features : 1d ndarray, float32, shape: [feature_dim(space)]
    """
    if isinstance(space, spaces.Box):
        x = np.asarray(x)
        if x.shape != space.shape:
            raise ValueError(f"x: expected shape {space.shape} for {space!r}, got {x.shape}")
        return x.astype(np.float32).ravel()
    if isinstance(space, spaces.Tuple):
        if len(x) != len(space.spaces):
            raise ValueError(f"x: expected {len(space.spaces)} components for {space!r}, got {x!r}")
        return _concat([feature_vector(xi, si) for xi, si in zip(x, space.spaces)])
    if isinstance(space, spaces.Dict):
        missing = [k for k in space.spaces if k not in x]
        if missing:
            raise ValueError(
                f"x: expected keys {list(space.spaces)} for {space!r}, missing {missing}"
            )
        return _concat([feature_vector(x[k], si) for k, si in space.spaces.items()])
    if not isinstance(space, _ONE_HOT_SPACES):
        raise _unsupported(space)
    if not space.contains(x):
        raise ValueError(f"x: expected an element of {space!r}, got x={x!r}")
    if isinstance(space, spaces.Discrete):
        return one_hot(np.int64(x) - np.int64(space.start), int(space.n), dtype=np.float32)
    if isinstance(space, spaces.MultiBinary):
        return np.asarray(x, dtype=np.float32).ravel()
    return _multi_discrete_one_hot(x, space)


def feature_dim(space: spaces.Space) -> int:
    """Size of :func:`feature_vector` for elements of ``space``.

    Parameters
    ----------
    space : gymnasium.spaces.Space
        A Box, Discrete, MultiDiscrete, MultiBinary, Tuple or Dict space, arbitrarily nested.

    Returns
    -------
    dim : int
    """
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    if isinstance(space, (spaces.Box, spaces.MultiBinary)):
        return int(np.prod(space.shape))
    if isinstance(space, (spaces.Tuple, spaces.Dict)):
        components = space.spaces.values() if isinstance(space, spaces.Dict) else space.spaces
        return sum(feature_dim(s) for s in components)
    raise _unsupported(space)


def _feature_bounds(space: spaces.Space) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(space, spaces.Box):
        return space.low.astype(np.float32).ravel(), space.high.astype(np.float32).ravel()
    if isinstance(space, _ONE_HOT_SPACES):
        dim = feature_dim(space)
        return np.zeros(dim, dtype=np.float32), np.ones(dim, dtype=np.float32)
    if isinstance(space, (spaces.Tuple, spaces.Dict)):
        components = space.spaces.values() if isinstance(space, spaces.Dict) else space.spaces
        lows, highs = zip(*[_feature_bounds(s) for s in components]) if components else ((), ())
        return _concat(list(lows)), _concat(list(highs))
    raise _unsupported(space)


def feature_space(space: spaces.Space) -> spaces.Box:
    """The flat float32 Box that :func:`feature_vector` maps ``space`` into.

    One-hot and binary features get bounds [0, 1]; Box features keep their (flattened) bounds.

    Parameters
    ----------
    space : gymnasium.spaces.Space
        A Box, Discrete, MultiDiscrete, MultiBinary, Tuple or Dict space, arbitrarily nested.

    Returns
    -------
    box : gymnasium.spaces.Box, float32, shape: [feature_dim(space)]
    """
    low, high = _feature_bounds(space)
    return spaces.Box(low=low, high=high, dtype=np.float32)
