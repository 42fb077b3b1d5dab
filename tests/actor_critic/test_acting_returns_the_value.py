"""keras-gym's acting interface of actor-critics: ``__call__(s)``, ``greedy(s)`` and
``dist_params(s)`` each return a pair whose second element is :math:`v(s)`."""

from __future__ import annotations

import numpy as np
import pytest

import plugrl


def _make(kind, cartpole, pendulum, mlp_class):
    if kind == "ActorCritic":
        return plugrl.ActorCritic.from_func(mlp_class(cartpole, random_seed=0), random_seed=0), cartpole
    if kind == "SoftActorCritic":
        return plugrl.SoftActorCritic.from_func(mlp_class(cartpole, random_seed=0), random_seed=0), cartpole
    env = plugrl.wrappers.BoxActionsToReals(pendulum)
    return plugrl.SoftActorCritic.from_func(mlp_class(env, random_seed=0), random_seed=0), env


@pytest.mark.parametrize("kind", ["ActorCritic", "SoftActorCritic", "SoftActorCritic-Box"])
def test_call_greedy_and_dist_params_return_the_pair_with_v(kind, cartpole, pendulum, mlp_class):
    ac, env = _make(kind, cartpole, pendulum, mlp_class)
    s, _ = env.reset(seed=0)
    v_expected = ac.v_func(s)
    assert isinstance(v_expected, float)

    a, v = ac(s)
    assert env.action_space.contains(np.asarray(a, dtype=env.action_space.dtype).reshape(
        env.action_space.shape)) and v == v_expected

    a, v = ac.greedy(s)
    assert v == v_expected
    np.testing.assert_array_equal(a, ac.policy.greedy(s))

    params, v = ac.dist_params(s)
    assert v == v_expected
    for got, expected in zip(np.atleast_1d(params), np.atleast_1d(ac.policy.dist_params(s))):
        np.testing.assert_array_equal(got, expected)
