"""Watching a policy: play an episode for its return, render it on screen or record it as an
animated GIF."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl.utils.env import get_env_attr
from plugrl.utils.files import give_default_mode

__all__ = ["episode_return", "generate_gif", "render_episode"]

Policy = Callable[[Any], Any]


def _check_max_steps(max_steps: int | None) -> None:
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
        raise ValueError(f"max_steps: expected None or an int >= 1, got max_steps={max_steps!r}")


def _play(env: gym.Env, policy: Policy, max_steps: int | None, seed: int | None = None) -> Iterator[float]:
    # yields once after reset (reward 0) and once after every step, so callers can render
    s, _ = env.reset(seed=seed)
    yield 0.0
    t = 0
    while max_steps is None or t < max_steps:
        s, r, terminated, truncated, _ = env.step(policy(s))
        t += 1
        yield float(r)
        if terminated or truncated:
            break


def episode_return(env: gym.Env, policy: Policy, seed: int | None = None) -> float:
    """The undiscounted return of one episode of ``policy`` (observation -> action) on ``env``,
    reset with ``seed``; the episode runs until it terminates or is truncated."""
    return float(sum(_play(env, policy, None, seed)))


def render_episode(
    env: gym.Env, policy: Policy, step_delay_ms: float = 0, max_steps: int | None = None
) -> float:
    r"""Run one episode, calling ``env.render()`` after the reset and after every step.

    Parameters
    ----------
    env : gymnasium.Env
        The environment, typically made with ``render_mode='human'``.
    policy : callable
        Maps an observation ``s`` to an action, ``a = policy(s)``.
    step_delay_ms : float, optional
        Pause after each rendered frame, in milliseconds, to slow down playback. Default 0.
    max_steps : int, optional
        Stop after this many steps even if the episode has not ended (for environments
        without a time limit). Default: no limit.

    Returns
    -------
    G : float
        The undiscounted episode return :math:`G = \sum_t r_t`.
    """
    if step_delay_ms < 0:
        raise ValueError(f"step_delay_ms: expected a number >= 0, got {step_delay_ms!r}")
    _check_max_steps(max_steps)
    G = 0.0
    for r in _play(env, policy, max_steps):
        G += r
        env.render()
        if step_delay_ms:
            time.sleep(step_delay_ms / 1000)
    return G


def _check_resize_to(resize_to: tuple[int, int] | None) -> None:
    ok = resize_to is None or (
        isinstance(resize_to, (tuple, list))
        and len(resize_to) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in resize_to)
    )
    if not ok:
        raise ValueError(
            f"resize_to: expected None or a (width, height) pair of positive ints, "
            f"got resize_to={resize_to!r}"
        )


def _to_frame(frame: Any, resize_to: tuple[int, int] | None) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[-1] not in (3, 4):
        raise ValueError(
            f"env.render(): expected an RGB(A) frame of shape [height, width, 3 or 4], "
            f"got shape {frame.shape}"
        )
    if resize_to is None:
        return frame.astype(np.uint8, copy=False)
    from PIL import Image  # lazy: only GIF recording needs Pillow

    image = Image.fromarray(frame.astype(np.uint8, copy=False))
    width, height = resize_to  # a pair, as _check_resize_to has checked
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR))


def _write_gif_atomically(frames: np.ndarray, path: Path, duration: float) -> None:
    import imageio.v3 as iio  # lazy: only GIF recording needs imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    # the temporary file lives next to the target so os.replace is an atomic rename
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".gif")
    os.close(fd)
    try:
        iio.imwrite(tmp, frames, extension=".gif", plugin="pillow", duration=duration, loop=0)
        give_default_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate_gif(
    env: gym.Env,
    policy: Policy,
    filepath: str | os.PathLike[str],
    resize_to: tuple[int, int] | None = None,
    duration: float = 50,
    max_steps: int | None = None,
) -> str:
    """Record one episode as an animated GIF that loops forever.

    A frame is taken after the reset and after every step. The file is first written to a
    temporary file in the target directory and then renamed, so a failure never leaves a
    half-written GIF at ``filepath``.

    Parameters
    ----------
    env : gymnasium.Env
        The environment; it must render RGB arrays, i.e. be made with
        ``gymnasium.make(id, render_mode='rgb_array')``.
    policy : callable
        Maps an observation ``s`` to an action, ``a = policy(s)``.
    filepath : str or os.PathLike
        Where to write the GIF; missing parent directories are created.
    resize_to : (int, int), optional
        Resize every frame to ``(width, height)`` pixels. Default: keep the rendered size.
    duration : float, optional
        Time between frames in milliseconds, default 50.
    max_steps : int, optional
        Stop after this many steps even if the episode has not ended. Default: no limit.

    Returns
    -------
    path : str
        The path of the written GIF (``filepath`` with ``~`` expanded).
    """
    render_mode = get_env_attr(env, "render_mode", None)
    if render_mode != "rgb_array":
        raise ValueError(
            f"env: expected render_mode='rgb_array', got render_mode={render_mode!r}; "
            "create the env with gymnasium.make(id, render_mode='rgb_array')"
        )
    _check_resize_to(resize_to)
    _check_max_steps(max_steps)
    if not duration > 0:
        raise ValueError(f"duration: expected milliseconds > 0, got duration={duration!r}")
    frames = [_to_frame(env.render(), resize_to) for _ in _play(env, policy, max_steps)]
    path = Path(filepath).expanduser()
    _write_gif_atomically(np.stack(frames), path, duration)
    return str(path)
