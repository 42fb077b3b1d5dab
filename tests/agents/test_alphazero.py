"""AlphaZero: configuration checks, self-play's positions and targets, acting, exact resume,
saving and loading, and the arena's promotion rule. A 4 x 5 board with three in a row and tiny
networks keep each test to seconds."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl.agents import AGENTS, AlphaZero
from plugrl.agents.alphazero.fast_self_play import mirror
from plugrl.agents.persistence import save_agent_to
from plugrl.envs import ConnectFourEnv

TINY = dict(num_games=8, num_simulations=4, updates_per_iteration=2, batch_size=16, arena_games=4,
            arena_simulations=2, filters=(8,), dense=16, buffer_size=500, eval_episodes=4)


def small_board() -> ConnectFourEnv:
    return ConnectFourEnv(num_rows=4, num_cols=5, connect=3)


def _same_run(a: AlphaZero, b: AlphaZero) -> None:
    for x, y in zip(a.learner.get_weights(), b.learner.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.best_weights[0], b.best_weights[0], strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_equal(a.history, b.history)
    assert a.num_steps == b.num_steps and a.promotions == b.promotions and len(a.buffer) == len(b.buffer)


def test_registered_and_named():
    assert AGENTS["AlphaZero"] is AlphaZero and AlphaZero.name == "alphazero"


@pytest.mark.parametrize("field, value, message", [
    ("num_simulations", 0, "num_simulations"),
    ("dirichlet_fraction", 1.5, "dirichlet_fraction"),
    ("arena_games", -2, "arena_games"),
    ("arena_games", 3, "even"),
    ("eval_episodes", 5, "even"),
    ("eval_opponent", "minimax", "eval_opponent"),
    ("filters", (), "filters"),
])
def test_bad_configuration_names_the_field(field, value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        AlphaZero(small_board(), **{**TINY, field: value})


def test_refuses_an_env_that_is_not_connect_four():
    with pytest.raises(TypeError, match="Connect Four"):
        AlphaZero("CartPole-v1", **TINY)


def test_self_play_positions_and_targets():
    agent = AlphaZero(small_board(), seed=0, **TINY)
    positions, stats = agent.sampler.play(agent.learner.weights, agent._key)
    assert len(positions.Z) == stats.lengths.sum() and positions.S.dtype == np.uint8
    np.testing.assert_allclose(positions.P.sum(axis=1), 1.0, rtol=1e-5)
    legal = positions.S[:, 0, :, 0].astype(bool)
    assert np.all(positions.P[~legal] == 0)  # no search visits an illegal move
    # the first position of each game is the empty board, seen by the first player
    first = positions.S[:len(stats.lengths)]
    assert np.all(first[:, 1:] == 0)
    np.testing.assert_array_equal(positions.Z[:len(stats.lengths)], stats.first_player_outcomes)
    assert set(np.unique(positions.Z)) <= {-1.0, 0.0, 1.0}
    mirrored = mirror(positions)
    np.testing.assert_array_equal(mirrored.S[:, :, 0], positions.S[:, :, -1])
    np.testing.assert_array_equal(mirrored.P[:, 0], positions.P[:, -1])


def test_fit_twice_equals_fit_of_the_sum_and_resume_is_exact(tmp_path):
    twice = AlphaZero(small_board(), seed=1, **TINY).fit(150).fit(150)
    # one call to the same step count runs the same iterations (moves per game vary)
    once = AlphaZero(small_board(), seed=1, **TINY).fit(twice.num_steps)
    _same_run(twice, once)
    AlphaZero(small_board(), seed=1, model_dir=tmp_path, **TINY).fit(150)  # writes its checkpoint
    resumed = AlphaZero(small_board(), seed=1, model_dir=tmp_path, **TINY).fit(150, restore=True)
    _same_run(resumed, twice)


def test_select_action_is_legal_and_wins_when_it_can():
    env = small_board()
    agent = AlphaZero(env, seed=0, **{**TINY, "arena_simulations": 16})
    s, _ = env.reset(seed=0)
    for a in [0, 0, 1, 1]:
        s, *_ = env.step(a)
    assert agent.select_action(s, deterministic=True) == 2  # the win, found by the search
    for _ in range(20):
        assert agent.select_action(s) in env.available_actions
    P, v = agent.predict(s)
    assert P.shape == (5,) and P.sum() == pytest.approx(1.0) and -1 <= v <= 1
    with pytest.raises(ValueError, match="shape"):
        agent.select_action(np.zeros((7, 7, 2)))


def test_evaluate_against_named_opponents():
    agent = AlphaZero(small_board(), seed=0, **TINY)
    mean, outcomes = agent.evaluate(4, opponent="one_step_lookahead", return_episode_rewards=True)
    assert len(outcomes) == 4 and set(outcomes) <= {-1.0, 0.0, 1.0} and mean == np.mean(outcomes)
    with pytest.raises(ValueError, match="opponent"):
        agent.evaluate(4, opponent="grandmaster")


def test_the_arena_promotes_only_a_network_that_scores_enough():
    never = AlphaZero(small_board(), seed=0, **{**TINY, "arena_threshold": 1.0, "arena_games": 2})
    initial = [np.array(w) for w in never.best_weights[0]]
    never.fit(100)
    always = AlphaZero(small_board(), seed=0, **{**TINY, "arena_games": 0})
    always.fit(100)
    assert always.promotions == len(always.history) and always.history[-1]["arena_score"] == 1.0
    for x, y in zip(always.best_weights[0], always.learner.weights[0]):
        np.testing.assert_array_equal(x, y)
    if never.promotions == 0:  # a score of 1.0 (both games won) would promote even here
        for x, y in zip(never.best_weights[0], initial):
            np.testing.assert_array_equal(x, y)


def test_save_and_load_a_connect_four_agent(tmp_path):
    agent = AlphaZero("ConnectFour-v0", seed=0, **TINY).fit(40)
    path = save_agent_to(agent, tmp_path / "agent")
    assert (path / "policy_value.keras").is_file()
    loaded = AlphaZero.load(str(path))
    _same_run(agent, loaded)
    s, _ = ConnectFourEnv().reset(seed=0)
    np.testing.assert_allclose(loaded.predict(s)[0], agent.predict(s)[0], rtol=1e-6)
