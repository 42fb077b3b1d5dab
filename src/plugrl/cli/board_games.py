"""Agents of two-player board games (AlphaZero) in the CLI: their words, and a game against a
person in the terminal (``plugrl play connect-four RUN_DIR``).

Such an agent is scored by game outcomes (+1 a win, 0 a draw, -1 a loss) against an opponent,
not by returns of episodes: its history's ``mean_return`` is the first player's mean outcome in
self-play, and ``evaluate`` plays ``config.eval_opponent``. ``train`` and ``eval`` write the
same numbers for it as for any agent, under the words of :func:`vocabulary`.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, NamedTuple

from plugrl.cli.console import EXIT_INTERRUPTED, EXIT_OK, UsageError

__all__ = ["GAMES", "Vocabulary", "add_game_arguments", "plays_board_games", "run_play_game",
           "vocabulary"]

#: The games a person can play against a run's agent: ``plugrl play GAME RUN_DIR``.
GAMES = ("connect-four",)

#: The first player's token and the second's, as ``ConnectFourEnv.render()`` draws them.
_TOKENS = ("\u25cf", "\u25cb")


class Vocabulary(NamedTuple):
    """How the CLI names an agent's numbers."""

    train_return: str
    """The history's ``mean_return`` (the mean of the last 10 episodes)."""
    eval_return: str
    """``evaluate``'s mean (after "eval " in ``train``'s summary)."""
    episodes: str
    """What ``evaluate`` counts."""


def plays_board_games(agent: Any) -> bool:
    """Whether ``agent`` plays a two-player board game (and is scored by its outcomes)."""
    from plugrl.agents import AlphaZero

    return isinstance(agent, AlphaZero)


def vocabulary(agent: Any) -> Vocabulary:
    """The words for ``agent``'s numbers: returns of episodes, or outcomes of games."""
    if plays_board_games(agent):
        return Vocabulary("self-play: first player's outcome (last 10)",
                          f"mean outcome against {agent.config.eval_opponent}", "games")
    return Vocabulary("train mean return (last 10)", "return", "episodes")


def add_game_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--first | --second`` and ``--simulations N`` (for ``play GAME RUN_DIR``)."""
    group = parser.add_argument_group(f"playing a game ({', '.join(GAMES)} RUN_DIR)")
    sides = group.add_mutually_exclusive_group()
    sides.add_argument("--first", dest="second", action="store_false", default=None,
                       help="you move first (the default)")
    sides.add_argument("--second", dest="second", action="store_true", help="the agent moves first")
    group.add_argument("--simulations", type=int, metavar="N",
                       help="the agent's search simulations per move (default: its arena_simulations)")


def run_play_game(args: argparse.Namespace, console: Any) -> int:
    """``plugrl play connect-four RUN_DIR``: a person plays the run's agent in the terminal.

    Returns
    -------
    int
        0 when the game ends with a result; 130 when the person leaves it (Ctrl-D or Ctrl-C).

    Raises
    ------
    UsageError
        If ``--simulations`` is not positive, or RUN_DIR's agent is not AlphaZero on Connect Four.
    """
    from plugrl.cli.commands import opened_run_agent
    from plugrl.policies import UserInputPolicy

    if args.simulations is not None and args.simulations < 1:
        raise UsageError(f"--simulations: expected an int >= 1, got {args.simulations}")
    with opened_run_agent(args.run_dir) as agent:
        env = _game_env(agent, args.run_dir)
        if args.simulations is not None:  # the search reads it on every move
            agent.config = dataclasses.replace(agent.config, arena_simulations=args.simulations)
        person_colour = 1 if args.second else 0
        _say(console, f"You play {_TOKENS[person_colour]} ({'first' if person_colour == 0 else 'second'}) "
             f"against {agent.AGENT_TYPE} ({agent.num_steps:,} moves of self-play, "
             f"{agent.config.arena_simulations} search simulations per move). Type a column "
             "and Enter; Ctrl-D leaves the game.")
        person = UserInputPolicy(env, render_before_prompt=True, prompt="Your move: a column")
        try:
            outcome = play_game(agent, env, person, person_colour, console)
        except (EOFError, KeyboardInterrupt) as stop:
            reason = "the input ended" if isinstance(stop, EOFError) else "Ctrl-C"
            _say(console, f"\nGame left unfinished ({reason}).")
            return EXIT_INTERRUPTED
        finally:
            env.close()
    _say(console, "Result: " + {1: "you win", 0: "draw", -1: "the agent wins"}[outcome])
    return EXIT_OK


def play_game(agent: Any, env: Any, person: Any, person_colour: int, console: Any) -> int:
    """One game of ``person`` (a policy) against ``agent``'s searched moves on ``env``.

    Parameters
    ----------
    agent : AlphaZero
        Answers with ``agent.select_action(s, deterministic=True)``.
    env : gymnasium.Env
        A :class:`~plugrl.envs.ConnectFourEnv` (possibly wrapped) in ``render_mode="ansi"``.
    person : callable
        The person's policy, ``a = person(s)`` (it shows the board before asking).
    person_colour : int
        0 if the person moves first, 1 if second.
    console : rich.console.Console
        Where the agent's moves and the final board are printed.

    Returns
    -------
    int
        The person's outcome: +1 a win, 0 a draw, -1 a loss.
    """
    board = env.unwrapped
    s, _ = env.reset(seed=agent.seed)
    while True:
        mover = board.to_play
        if mover == person_colour:
            a = person(s)
        else:
            a = agent.select_action(s, deterministic=True)
            _say(console, f"The agent plays column {a}.")
        s, r, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            _say(console, env.render())
            if r != board.win_reward:  # the reward is the mover's: a win's, or a full board's
                return 0
            return 1 if mover == person_colour else -1


def _game_env(agent: Any, run_dir: Any) -> Any:
    """The agent's game in ``render_mode="ansi"``; a usage error if it is not Connect Four."""
    from plugrl.envs import ConnectFourEnv
    from plugrl.samplers import make_evaluation_env

    expected = f"RUN_DIR: expected a run of AlphaZero on Connect Four for 'play {GAMES[0]}'"
    if not plays_board_games(agent) or agent.env_id is None:
        raise UsageError(f"{expected}, got {agent.AGENT_TYPE} on {agent.env_id} in {run_dir}")
    env = make_evaluation_env(agent.env_id, render_mode="ansi")
    if not isinstance(env.unwrapped, ConnectFourEnv):
        env.close()
        raise UsageError(f"{expected}, got {agent.AGENT_TYPE} on {agent.env_id} in {run_dir}")
    return env


def _say(console: Any, text: str) -> None:
    """Print as typed: boards hold no markup, and numbers should not be coloured."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)
