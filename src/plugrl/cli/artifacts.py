"""What a training run leaves behind: TensorBoard scalars, the learning curve and a GIF.

matplotlib, tensorboardX, imageio and Pillow are imported inside the functions that use them.
"""

from __future__ import annotations

import math
import os
import pathlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from plugrl.cli.rundir import write_atomically

__all__ = ["TensorBoardLogger", "has_display", "record_episode_gif", "save_learning_curve",
           "save_particles_curve", "save_self_play_curve"]

#: The losses a board game's agent records, drawn under its scores.
_SELF_PLAY_LOSSES = {"AlphaZero/policy_loss": "policy loss (cross-entropy to the visit counts)",
                     "AlphaZero/value_loss": "value loss (squared error to the outcome)"}


class TensorBoardLogger:
    """Write every finite numeric metric of a record as a scalar at global step ``steps``.

    Parameters
    ----------
    logdir : pathlib.Path
        The directory of the event files (``<run-dir>/tensorboard``).
    """

    def __init__(self, logdir: pathlib.Path) -> None:
        from tensorboardX import (
            SummaryWriter,  # lazy: only training runs write event files
        )

        self.writer = SummaryWriter(str(logdir))

    def log(self, record: Mapping[str, Any], steps: int, prefix: str = "") -> None:
        """Log ``record``'s metrics (not its ``steps`` counter) under ``prefix + name``.

        Non-finite values (the NaN mean return before the first episode ends) are skipped:
        TensorBoard would draw them as gaps at best.
        """
        for name, value in record.items():
            if name == "steps" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                self.writer.add_scalar(prefix + name, float(value), global_step=int(steps))

    def close(self) -> None:
        """Flush the event files and close the writer."""
        self.writer.close()


def save_learning_curve(path: pathlib.Path, history: Sequence[Mapping[str, Any]],
                        evaluations: Sequence[Mapping[str, Any]] = (), title: str = "") -> pathlib.Path:
    """Plot the mean training return (and evaluation returns, if any) against env steps.

    Parameters
    ----------
    path : pathlib.Path
        The PNG to write (atomically).
    history : sequence of dict
        The training records, with ``"steps"`` and ``"mean_return"`` (NaN before the first
        finished episode; such points are left out).
    evaluations : sequence of dict, optional
        Evaluation results with ``"steps"``, ``"mean_return"`` and ``"std_return"``.
    title : str, optional
        The figure's title.
    """
    figure, (axes,) = _figure(1)
    points = [(r["steps"], r["mean_return"]) for r in history if _finite(r.get("mean_return"))]
    if points:
        axes.plot([x for x, _ in points], [y for _, y in points], color="tab:blue",
                  label="training (mean of last 10 episodes)")
    if evaluations:
        axes.errorbar([e["steps"] for e in evaluations], [e["mean_return"] for e in evaluations],
                      yerr=[e.get("std_return", 0.0) for e in evaluations], fmt="o",
                      color="tab:orange", capsize=3, label="evaluation (mean ± std)")
    axes.set_ylabel("return")
    axes.set_title(title)
    if points or evaluations:
        axes.legend(loc="best")
    return _save_figure(figure, path)


def save_self_play_curve(path: pathlib.Path, history: Sequence[Mapping[str, Any]],
                         evaluations: Sequence[Mapping[str, Any]] = (), title: str = "",
                         opponent: str = "random") -> pathlib.Path:
    r"""Plot a board game's agent (AlphaZero) against moves of self-play: its scores above, its
    losses below.

    The first player's outcome in self-play, which :func:`save_learning_curve` would draw, says
    little about learning; the scores do. Both are "wins plus half the draws, over the games",
    :math:`(1 + \bar z) / 2` for the mean outcome :math:`\bar z`: the arena's, of the trained
    network against the self-playing one, and the evaluations' against ``opponent``.

    Parameters
    ----------
    path : pathlib.Path
        The PNG to write (atomically).
    history : sequence of dict
        The training records, with ``"steps"``, the losses and (after an arena match)
        ``"arena_score"``.
    evaluations : sequence of dict, optional
        Evaluation results with ``"steps"`` and ``"mean_return"``, the mean outcome.
    title : str, optional
        The figure's title.
    opponent : str, optional
        The evaluations' opponent, for the legend.
    """
    figure, (scores, losses) = _figure(2, "moves of self-play")
    arena = [(r["steps"], r["arena_score"]) for r in history if _finite(r.get("arena_score"))]
    if arena:
        scores.plot(*zip(*arena, strict=True), color="tab:blue", marker=".",
                    label="arena: trained vs self-playing network")
    if evaluations:
        scores.plot([e["steps"] for e in evaluations], [(1 + e["mean_return"]) / 2 for e in evaluations],
                    "o-", color="tab:orange", label=f"evaluation against {opponent}")
    scores.set_ylim(-0.05, 1.05)
    scores.set_ylabel("score: (wins + draws / 2) / games")
    scores.set_title(title)
    for key, label in _SELF_PLAY_LOSSES.items():
        points = [(r["steps"], r[key]) for r in history if _finite(r.get(key))]
        if points:
            losses.plot(*zip(*points, strict=True), label=label)
    losses.set_ylabel("loss")
    for axes in (scores, losses):
        if axes.get_legend_handles_labels()[0]:
            axes.legend(loc="best", fontsize="small")
    return _save_figure(figure, path)


def save_particles_curve(path: pathlib.Path, history: Sequence[Mapping[str, Any]],
                         num_particles: int, title: str = "") -> pathlib.Path:
    """Plot SVPG's particles against env steps (of all particles): each particle's recent
    training return, its mean distance to the others in policy-weight space, and the kernel's
    bandwidth (median heuristic).

    Parameters
    ----------
    path : pathlib.Path
        The PNG to write (atomically).
    history : sequence of dict
        The training records, with ``"SVPG/return_<i>"``, ``"SVPG/distance_<i>"`` and
        ``"SVPG/bandwidth"``.
    num_particles : int
        The particles, ``i`` from 0.
    title : str, optional
        The figure's title.
    """
    figure, (returns, distances, bandwidth) = _figure(3)
    for i in range(num_particles):
        for axes, key in ((returns, f"SVPG/return_{i}"), (distances, f"SVPG/distance_{i}")):
            points = [(r["steps"], r[key]) for r in history if _finite(r.get(key))]
            if points:
                label = f"particle {i}" if axes is returns else None
                axes.plot(*zip(*points, strict=True), lw=1, label=label)
    points = [(r["steps"], r["SVPG/bandwidth"]) for r in history if _finite(r.get("SVPG/bandwidth"))]
    if points:
        bandwidth.plot(*zip(*points, strict=True), color="black")
    returns.set_ylabel("training return")
    returns.set_title(title)
    distances.set_ylabel("mean distance to the others")
    bandwidth.set_ylabel("kernel bandwidth h")
    if returns.get_legend_handles_labels()[0]:
        returns.legend(loc="best", fontsize="x-small", ncol=2)
    return _save_figure(figure, path)


def _figure(rows: int, steps: str = "environment steps") -> tuple[Any, list[Any]]:
    """A figure of ``rows`` panels above each other, sharing the axis of ``steps``."""
    # Figure + FigureCanvasAgg instead of pyplot: no global figure state, no GUI backend
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.2 if rows == 1 else 3.2 * rows), dpi=100)
    FigureCanvasAgg(figure)
    panels = list(figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0])
    for axes in panels:
        axes.grid(alpha=0.3)
    panels[-1].set_xlabel(steps)
    return figure, panels


def _save_figure(figure: Any, path: pathlib.Path) -> pathlib.Path:
    figure.tight_layout()
    return write_atomically(path, lambda tmp: figure.savefig(tmp, format="png"))


def record_episode_gif(agent: Any, path: pathlib.Path, deterministic: bool = True,
                       max_steps: int = 1000, max_width: int = 400) -> pathlib.Path:
    """Record one episode of ``agent`` as a GIF with :func:`plugrl.utils.generate_gif`.

    Parameters
    ----------
    agent : BaseAgent
        A trained agent with a Gymnasium ``env_id``.
    path : pathlib.Path
        The GIF to write (atomically).
    deterministic : bool, optional
        Act greedily (the default) or sample actions.
    max_steps : int, optional
        Stop the episode after this many steps.
    max_width : int, optional
        Frames wider than this are scaled down, keeping the aspect ratio: a CartPole episode
        of 500 full-size frames would take ~360 MB before encoding.
    """
    import numpy as np

    from plugrl.samplers import make_evaluation_env
    from plugrl.utils import generate_gif

    if not has_display():
        # rgb_array needs no window, but pygame.init() still probes for one and prints
        # "XDG_RUNTIME_DIR is invalid" on a headless machine; SDL's dummy driver is silent
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    env = make_evaluation_env(agent.env_id, render_mode="rgb_array")
    try:
        env.reset(seed=agent.seed)
        frame = env.render()
        if not isinstance(frame, np.ndarray):
            raise TypeError(f"{agent.env_id}: expected render_mode='rgb_array' to render an image "
                            f"array, got {type(frame).__name__}")
        height, width = frame.shape[:2]
        scale = min(1.0, max_width / width)
        resize_to = None if scale == 1.0 else (int(width * scale), int(height * scale))
        policy = agent.policy.greedy if deterministic else agent.policy
        generate_gif(env, policy, path, resize_to=resize_to, max_steps=max_steps,
                     duration=_frame_duration(env))
    finally:
        env.close()
    return path


def _frame_duration(env: Any) -> float:
    """Milliseconds per frame: 50, or slower for an env that renders fewer than 20 frames a
    second (a board game's 2, one move per frame, would flash past at 50)."""
    fps = env.metadata.get("render_fps") or 20
    return max(50.0, 1000.0 / fps)


def has_display() -> bool:
    """False on a Linux machine without X11 or Wayland, where pygame cannot open a window."""
    if not sys.platform.startswith("linux") or os.environ.get("SDL_VIDEODRIVER"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
