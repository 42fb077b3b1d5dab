"""The opponents of plugrl.planning.opponents and alpha_beta, and the arena that scores them."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plugrl.envs.jax.connect_four import ConnectFour
from plugrl.planning.alpha_beta import AlphaBeta
from plugrl.planning.arena import arena
from plugrl.planning.opponents import OneStepLookahead, PureMCTS, RandomPlayer, random_rollout_evaluator

STANDARD, SMALL = ConnectFour(), ConnectFour(num_rows=4, num_cols=5, connect=3)

# (game, moves from the empty board, the moves that must be chosen), columns from 0
WIN_IN_ONE = [
    (STANDARD, [0, 6, 1, 6, 2, 6], {3}),  # three on the bottom row; winning beats blocking column 6
    (STANDARD, [0, 1, 0, 1, 0, 1], {0}),  # three stacked in column 0
    (SMALL, [0, 4, 1, 4], {2}),  # two on the bottom row; the opponent threatens column 4
]
MUST_BLOCK = [
    (STANDARD, [0, 6, 1, 6, 2], {3}),
    (STANDARD, [0, 1, 0, 1, 0], {0}),  # the opponent's three stacked in column 0
    (SMALL, [0, 4, 1], {2}),
]
# The player to move opens a line of three with both ends free: two threats, one block.
DOUBLE_THREAT = (STANDARD, [3, 3, 2, 2], {1, 4})


def position(game, moves):
    state = game.initial_state()
    for a in moves:
        state, _ = game.play(state, a)
    assert not bool(state.terminated)
    return state


def batch(states):
    return jax.tree_util.tree_map(lambda *x: jnp.stack(x), *states)


def choices(player, game, moves, seeds=range(4)):
    """The moves a player picks in one position, over several keys."""
    states = batch([position(game, moves)] * 2)
    return {int(np.asarray(player(states, jax.random.PRNGKey(s)))[i]) for s in seeds for i in (0, 1)}


@pytest.mark.parametrize("game", [STANDARD, SMALL], ids=["6x7", "4x5"])
@pytest.mark.parametrize("make", [RandomPlayer, OneStepLookahead, lambda g: AlphaBeta(g, 2)],
                         ids=["random", "lookahead", "alpha_beta"])
def test_moves_are_legal_until_the_end(game, make):
    player, key = make(game), jax.random.PRNGKey(0)
    states = batch([game.initial_state()] * 8)
    for _ in range(game.max_time_steps):
        key, subkey = jax.random.split(key)
        A = np.asarray(player(states, subkey))
        legal = np.asarray(jax.vmap(game.legal_actions)(states))
        live = ~np.asarray(states.terminated)
        assert A.shape == (8,) and legal[live, A[live]].all()
        states, R = jax.vmap(game.play)(states, jnp.asarray(A))
        assert (np.asarray(R)[live] >= 0).all()  # an illegal move would have reward -1
    assert np.asarray(states.terminated).all()


def test_random_player_plays_every_legal_move():
    game = SMALL
    assert choices(RandomPlayer(game), game, [0, 0, 0, 0], seeds=range(20)) == {1, 2, 3, 4}


def uniform_playout_value(game, state):
    """The exact expected result of a uniformly random playout, for the player to move."""
    values = []
    for a in np.flatnonzero(np.asarray(game.legal_actions(state))):
        after, reward = game.play(state, a)
        values.append(float(reward) if bool(after.terminated) else -uniform_playout_value(game, after))
    return np.mean(values)


@pytest.mark.parametrize("moves", [[], [2], [0, 4]])
def test_random_rollouts_value_positions_for_the_player_to_move(moves):
    # One row, two in a row wins: few enough playouts to enumerate, and values of either sign.
    game, num = ConnectFour(num_rows=1, num_cols=5, connect=2), 4000
    state = position(game, moves)
    states = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (num, *x.shape)), state)
    logits, V = jax.jit(random_rollout_evaluator(game))(None, jax.random.PRNGKey(0), states)
    assert logits.shape == (num, 5) and not np.asarray(logits).any()
    assert set(np.unique(np.asarray(V))) <= {-1.0, 0.0, 1.0}
    assert float(V.mean()) == pytest.approx(uniform_playout_value(game, state), abs=0.05)  # 4 s.e.


def players():
    return [OneStepLookahead, lambda g: PureMCTS(g, num_rollouts=100), lambda g: AlphaBeta(g, 3)]


@pytest.mark.parametrize("make", players(), ids=["lookahead", "pure_mcts", "alpha_beta"])
@pytest.mark.parametrize("game, moves, expected", WIN_IN_ONE + MUST_BLOCK)
def test_wins_when_it_can_and_blocks_when_it_must(make, game, moves, expected):
    assert choices(make(game), game, moves) == expected


def test_alpha_beta_finds_a_double_threat_that_one_step_lookahead_misses():
    game, moves, expected = DOUBLE_THREAT
    assert choices(AlphaBeta(game, 3), game, moves) == expected
    assert choices(AlphaBeta(game, 5), game, moves) == expected
    assert not choices(OneStepLookahead(game), game, moves, seeds=range(10)) <= expected


def test_alpha_beta_breaks_ties_at_random_and_reproducibly():
    game, moves, expected = DOUBLE_THREAT  # two moves win the same way
    player, states = AlphaBeta(game, 3), batch([position(game, moves)] * 16)
    first = np.asarray(player(states, jax.random.PRNGKey(0)))
    assert (first == np.asarray(player(states, jax.random.PRNGKey(0)))).all()
    assert set(first.tolist()) == expected


def test_alpha_beta_rejects_a_depth_below_one():
    with pytest.raises(ValueError, match="depth: expected at least 1, got 0"):
        AlphaBeta(STANDARD, 0)


# ---------------------------------------------------------------------------- the arena
class Spy:
    """A random player that records the positions it is asked about."""

    def __init__(self, game):
        self.random, self.seen = RandomPlayer(game), []

    def __call__(self, states, key):
        self.seen.append((np.asarray(states.t), np.asarray(states.to_play)))
        return self.random(states, key)


def test_arena_gives_each_player_both_colours_in_half_the_games():
    spy_a, spy_b = Spy(SMALL), Spy(SMALL)
    result = arena(SMALL, spy_a, spy_b, num_games=10, seed=0, opening_moves=2)
    assert result.wins + result.draws + result.losses == result.num_games == 10
    assert result.score == pytest.approx((result.wins + 0.5 * result.draws) / 10)
    for spy in (spy_a, spy_b):
        (t0, colour0), (t1, colour1) = spy.seen[:2]
        assert len(t0) == len(t1) == 5 and (t0 == 2).all() and (t1 == 3).all()
        assert {int(colour0[0]), int(colour1[0])} == {0, 1}  # each half with its own colour
    # player_a has colour 0 in the first half (it moves at even move numbers there)
    assert (spy_a.seen[0][1] == 0).all() and (spy_b.seen[0][1] == 0).all()


def test_arena_is_deterministic_for_a_seed_and_counts_every_game():
    game = SMALL
    results = [arena(game, RandomPlayer(game), RandomPlayer(game), 40, seed) for seed in (0, 0, 1)]
    np.testing.assert_array_equal(results[0].outcomes, results[1].outcomes)
    assert results[0][:5] == results[1][:5] and not np.array_equal(results[0].outcomes, results[2].outcomes)
    assert all(r.wins + r.draws + r.losses == 40 == len(r.outcomes) for r in results)
    assert all(r.wins == np.sum(r.outcomes == 1) and r.losses == np.sum(r.outcomes == -1) for r in results)


def test_arena_rejects_an_odd_number_of_games():
    with pytest.raises(ValueError, match="num_games: expected an even number >= 2, got 7"):
        arena(SMALL, RandomPlayer(SMALL), RandomPlayer(SMALL), 7, seed=0)


def test_one_step_lookahead_beats_random():
    game = STANDARD
    assert arena(game, OneStepLookahead(game), RandomPlayer(game), 100, seed=0).score >= 0.9


def test_alpha_beta_beats_one_step_lookahead():
    game = STANDARD
    result = arena(game, AlphaBeta(game, 3), OneStepLookahead(game), 20, seed=0, opening_moves=2)
    assert result.score >= 0.85


def test_pure_mcts_beats_random():
    game = SMALL
    assert arena(game, PureMCTS(game, 100), RandomPlayer(game), 20, seed=0).score >= 0.85
