"""Two players, many games: the arena that scores an agent against the opponents of
:mod:`plugrl.planning.opponents` (or against an earlier version of itself).

The games are played in lockstep, as one batch: at every move number each player is asked once,
for all the games where it is to move, and the positions are stepped with ``jax.vmap(game.play)``.
The loop over move numbers is plain Python, so a player may be Python code (AlphaBeta) as well as
a compiled function.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from plugrl.envs.jax.connect_four import ConnectFour, ConnectFourState
from plugrl.planning.opponents import Player

__all__ = ["ArenaResult", "arena"]


class ArenaResult(NamedTuple):
    """The outcome of a match, counted for the first player (``player_a``).

    Attributes
    ----------
    wins, draws, losses : int
        Games that ``player_a`` won, drew and lost.
    num_games : int
        Games played, ``wins + draws + losses``.
    score : float
        ``(wins + draws / 2) / num_games``, in [0, 1].
    outcomes : int array, shape: [num_games]
        Each game's outcome for ``player_a``: +1 a win, 0 a draw, -1 a loss (``player_a`` moved
        first in the first half).
    """

    wins: int
    draws: int
    losses: int
    num_games: int
    score: float
    outcomes: np.ndarray


def arena(game: ConnectFour, player_a: Player, player_b: Player, num_games: int, seed: int,
          opening_moves: int = 0) -> ArenaResult:
    """Play ``num_games`` games between two players, each with either colour in half of them.

    Parameters
    ----------
    game : ConnectFour
        The rules.
    player_a, player_b : Player
        The players; the result is counted for ``player_a``.
    num_games : int
        Games to play, even: ``player_a`` moves first in the first half and second in the other.
    seed : int
        Seeds the players' keys and the openings: the same seed replays the same games.
    opening_moves : int, optional
        Random legal moves (none of them ending the game) played before the players take over
        (0). Deterministic players (AlphaBeta with a unique best move, a search without noise)
        otherwise play the same one or two games over and over, and the score measures a single
        line of play; a few random opening moves make the games differ. Each opening is played
        twice, once with each colour assignment, so that a lopsided opening favours no player.

    Returns
    -------
    ArenaResult
    """
    if num_games < 2 or num_games % 2:
        raise ValueError(f"num_games: expected an even number >= 2, got {num_games}")
    if not 0 <= opening_moves < game.max_time_steps:
        raise ValueError(f"opening_moves: expected 0 <= opening_moves < {game.max_time_steps}, "
                         f"got {opening_moves}")
    half = num_games // 2
    key = jax.random.PRNGKey(seed)
    key, opening_key = jax.random.split(key)
    openings = _openings(game, half, opening_moves, opening_key)
    states = jax.tree_util.tree_map(lambda x: jnp.concatenate([x, x]), openings)
    step = _stepper(game)
    outcome = np.zeros(num_games)  # +1 player_a won, -1 lost, 0 drawn (or still playing)
    for t in range(opening_moves, game.max_time_steps):
        if bool(jnp.all(states.terminated)):
            break
        key, key_a, key_b = jax.random.split(key, 3)
        # player_a has colour 0 in the first half; colour t % 2 is to move at move number t
        a_first = t % 2 == 0
        first, second = _halves(states, half)
        actions_first = (player_a if a_first else player_b)(first, key_a if a_first else key_b)
        actions_second = (player_b if a_first else player_a)(second, key_b if a_first else key_a)
        actions = jnp.concatenate([jnp.asarray(actions_first, jnp.int32),
                                   jnp.asarray(actions_second, jnp.int32)])
        states, reward = step(states, actions)
        mover_is_a = np.r_[np.full(half, a_first), np.full(half, not a_first)]
        outcome += np.where(mover_is_a, 1.0, -1.0) * np.sign(np.asarray(reward))
    wins, losses = int(np.sum(outcome > 0)), int(np.sum(outcome < 0))
    draws = num_games - wins - losses
    return ArenaResult(wins=wins, draws=draws, losses=losses, num_games=num_games,
                       score=(wins + 0.5 * draws) / num_games, outcomes=np.sign(outcome).astype(int))


@functools.lru_cache(maxsize=8)
def _stepper(game: ConnectFour) -> Any:
    """``jax.vmap(game.play)``, compiled once per game rather than once per match."""
    return jax.jit(jax.vmap(game.play))


def _halves(states: ConnectFourState, half: int) -> tuple[ConnectFourState, ConnectFourState]:
    first = jax.tree_util.tree_map(lambda x: x[:half], states)
    second = jax.tree_util.tree_map(lambda x: x[half:], states)
    return first, second


def _openings(game: ConnectFour, num: int, num_moves: int, key: jax.Array) -> ConnectFourState:
    """``num`` positions after ``num_moves`` random legal moves that do not end the game."""
    actions = jnp.arange(game.num_actions)

    def opening_move(state: ConnectFourState, key: jax.Array) -> tuple[ConnectFourState, None]:
        after = jax.vmap(game.play, in_axes=(None, 0))(state, actions)[0]
        allowed = game.legal_actions(state) & ~after.terminated
        # where every move ends the game (a nearly full board) any legal move will do
        allowed = jnp.where(jnp.any(allowed), allowed, game.legal_actions(state))
        a = jax.random.categorical(key, jnp.where(allowed, 0.0, -jnp.inf))
        return game.play(state, a)[0], None

    def opening(key: jax.Array) -> ConnectFourState:
        keys = jax.random.split(key, num_moves)
        return jax.lax.scan(opening_move, game.initial_state(), keys)[0]

    return jax.jit(jax.vmap(opening))(jax.random.split(key, num))
