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

#: ``play RUN_DIR``'s default episode length.
_MAX_STEPS = 1000


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
    """Add ``play RUN_DIR [--gif PATH] [--render] [--stochastic] [--max-steps N]`` and
    ``play GAME RUN_DIR [--first | --second] [--simulations N]``."""
    from plugrl.cli.board_games import GAMES, add_game_arguments

    parser = subparsers.add_parser(
        "play", help="watch one episode of a trained agent, or play a game against it",
        description="Run one episode: record a GIF or render it (a self-play game for a board "
        f"game's agent). With GAME ({', '.join(GAMES)}): play the agent in the terminal.")
    parser.add_argument("game", nargs="?", choices=GAMES, metavar="GAME",
                        help=f"play against the agent: {', '.join(GAMES)} (for an AlphaZero run)")
    parser.add_argument("run_dir", type=pathlib.Path, metavar="RUN_DIR",
                        help="a run directory of 'plugrl train' (or an agent checkpoint directory)")
    episode = parser.add_argument_group("watching an episode (RUN_DIR alone)")
    episode.add_argument("--gif", type=pathlib.Path, metavar="PATH",
                         help="where to write the GIF (default: <run-dir>/play.gif)")
    episode.add_argument("--render", action="store_true", default=None,
                         help="show the episode in a window (render_mode='human') instead of a GIF")
    episode.add_argument("--stochastic", action="store_true", default=None,
                         help="sample actions instead of taking the most likely one")
    episode.add_argument("--max-steps", type=int, metavar="N",
                         help=f"stop the episode after N steps (default: {_MAX_STEPS})")
    add_game_arguments(parser)
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
    """Evaluate the run's agent and print the mean ± std of the return (of the outcome, for a
    board game's agent: +1 a win, 0 a draw, -1 a loss)."""
    from rich.text import Text

    from plugrl.cli.board_games import plays_board_games, vocabulary
    from plugrl.cli.monitor import evaluate_agent

    if args.episodes is not None and args.episodes < 1:
        raise UsageError(f"--episodes: expected an int >= 1, got {args.episodes}")
    with opened_run_agent(args.run_dir) as agent:
        words = vocabulary(agent)
        episodes = args.episodes or agent.config.eval_episodes
        if plays_board_games(agent) and episodes % 2:
            raise UsageError(f"--episodes: expected an even number of games (half of them with "
                             f"each colour), got {episodes}")
        with console.status(f"evaluating {agent.AGENT_TYPE} on {agent.env_id} ({episodes} {words.episodes})"):
            result = evaluate_agent(agent, episodes, deterministic=not args.stochastic)
    console.print(Text.assemble(
        f"{agent.AGENT_TYPE} on {agent.env_id} ({agent.num_steps:,} training steps): {words.eval_return} ",
        (f"{result['mean_return']:.2f} ± {result['std_return']:.2f}", "bold"),
        f" over {episodes} {words.episodes}"), soft_wrap=True)
    return EXIT_OK


def run_play(args: argparse.Namespace, console: Any) -> int:
    """Run one episode of the run's agent: render it on screen, or record a GIF; with a GAME,
    play the agent (:func:`plugrl.cli.board_games.run_play_game`)."""
    from plugrl.cli.artifacts import record_episode_gif
    from plugrl.cli.board_games import run_play_game

    _check_play_options(args)
    if args.game is not None:
        return run_play_game(args, console)
    args.max_steps = args.max_steps or _MAX_STEPS
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


def _check_play_options(args: argparse.Namespace) -> None:
    """Each form of ``play`` takes its own options; a game word without RUN_DIR is named."""
    from plugrl.cli.board_games import GAMES

    if args.game is None and str(args.run_dir) in GAMES and not args.run_dir.is_dir():
        raise UsageError(f"RUN_DIR: expected a run directory after '{args.run_dir}', got none")
    if args.game is not None:
        form, expected = f"play {args.game} RUN_DIR", "play RUN_DIR, without a game"
        misplaced = {"--gif": args.gif, "--render": args.render, "--stochastic": args.stochastic,
                     "--max-steps": args.max_steps}
    else:
        form, expected = "play RUN_DIR", f"play GAME RUN_DIR ({', '.join(GAMES)})"
        misplaced = {"--second" if args.second else "--first": args.second,
                     "--simulations": args.simulations}
    for option, value in misplaced.items():
        if value is not None:
            raise UsageError(f"{option}: expected with {expected}, got with {form}")
    if args.max_steps is not None and args.max_steps < 1:
        raise UsageError(f"--max-steps: expected an int >= 1, got {args.max_steps}")


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
    from rich import box
    from rich.table import Table

    from plugrl.agents.presets import list_presets, load_preset

    presets = {agent: env_ids for agent, env_ids in list_presets().items() if env_ids}  # DQL has none
    envs = sorted({env for env_ids in presets.values() for env in env_ids})
    # eight agents beside the longest id fit 80 columns only without lines between the columns
    table = Table(title="plugrl presets (plugrl train AGENT --env ID)", box=box.SIMPLE_HEAD,
                  collapse_padding=True, pad_edge=False,
                  caption="cells: budget in env steps (k: thousand, M: million); '-': no preset")
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
