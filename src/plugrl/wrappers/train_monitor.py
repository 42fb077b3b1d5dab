"""Wrapper that keeps training counters, logs one line per episode and writes TensorBoard."""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

__all__ = ["TrainMonitor"]


class TrainMonitor(gym.Wrapper):
    r"""Monitor training: step/episode counters, returns, timing, losses and TensorBoard.

    The monitor only observes: ``reset`` and ``step`` return exactly what the wrapped
    environment returns, and odd rewards (NaN, inf) are recorded as they are, never rejected.

    When an episode ends (``terminated or truncated``) it logs one line on the logger
    ``'plugrl.TrainMonitor'`` at level INFO, e.g.
    ``ep: 12, T: 1,234, G: 23, avg_G: 18.2, t: 23, dt: 0.123ms, loss: 0.0412``, where each
    loss is the mean of the values passed to :meth:`record_losses` since the previous episode
    ended. Enable the output with :func:`plugrl.utils.enable_logging`.

    Parameters
    ----------
    env : gymnasium.Env
        The environment to monitor.
    tensorboard_dir : str or os.PathLike, optional
        If given, write TensorBoard event files there (with :mod:`tensorboardX`): at every
        episode end, at global step ``T``, the scalars ``TrainMonitor/G``,
        ``TrainMonitor/avg_G``, ``TrainMonitor/t``, ``TrainMonitor/dt_ms`` and one scalar per
        recorded loss, under the loss's own name.
    avg_window : int, optional
        Number of most recent finished episodes that ``avg_G`` averages over, default 100.

    Attributes
    ----------
    T : int
        Global step counter; only :meth:`reset_global` resets it.
    ep : int
        Global episode counter: episodes started, so 1 during the first episode.
    t : int
        Step counter within the current episode.
    G : float
        Undiscounted return of the current episode so far, :math:`G = \sum_{t' \le t} r_{t'}`.
    avg_G : float
        Mean return of the last ``avg_window`` finished episodes; NaN before the first episode
        has finished (so that, e.g., ``avg_G > threshold`` is false until there is data).
    dt_ms : float
        Mean wall time per step in the current episode in milliseconds, measured from the
        reset (so it includes the agent's time between steps); NaN before the first step.
    tensorboard : tensorboardX.SummaryWriter or None
        The event-file writer, if ``tensorboard_dir`` was given.
    """

    def __init__(
        self,
        env: gym.Env,
        tensorboard_dir: str | os.PathLike[str] | None = None,
        avg_window: int = 100,
    ) -> None:
        super().__init__(env)
        if isinstance(avg_window, bool) or not isinstance(avg_window, int) or avg_window < 1:
            raise ValueError(f"avg_window: expected an int >= 1, got avg_window={avg_window!r}")
        self.logger = logging.getLogger("plugrl.TrainMonitor")
        self.tensorboard: Any = None
        if tensorboard_dir is not None:
            from tensorboardX import SummaryWriter  # lazy: only needed when asked for

            self.tensorboard = SummaryWriter(os.fspath(tensorboard_dir))
        self._returns: deque[float] = deque(maxlen=avg_window)
        self.reset_global()

    def reset_global(self) -> None:
        """Reset all counters, the return history and the recorded losses to their initial state."""
        self.T = 0
        self.ep = 0
        self.t = 0
        self.G = 0.0
        self.avg_G = float("nan")
        self.dt_ms = float("nan")
        self._returns.clear()
        self._loss_sums: dict[str, float] = {}
        self._loss_counts: dict[str, int] = {}
        self._ep_start = time.perf_counter()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the environment and start a new episode (``ep += 1``, ``t = 0``, ``G = 0``).

        Parameters
        ----------
        seed : int, optional
            Passed on to the wrapped environment's ``reset``.
        options : dict, optional
            Passed on to the wrapped environment's ``reset``.

        Returns
        -------
        observation, info : tuple
            Exactly what the wrapped environment returned.
        """
        result = self.env.reset(seed=seed, options=options)
        self.ep += 1
        self.t = 0
        self.G = 0.0
        self.dt_ms = float("nan")
        self._ep_start = time.perf_counter()
        return result

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the environment, update the counters and report if the episode ended.

        Parameters
        ----------
        action : Any
            An element of the action space.

        Returns
        -------
        observation, reward, terminated, truncated, info : tuple
            Exactly what the wrapped environment returned.
        """
        result = self.env.step(action)
        _, reward, terminated, truncated, _ = result
        self.T += 1
        self.t += 1
        self.G += float(reward)
        self.dt_ms = 1000.0 * (time.perf_counter() - self._ep_start) / self.t
        if terminated or truncated:
            self._end_episode()
        return result

    def record_losses(self, losses: Mapping[str, SupportsFloat]) -> None:
        """Record loss values; the episode's log line and TensorBoard get their means.

        Values recorded after an episode ended (e.g. by an update that follows the last step)
        count towards the next episode's report.

        Parameters
        ----------
        losses : Mapping[str, float]
            Loss name to scalar value (anything :class:`float` accepts, e.g. a 0-d array).
        """
        if not isinstance(losses, Mapping):
            raise TypeError(f"losses: expected a Mapping[str, float], got {type(losses).__name__}")
        for name, value in losses.items():
            if not isinstance(name, str):
                raise TypeError(f"losses: expected str keys, got key {name!r}")
            self._loss_sums[name] = self._loss_sums.get(name, 0.0) + float(value)
            self._loss_counts[name] = self._loss_counts.get(name, 0) + 1

    def close(self) -> None:
        """Close the TensorBoard writer (if any) and the wrapped environment."""
        if self.tensorboard is not None:
            self.tensorboard.close()
            self.tensorboard = None
        super().close()

    def _end_episode(self) -> None:
        self._returns.append(self.G)
        self.avg_G = float(np.mean(self._returns))
        losses = {k: self._loss_sums[k] / self._loss_counts[k] for k in self._loss_sums}
        self._loss_sums.clear()
        self._loss_counts.clear()
        self.logger.info(self._format_line(losses))
        if self.tensorboard is not None:
            self._write_tensorboard(losses)

    def _format_line(self, losses: dict[str, float]) -> str:
        parts = [
            f"ep: {self.ep:,d}",
            f"T: {self.T:,d}",
            f"G: {self.G:,.6g}",
            f"avg_G: {self.avg_G:,.6g}",
            f"t: {self.t:,d}",
            f"dt: {self.dt_ms:.3f}ms",
        ]
        parts += [f"{name}: {value:.4g}" for name, value in losses.items()]
        return ", ".join(parts)

    def _write_tensorboard(self, losses: dict[str, float]) -> None:
        scalars = {
            "TrainMonitor/G": self.G,
            "TrainMonitor/avg_G": self.avg_G,
            "TrainMonitor/t": self.t,
            "TrainMonitor/dt_ms": self.dt_ms,
            **losses,
        }
        for tag, value in scalars.items():
            self.tensorboard.add_scalar(tag, value, global_step=self.T)
        # flush per episode so TensorBoard (and readers in tests) see data while training runs
        self.tensorboard.flush()
