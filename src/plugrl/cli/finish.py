"""The end of ``plugrl train``: save the agent, evaluate it and write the run's artefacts."""

from __future__ import annotations

import math
import time
from typing import Any

from plugrl.cli.board_games import Vocabulary, plays_board_games, vocabulary
from plugrl.cli.rundir import write_json

__all__ = ["finish_run"]


def finish_run(agent: Any, plan: Any, monitor: Any, run_info: dict[str, Any], train_time: float,
               interrupted: bool, gif: bool, console: Any) -> dict[str, str]:
    """Write ``agent/``, ``history.json``, ``learning_curve.png``, ``episode.gif`` and ``run.json``.

    After Ctrl-C the final evaluation and the GIF are skipped, so that the user gets their
    shell back quickly; the agent, history and curve are still saved.

    Parameters
    ----------
    agent : BaseAgent
        The trained agent.
    plan : TrainPlan
        What was run, with ``run_dir``.
    monitor : TrainingMonitor
        The training callback, with the evaluations made during training.
    run_info : dict
        ``run.json``'s contents so far; completed and rewritten here.
    train_time : float
        Seconds spent in ``fit``.
    interrupted : bool
        Whether training was stopped with Ctrl-C.
    gif : bool
        Whether to record ``episode.gif``.
    console : rich.console.Console
        For status messages.

    Returns
    -------
    dict[str, str]
        The rows of the summary table.
    """
    from plugrl.cli.artifacts import record_episode_gif

    run_dir = plan.run_dir
    with console.status("saving the agent"):
        agent.save(str(run_dir / "agent"))
        write_json(run_dir / "history.json", agent.history)
    final = None
    if not interrupted:
        with console.status(f"evaluating ({agent.config.eval_episodes} episodes)"):
            final = _final_evaluation(agent, monitor)
    _save_curve(agent, plan, monitor.evaluations)
    if gif and not interrupted:  # a board game's agent: a self-play game, its policy on both sides
        with console.status("recording episode.gif"):
            record_episode_gif(agent, run_dir / "episode.gif")
    run_info.update(_results(agent, final, monitor.evaluations, train_time, interrupted))
    write_json(run_dir / "run.json", run_info)
    return _summary(run_info, run_dir, vocabulary(agent))


def _save_curve(agent: Any, plan: Any, evaluations: list[dict[str, float]]) -> None:
    """The learning curve: returns, or for a board game's agent its scores and losses; SVPG's
    particles also get ``particles.png``."""
    from plugrl.cli.artifacts import save_learning_curve, save_particles_curve, save_self_play_curve

    title = f"{agent.AGENT_TYPE} on {plan.env_id} (seed {plan.seed})"
    path = plan.run_dir / "learning_curve.png"
    if plays_board_games(agent):
        save_self_play_curve(path, agent.history, evaluations, title, agent.config.eval_opponent)
    else:
        save_learning_curve(path, agent.history, evaluations, title)
    if getattr(agent.config, "num_particles", None):
        save_particles_curve(plan.run_dir / "particles.png", agent.history, agent.config.num_particles,
                             f"{title}: {agent.config.num_particles} particles")


def _final_evaluation(agent: Any, monitor: Any) -> dict[str, float]:
    """Evaluate the final agent, unless a periodic evaluation just did."""
    last = monitor.evaluations[-1] if monitor.evaluations else None
    if last is not None and int(last["steps"]) == agent.num_steps:
        return last
    return monitor.evaluate(agent)


def _results(agent: Any, final: dict[str, float] | None, evaluations: list[dict[str, float]],
             train_time: float, interrupted: bool) -> dict[str, Any]:
    last_record = agent.history[-1] if agent.history else {}
    opponent = {"eval_opponent": agent.config.eval_opponent} if plays_board_games(agent) else {}
    return {
        "status": "interrupted" if interrupted else "finished",
        "steps": int(agent.num_steps),
        "episodes": int(last_record.get("episodes", 0)),
        "train_mean_return": last_record.get("mean_return", math.nan),
        "eval_episodes": int(final["episodes"]) if final else 0,
        "eval_mean_return": final["mean_return"] if final else None,
        "eval_std_return": final["std_return"] if final else None,
        **opponent,
        "evaluations": evaluations,
        "wall_time_s": train_time,
        "steps_per_second": agent.num_steps / train_time if train_time > 0 else math.nan,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _summary(info: dict[str, Any], run_dir: Any, words: Vocabulary) -> dict[str, str]:
    rows = {"agent": info["agent"], "env": info["env"], "seed": str(info["seed"]),
            "preset": info["preset"], "status": info["status"], "steps": f"{info['steps']:,}",
            words.episodes: f"{info['episodes']:,}",
            words.train_return: _number(info["train_mean_return"]),
            "wall time": f"{info['wall_time_s']:.1f} s",
            "steps/s": f"{info['steps_per_second']:,.0f}"}
    if info["eval_mean_return"] is not None:
        rows[f"eval {words.eval_return}"] = (f"{info['eval_mean_return']:.2f} ± "
                                             f"{info['eval_std_return']:.2f} "
                                             f"({info['eval_episodes']} {words.episodes})")
    rows["run directory"] = str(run_dir)
    return rows


def _number(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) and math.isfinite(value) else "n/a"
