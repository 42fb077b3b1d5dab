"""AlphaZero learns Connect Four's rules of play on a 4 x 5 board with three in a row: the same
code as on 6 x 7, a board-size parameter apart.

With a search of 8 simulations per move (too few to find much by itself), the untrained network
loses to the one-step lookahead player (it wins when it can and blocks when it must) and beats
the random player only as often as chance allows; after 8,000 moves of self-play (about 15 s on 2
cores) it must beat the random player in nearly every game and the lookahead clearly. Measured
with seed 0: untrained 0.54 against random and -0.66 against the lookahead (mean outcome over 100
games, +1 a win, -1 a loss); trained 0.92 and 0.70.
"""

from __future__ import annotations

from plugrl.agents import AlphaZero
from plugrl.envs import ConnectFourEnv

CONFIG = dict(num_games=64, num_simulations=16, updates_per_iteration=32, arena_games=20,
              arena_simulations=8, temperature_moves=4, filters=(16, 16), dense=64)


def test_alphazero_beats_random_and_one_step_lookahead_on_a_small_board():
    agent = AlphaZero(ConnectFourEnv(num_rows=4, num_cols=5, connect=3), seed=0, **CONFIG)
    before = agent.evaluate(100, opponent="one_step_lookahead")
    agent.fit(8_000)
    against_random = agent.evaluate(100, opponent="random")
    against_lookahead = agent.evaluate(100, opponent="one_step_lookahead")
    assert before < 0.0
    assert against_random >= 0.8  # at least 90 % of the games won
    assert against_lookahead >= 0.4 and against_lookahead > before + 0.6
