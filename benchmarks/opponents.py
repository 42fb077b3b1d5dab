"""Strength and speed of the Connect Four opponents of ``plugrl.planning`` (issue 15).

The time per move of AlphaBeta (depth 5 by default) over the positions of real games on 6 x 7,
then arena scores between the opponents, each over ``--games`` games (half with either colour),
counted for the first player named. Matches involving AlphaBeta or a search use
``--opening-moves`` random opening moves so that the games differ.

    python benchmarks/opponents.py [--games 200] [--depth 5] [--with-mcts-1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from plugrl.envs.jax.connect_four import ConnectFour
from plugrl.planning.alpha_beta import AlphaBeta
from plugrl.planning.arena import arena
from plugrl.planning.opponents import OneStepLookahead, PureMCTS, RandomPlayer


class Timed:
    """A player that counts its time per move (over the unfinished games it was given)."""

    def __init__(self, player):
        self.player, self.seconds, self.moves = player, 0.0, 0

    def __call__(self, states, key):
        start = time.perf_counter()
        actions = np.asarray(self.player(states, key))
        self.seconds += time.perf_counter() - start
        self.moves += int((~np.asarray(states.terminated)).sum())
        return actions

    @property
    def per_move(self) -> float:
        return self.seconds / max(self.moves, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--opening-moves", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--with-mcts-1000", action="store_true", help="also PureMCTS(1000) vs PureMCTS(100)")
    args = parser.parse_args()
    game = ConnectFour()
    alpha_beta = Timed(AlphaBeta(game, args.depth))
    lookahead, random_player, mcts_100 = OneStepLookahead(game), RandomPlayer(game), PureMCTS(game, 100)
    matches = [("OneStepLookahead", lookahead, "RandomPlayer", random_player, 0),
               ("PureMCTS(100)", mcts_100, "OneStepLookahead", lookahead, 0),
               (f"AlphaBeta({args.depth})", alpha_beta, "PureMCTS(100)", mcts_100, args.opening_moves)]
    if args.with_mcts_1000:
        mcts_1000 = PureMCTS(game, 1000)
        matches.append(("PureMCTS(1000)", mcts_1000, "PureMCTS(100)", mcts_100, args.opening_moves))
    for name_a, player_a, name_b, player_b, opening_moves in matches:
        start = time.perf_counter()
        result = arena(game, player_a, player_b, args.games, args.seed, opening_moves=opening_moves)
        seconds = time.perf_counter() - start
        print(f"{name_a} vs {name_b} (openings of {opening_moves}): +{result.wins} ={result.draws} "
              f"-{result.losses}, score {result.score:.3f}  [{seconds:.0f} s]", flush=True)
    print(f"AlphaBeta({args.depth}) on 6x7: {1e3 * alpha_beta.per_move:.1f} ms per move "
          f"over {alpha_beta.moves} moves")


if __name__ == "__main__":
    main()
