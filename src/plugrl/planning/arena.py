"""Two players, many games: the arena that scores an agent against the opponents of
:mod:`plugrl.planning.opponents` (or against an earlier version of itself).

The games are played in lockstep, as one batch: at every move number each player is asked once,
for all the games where it is to move, and the positions are stepped by one compiled call.
The loop over move numbers is plain Python, so a player may be Python code (AlphaBeta) as well as
a compiled function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from plugrl._backend import keras, prng_key, split_keys
from plugrl.planning.fast_players import batched_play, random_openings
from plugrl.planning.opponents import Player

if TYPE_CHECKING:
    from plugrl.envs.jax.connect_four import ConnectFour, ConnectFourState

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
    key, opening_key = split_keys(prng_key(seed), 2)
    openings = random_openings(game, half, opening_moves, opening_key)
    states = keras.tree.map_structure(lambda x: np.concatenate([x, x]), openings)
    step = batched_play(game)
    outcome = np.zeros(num_games)  # +1 player_a won, -1 lost, 0 drawn (or still playing)
    for t in range(opening_moves, game.max_time_steps):
        if np.all(states.terminated):
            break
        key, key_a, key_b = split_keys(key, 3)
        # player_a has colour 0 in the first half; colour t % 2 is to move at move number t
        a_first = t % 2 == 0
        first, second = _halves(states, half)
        actions_first = (player_a if a_first else player_b)(first, key_a if a_first else key_b)
        actions_second = (player_b if a_first else player_a)(second, key_b if a_first else key_a)
        actions = np.concatenate([np.asarray(actions_first, np.int32), np.asarray(actions_second, np.int32)])
        states, reward = step(states, actions)
        mover_is_a = np.r_[np.full(half, a_first), np.full(half, not a_first)]
        outcome += np.where(mover_is_a, 1.0, -1.0) * np.sign(np.asarray(reward))
    wins, losses = int(np.sum(outcome > 0)), int(np.sum(outcome < 0))
    draws = num_games - wins - losses
    return ArenaResult(wins=wins, draws=draws, losses=losses, num_games=num_games,
                       score=(wins + 0.5 * draws) / num_games, outcomes=np.sign(outcome).astype(int))


def _halves(states: ConnectFourState, half: int) -> tuple[ConnectFourState, ConnectFourState]:
    first = keras.tree.map_structure(lambda x: x[:half], states)
    second = keras.tree.map_structure(lambda x: x[half:], states)
    return first, second
