"""Opponents to measure an agent against: the players of AlphaZero.jl's Connect Four benchmark.

A :class:`Player` takes a batch of positions and a key and returns one move per position. From
the weakest to the strongest: :class:`RandomPlayer`, :class:`OneStepLookahead` (wins, else
blocks, else plays at random), :class:`PureMCTS` (tree search valued by random playouts, the
"MCTS with N rollouts" baseline) and :class:`~plugrl.planning.alpha_beta.AlphaBeta` (a classical
depth-limited search). :class:`SearchPlayer` turns any evaluator, AlphaZero's network among them,
into a player. The first four are compiled JAX (:mod:`plugrl.planning.fast_players`); AlphaBeta
runs in Python. :func:`~plugrl.planning.arena.arena` plays two players against each other.
"""

from __future__ import annotations

from typing import Any, Protocol

from plugrl.planning.fast_players import (
    OneStepLookahead,
    PureMCTS,
    RandomPlayer,
    SearchPlayer,
    random_rollout_evaluator,
)

__all__ = ["OPPONENTS", "OneStepLookahead", "Player", "PureMCTS", "RandomPlayer", "SearchPlayer",
           "make_opponent", "random_rollout_evaluator"]


class Player(Protocol):
    """Anything that picks moves for a batch of positions.

    Parameters
    ----------
    states : ConnectFourState
        B positions stacked along a leading axis (JAX arrays).
    key : JAX array
        PRNG key, the player's only source of randomness.

    Returns
    -------
    actions : int array, shape: [B]
        NumPy or JAX; legal in every unfinished game (the moves of finished games are ignored).
    """

    def __call__(self, states: Any, key: Any) -> Any: ...



#: The opponents :func:`make_opponent` knows by name.
OPPONENTS = ("random", "one_step_lookahead", "mcts", "alpha_beta")


def make_opponent(game: Any, opponent: Any) -> Player:
    """A player by name (one of :data:`OPPONENTS`: :class:`RandomPlayer`,
    :class:`OneStepLookahead`, :class:`PureMCTS` with 100 rollouts, :class:`AlphaBeta` at depth
    5), or ``opponent`` itself if it is already a player."""
    from plugrl.planning.alpha_beta import AlphaBeta

    players: dict[str, Any] = {
        "random": lambda: RandomPlayer(game), "one_step_lookahead": lambda: OneStepLookahead(game),
        "mcts": lambda: PureMCTS(game, 100), "alpha_beta": lambda: AlphaBeta(game, 5)}
    if isinstance(opponent, str):
        if opponent not in players:
            raise ValueError(f"opponent: expected one of {list(OPPONENTS)} or a player, got {opponent!r}")
        player: Player = players[opponent]()
        return player
    if not callable(opponent):
        raise TypeError(f"opponent: expected one of {list(OPPONENTS)} or a player (states, key) -> "
                        f"actions, got {type(opponent).__name__}")
    return opponent

