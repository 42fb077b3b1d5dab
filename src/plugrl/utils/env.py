"""Helpers to inspect Gymnasium environments through their wrapper stack."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym

__all__ = ["get_env_attr", "get_transition", "has_env_attr"]

_MISSING = object()


def _check_max_depth(max_depth: int) -> None:
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ValueError(f"max_depth: expected an int >= 1, got max_depth={max_depth!r}")


def _find_env_attr(env: Any, attr: str, max_depth: int) -> Any:
    _check_max_depth(max_depth)
    e = env
    for _ in range(max_depth):
        # getattr rather than hasattr: a property that raises something other than
        # AttributeError should surface, not be mistaken for a missing attribute
        value = getattr(e, attr, _MISSING)
        if value is not _MISSING:
            return value
        e = getattr(e, "env", _MISSING)
        if e is _MISSING:
            break
    return _MISSING


def get_env_attr(env: Any, attr: str, default: Any = "__ERROR__", max_depth: int = 100) -> Any:
    """Get an attribute from the outermost layer of a wrapped environment that has it.

    Gymnasium >= 1.0 wrappers no longer forward unknown attributes to the environment they
    wrap, so this walks the ``.env`` chain from the outside in and returns the first match.

    Parameters
    ----------
    env : gymnasium.Env
        A (possibly wrapped) environment.
    attr : str
        Name of the attribute.
    default : Any, optional
        Returned when no layer has ``attr``. The sentinel ``'__ERROR__'`` (default) raises
        :class:`AttributeError` instead.
    max_depth : int, optional
        Maximum number of layers to inspect, default ``100``.

    Returns
    -------
    value : Any
        The attribute's value, or ``default``.
    """
    value = _find_env_attr(env, attr, max_depth)
    if value is not _MISSING:
        return value
    if isinstance(default, str) and default == "__ERROR__":
        raise AttributeError(
            f"attr: expected an attribute of env or of one of its wrapped envs (searched "
            f"{max_depth} layers), got attr={attr!r} which none of them has; env={env!r}"
        )
    return default


def has_env_attr(env: Any, attr: str, max_depth: int = 100) -> bool:
    """Whether some layer of a wrapped environment has an attribute.

    Parameters
    ----------
    env : gymnasium.Env
        A (possibly wrapped) environment.
    attr : str
        Name of the attribute.
    max_depth : int, optional
        Maximum number of layers to inspect, default ``100``.

    Returns
    -------
    found : bool
    """
    return _find_env_attr(env, attr, max_depth) is not _MISSING


def get_transition(
    env: gym.Env, seed: int | None = None
) -> tuple[Any, Any, SupportsFloat, Any, Any, bool, dict[str, Any]]:
    """Generate a single transition from a freshly reset environment with random actions.

    Useful to get example inputs, e.g. to build or test a function approximator. The
    environment is left open (unlike keras-gym, which closed it).

    Parameters
    ----------
    env : gymnasium.Env
        The environment; it is reset.
    seed : int, optional
        If given, seeds both ``env.reset`` and ``env.action_space``, so the transition is
        reproducible.

    Returns
    -------
    s, a, r, s_next, a_next, done, info : tuple
        Observation, action (from ``env.action_space.sample()``), reward, next observation,
        next action (another sample), ``done = terminated or truncated``, and the step's info.
    """
    if seed is not None:
        env.action_space.seed(seed)
    s, _ = env.reset(seed=seed)
    a = env.action_space.sample()
    s_next, r, terminated, truncated, info = env.step(a)
    a_next = env.action_space.sample()
    return s, a, r, s_next, a_next, bool(terminated or truncated), info
