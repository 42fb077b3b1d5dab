"""Smaller keras-gym names that plugrl accepts as the seed writes them: the wrapper name
``BoxToReals``, ``utils.enable_logging(level_tf=...)`` and ``EpsilonGreedy`` over a plain
callable Q-function ("q_function : callable")."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import plugrl


def test_box_to_reals_is_the_box_actions_wrapper(pendulum):
    # The seed's note: env = km.wrappers.BoxToReals(env), before a GaussianPolicy
    env = plugrl.wrappers.BoxToReals(pendulum)
    assert isinstance(env, plugrl.wrappers.BoxActionsToReals)
    plugrl.GaussianPolicy(plugrl.predefined.LinearFunctionApproximator(env))


def test_enable_logging_takes_level_tf():
    jax_logger, root = logging.getLogger("jax"), logging.getLogger()
    saved = jax_logger.level, root.level
    try:
        plugrl.utils.enable_logging(level=logging.WARNING, level_tf=logging.CRITICAL)
        assert jax_logger.level == logging.CRITICAL and root.level == logging.WARNING
        plugrl.utils.enable_logging(logging.INFO, logging.DEBUG)  # the seed's positional order
        assert jax_logger.level == logging.DEBUG
        with pytest.raises(TypeError, match="level_tf, level_jax: expected one of them"):
            plugrl.utils.enable_logging(level_jax=logging.INFO, level_tf=logging.ERROR)
    finally:
        jax_logger.setLevel(saved[0])
        root.setLevel(saved[1])


def test_epsilon_greedy_over_a_plain_callable():
    calls = []

    def q_function(s):
        calls.append(s)
        return np.array([0.1, 0.7, 0.2]) + s

    pi = plugrl.EpsilonGreedy(q_function, epsilon=0.0)
    assert pi.greedy(0.0) == 1 and pi(0.0) == 1
    np.testing.assert_allclose(pi.dist_params(0.0), [0.0, 1.0, 0.0])
    explore = plugrl.EpsilonGreedy(q_function, epsilon=1.0, random_seed=0)
    actions = {explore(0.0) for _ in range(100)}
    assert actions == {0, 1, 2}
    np.testing.assert_allclose(explore.set_epsilon(0.3).dist_params(0.0), [0.1, 0.8, 0.1])


def test_epsilon_greedy_rejects_what_is_not_a_q_function():
    with pytest.raises(TypeError, match="q_function: expected a QTypeI, a QTypeII or a callable"):
        plugrl.EpsilonGreedy(42)
    with pytest.raises(ValueError, match=r"shape \[num_actions\], got float64 \(\)"):
        plugrl.EpsilonGreedy(lambda s: 1.0).greedy(0)
