"""``plugrl eval``, ``plugrl play`` and ``plugrl presets``."""

from __future__ import annotations

import argparse
import contextlib
import pathlib
from collections.abc import Iterator
from typing import Any

from plugrl.cli.console import EXIT_OK, UsageError

__all__ = ["add_eval_parser", "add_play_parser", "add_presets_parser", "load_run_agent",
           "opened_run_agent"]


def add_eval_parser(subparsers: Any) -> None:
    """Add ``eval RUN_DIR [--episodes N] [--stochastic]``."""
    parser = subparsers.add_parser("eval", help="evaluate a trained agent",
                                   description="Evaluate the agent of a run directory.")
    parser.add_argument("run_dir", type=pathlib.Path, metavar="RUN_DIR",
                        help="a run directory of 'plugrl train' (or an agent checkpoint directory)")
    parser.add_argument("--episodes", type=int, metavar="N",
                        help="episodes to run (default: the agent's eval_episodes)")
    parser.add_argument("--stochastic", action="store_true",
                        help="sample actions instead of taking the most likely one")
    parser.set_defaults(handler=run_eval)


def add_play_parser(subparsers: Any) -> None:
    """Add ``play RUN_DIR [--gif PATH] [--render] [--stochastic] [--max-steps N]``."""
    parser = subparsers.add_parser("play", help="watch one episode of a trained agent",
                                   description="Run one episode: record a GIF or render it.")
    parser.add_argument("run_dir", type=pathlib.Path, metavar="RUN_DIR",
                        help="a run directory of 'plugrl train' (or an agent checkpoint directory)")
    parser.add_argument("--gif", type=pathlib.Path, metavar="PATH",
                        help="where to write the GIF (default: <run-dir>/play.gif)")
    parser.add_argument("--render", action="store_true",
                        help="show the episode in a window (render_mode='human') instead of a GIF")
    parser.add_argument("--stochastic", action="store_true",
                        help="sample actions instead of taking the most likely one")
    parser.add_argument("--max-steps", type=int, default=1000, metavar="N",
                        help="stop the episode after N steps (default: 1000)")
    parser.set_defaults(handler=run_play)


def add_presets_parser(subparsers: Any) -> None:
    """Add ``presets``: a table of the agents' presets."""
    parser = subparsers.add_parser("presets", help="list the hyperparameter presets",
                                   description="List the presets: agents by environments.")
    parser.set_defaults(handler=run_presets)


def load_run_agent(run_dir: pathlib.Path) -> Any:
    """The agent saved in ``run_dir/agent`` (or in ``run_dir`` itself, if it is a checkpoint).

    Raises
    ------
    UsageError
        If there is no readable agent there.
    """
    from plugrl.agents.persistence import load_agent
    from plugrl.utils.checkpoints import CheckpointError

    path = run_dir / "agent" if (run_dir / "agent").is_dir() else run_dir
    if not path.is_dir():
        raise UsageError(f"RUN_DIR: expected a run directory of 'plugrl train', got {run_dir} "
                         "(not a directory)")
    try:
        return load_agent(None, path)  # the checkpoint says which agent to build
    except (CheckpointError, OSError, ValueError) as error:
        raise UsageError(f"RUN_DIR: expected a saved agent in {path}: {error}") from error


@contextlib.contextmanager
def opened_run_agent(run_dir: pathlib.Path) -> Iterator[Any]:
    """:func:`load_run_agent`, closing the agent's training environments afterwards."""
    agent = load_run_agent(run_dir)
    try:
        yield agent
    finally:
        agent.close()


def run_eval(args: argparse.Namespace, console: Any) -> int:
    """Evaluate the run's agent and print the mean ± std of the return."""
    from rich.text import Text

    from plugrl.cli.monitor import evaluate_agent

    if args.episodes is not None and args.episodes < 1:
        raise UsageError(f"--episodes: expected an int >= 1, got {args.episodes}")
    with opened_run_agent(args.run_dir) as agent:
        episodes = args.episodes or agent.config.eval_episodes
        with console.status(f"evaluating {agent.AGENT_TYPE} on {agent.env_id} ({episodes} episodes)"):
            result = evaluate_agent(agent, episodes, deterministic=not args.stochastic)
    console.print(Text.assemble(
        f"{agent.AGENT_TYPE} on {agent.env_id} ({agent.num_steps:,} training steps): return ",
        (f"{result['mean_return']:.2f} ± {result['std_return']:.2f}", "bold"),
        f" over {episodes} episodes"), soft_wrap=True)
    return EXIT_OK


def run_play(args: argparse.Namespace, console: Any) -> int:
    """Run one episode of the run's agent: render it on screen, or record a GIF."""
    from plugrl.cli.artifacts import record_episode_gif

    if args.max_steps < 1:
        raise UsageError(f"--max-steps: expected an int >= 1, got {args.max_steps}")
    path = args.gif or args.run_dir / "play.gif"
    with opened_run_agent(args.run_dir) as agent:
        if args.render:
            G = _render(agent, not args.stochastic, args.max_steps)
            console.print(f"{agent.AGENT_TYPE} on {agent.env_id}: return {G:.2f}", soft_wrap=True)
            return EXIT_OK
        with console.status(f"recording {path}"):
            record_episode_gif(agent, path, deterministic=not args.stochastic,
                               max_steps=args.max_steps)
    console.print(f"wrote {path}", soft_wrap=True, markup=False)
    return EXIT_OK


def _render(agent: Any, deterministic: bool, max_steps: int) -> float:
    """Show one episode in a window; the return."""
    from plugrl.cli.artifacts import has_display
    from plugrl.samplers import make_evaluation_env
    from plugrl.utils import render_episode

    if not has_display():
        raise UsageError("--render: expected a display, but neither DISPLAY nor WAYLAND_DISPLAY "
                         "is set; record a GIF instead (--gif PATH)")
    env = make_evaluation_env(agent.env_id, render_mode="human")
    try:
        env.reset(seed=agent.seed)
        policy = agent.policy.greedy if deterministic else agent.policy
        return render_episode(env, policy, max_steps=max_steps)
    finally:
        env.close()


def _compact(steps: int) -> str:
    """``10000000`` as ``"10M"``, ``120000`` as ``"120k"``, ``1500`` as ``"1,500"``."""
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if steps >= size and steps % size == 0:
            return f"{steps // size:,}{unit}"
    return f"{steps:,}"


def run_presets(args: argparse.Namespace, console: Any) -> int:
    """Print a table: one row per env id, one column per agent with presets, the preset's budget
    in cells."""
    from rich.table import Table

    from plugrl.agents.presets import list_presets, load_preset

    presets = {agent: env_ids for agent, env_ids in list_presets().items() if env_ids}  # DQL has none
    envs = sorted({env for env_ids in presets.values() for env in env_ids})
    table = Table(title="plugrl presets (plugrl train AGENT --env ID)",
                  caption="cells: training budget in env steps (k: thousand, M: million); '-': no preset")
    table.add_column("env id", style="bold", no_wrap=True)  # ids must stay whole on 80 columns
    for agent in presets:
        table.add_column(agent, justify="right")
    for env in envs:
        cells = []
        for agent, env_ids in presets.items():
            steps = load_preset(agent, env)[1] if env in env_ids else None
            cells.append("-" if env not in env_ids else _compact(steps) if steps else "yes")
        table.add_row(env, *cells)
    console.print(table)
    return EXIT_OK
