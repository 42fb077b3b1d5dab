"""Logging setup for scripts and notebooks.

Named ``log`` rather than ``logging`` so that it can never be confused with (or, when this
directory is on ``sys.path``, shadow) the standard library module.
"""

from __future__ import annotations

import logging

__all__ = ["enable_logging"]


def enable_logging(level: int = logging.INFO, level_jax: int = logging.ERROR, *,
                   level_tf: int | None = None) -> None:
    """Turn on plugrl's log output (e.g. the per-episode lines of ``TrainMonitor``).

    Calls :func:`logging.basicConfig` with ``level`` and quiets the chatty ``'jax'`` and
    ``'absl'`` loggers. Nothing is configured on import; call this explicitly.

    Parameters
    ----------
    level : int, optional
        Level of the root logger, default :data:`logging.INFO`.
    level_jax : int, optional
        Level of the ``'jax'`` and ``'absl'`` loggers, default :data:`logging.ERROR`.
    level_tf : int, optional
        keras-gym's name for the backend's level (there, TensorFlow's): the same as
        ``level_jax``, for code written against keras-gym.

    Raises
    ------
    TypeError
        If ``level_tf`` is given together with a ``level_jax`` other than the default.
    """
    if level_tf is not None:
        if level_jax != logging.ERROR:
            raise TypeError("level_tf, level_jax: expected one of them (level_tf is keras-gym's "
                            f"name of level_jax), got level_tf={level_tf!r}, level_jax={level_jax!r}")
        level_jax = level_tf
    logging.basicConfig(level=level)
    # basicConfig is a no-op once the root logger has handlers; set the level regardless so a
    # second call with another level still takes effect
    logging.getLogger().setLevel(level)
    for name in ("jax", "absl"):
        logging.getLogger(name).setLevel(level_jax)
