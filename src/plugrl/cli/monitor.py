"""The ``fit`` callback of ``plugrl train``: progress bar, TensorBoard and periodic evaluation."""

from __future__ import annotations

import math
import time
from typing import Any

from plugrl.cli.artifacts import TensorBoardLogger

__all__ = ["TrainingMonitor", "evaluate_agent", "make_progress"]


def evaluate_agent(agent: Any, n_episodes: int, deterministic: bool = True) -> dict[str, float]:
    """Mean and standard deviation of the return over ``n_episodes`` evaluation episodes."""
    import numpy as np

    mean, returns = agent.evaluate(n_episodes, deterministic=deterministic,
                                   return_episode_rewards=True)
    return {"steps": float(agent.num_steps), "mean_return": float(mean),
            "std_return": float(np.std(returns)), "episodes": float(len(returns))}


class TrainingMonitor:
    """Called by ``agent.fit`` after every rollout update.

    It moves a rich progress bar (steps, steps/s, mean training return), writes each record's
    metrics to TensorBoard at global step ``record["steps"]``, and evaluates the agent every
    ``eval_interval`` env steps (``eval/mean_return`` and ``eval/std_return``).

    Parameters
    ----------
    progress : rich.progress.Progress
        A started progress display.
    total_steps : int
        The training budget, the bar's total.
    tensorboard : TensorBoardLogger, optional
        Where to write the metrics.
    eval_interval : int, optional
        Evaluate every so many env steps; None: never during training.
    eval_episodes : int, optional
        Episodes per evaluation.
    return_label : str, optional
        What the bar calls the history's ``mean_return`` (AlphaZero's is a self-play outcome).

    Attributes
    ----------
    evaluations : list of dict
        The evaluation results, with ``"steps"``, ``"mean_return"`` and ``"std_return"``.
    """

    def __init__(self, progress: Any, total_steps: int, tensorboard: TensorBoardLogger | None = None,
                 eval_interval: int | None = None, eval_episodes: int = 10,
                 return_label: str = "mean return") -> None:
        self.progress = progress
        self.task = progress.add_task("training", total=total_steps, mean_return=math.nan,
                                      steps_per_second=0.0, return_label=return_label)
        self.total_steps = total_steps
        self.tensorboard = tensorboard
        self.eval_interval = eval_interval
        self.eval_episodes = eval_episodes
        self.evaluations: list[dict[str, float]] = []
        self._next_eval = eval_interval or 0
        self._start_time = time.perf_counter()

    def __call__(self, agent: Any, record: dict[str, float]) -> None:
        steps = int(record["steps"])
        elapsed = time.perf_counter() - self._start_time
        rate = steps / elapsed if elapsed > 0 else 0.0
        if self.tensorboard is not None:
            self.tensorboard.log({**record, "time/steps_per_second": rate}, steps)
        if self.eval_interval and steps >= self._next_eval:
            self.evaluate(agent)
            self._next_eval = (steps // self.eval_interval + 1) * self.eval_interval
        # a rollout can end past the budget (fit stops after the update that reaches it)
        self.total_steps = max(self.total_steps, steps)
        self.progress.update(self.task, completed=steps, total=self.total_steps,
                             mean_return=record["mean_return"], steps_per_second=rate)

    def evaluate(self, agent: Any) -> dict[str, float]:
        """Evaluate now; record the result and write it to TensorBoard."""
        result = evaluate_agent(agent, self.eval_episodes)
        self.evaluations.append(result)
        if self.tensorboard is not None:
            self.tensorboard.log(result, int(result["steps"]), prefix="eval/")
        return result


def make_progress(console: Any) -> Any:
    """A rich progress display: bar, steps done/total, steps/s, mean return, elapsed, remaining."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[steps_per_second]:,.0f} steps/s"),
        TextColumn("{task.fields[return_label]} {task.fields[mean_return]:.1f}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console)
