"""ActorCritic and SoftActorCritic: one step for all components, shared bodies, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import optax
import pytest

import plugrl
from plugrl.predefined import LinearFunctionApproximator


def batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(n, 4)).astype(np.float32)
    return S, rng.integers(0, 2, n), rng.normal(size=n), np.full(n, 0.9), rng.normal(size=(n, 4))


def test_critic_part_of_the_joint_step_equals_a_td_update(cartpole):
    """With separate function approximators, the critic moves exactly as V.batch_update would."""
    def make_v():
        v = plugrl.V(LinearFunctionApproximator(cartpole, optimizer=optax.sgd(0.1)), gamma=0.9)
        v.set_weights([np.arange(4, dtype=np.float32)[:, None] / 10, np.array([0.3], np.float32)])
        return v

    pi = plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole, random_seed=0))
    v_joint, v_alone = make_v(), make_v()
    S, A, Rn, In, S_next = batch()
    metrics = plugrl.ActorCritic(pi, v_joint).batch_update(S, A, Rn, In, S_next)
    v_alone.batch_update(S, Rn, In, S_next)
    for joint, alone in zip(v_joint.get_weights(), v_alone.get_weights()):
        np.testing.assert_allclose(joint, alone, rtol=1e-5, atol=1e-7)
    assert {"ActorCritic/value_loss", "ActorCritic/policy_loss", "VanillaPG/entropy"} <= set(metrics)


def test_shared_body_is_evaluated_once_for_both_heads(cartpole, mlp_class):
    func = mlp_class(cartpole, random_seed=0)
    actor_critic = plugrl.ActorCritic.from_func(func, update_strategy="ppo", random_seed=0)
    calls = []
    body = func._shared_body()
    original = body.call
    body.call = lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs)
    actor_critic.batch_update(*batch())
    # one joint pass over S and S_next for both heads (the bootstrap rides along) and one for
    # the old policy: two body evaluations, where separate policy and value passes need four
    assert len(calls) == 2


def test_actor_critic_learns_with_shared_body_and_update(cartpole, mlp_class):
    actor_critic = plugrl.ActorCritic.from_func(mlp_class(cartpole, random_seed=0), random_seed=0)
    s, _ = cartpole.reset(seed=0)
    a, v = actor_critic(s)
    assert a in (0, 1) and isinstance(v, float)
    actor_critic.update(s, a, 1.0, False)
    actor_critic.update(s, a, 1.0, True)
    A, V = actor_critic.batch_eval(np.zeros((3, 4)))
    assert A.shape == (3,) and V.shape == (3,)
    params, value = actor_critic.dist_params(s)
    assert params.shape == (2,)


def test_mismatched_function_approximators(cartpole, pendulum):
    pi = plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole))
    v = plugrl.V(LinearFunctionApproximator(gym.make("Acrobot-v1")))
    with pytest.raises(ValueError, match="v_func: expected a function approximator on the same env"):
        plugrl.ActorCritic(pi, v)
    with pytest.raises(TypeError, match="v_func: expected a plugrl.V, got QTypeII"):
        plugrl.ActorCritic(pi, plugrl.QTypeII(LinearFunctionApproximator(cartpole)))


def test_soft_actor_critic_discrete_and_continuous(cartpole, pendulum, mlp_class):
    sac = plugrl.SoftActorCritic.from_func(mlp_class(cartpole, random_seed=0), random_seed=0)
    assert sac.q_func1.head is not sac.q_func2.head
    metrics = sac.batch_update(*batch())
    assert {"SoftActorCritic/q_loss", "SoftActorCritic/v_loss", "SoftPG/entropy"} <= set(metrics)
    env = plugrl.wrappers.BoxActionsToReals(pendulum)
    sac = plugrl.SoftActorCritic.from_func(mlp_class(env, random_seed=0), random_seed=0)
    S = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    A = sac.policy.batch_eval(S)
    before = sac.q_func1.get_weights()[-1].copy()
    metrics = sac.batch_update(S, A, np.ones(5), np.full(5, 0.9), S)
    assert np.isfinite(list(metrics.values())).all()
    assert not np.array_equal(before, sac.q_func1.get_weights()[-1])


def test_soft_actor_critic_needs_sac_policy_and_twin_heads(cartpole):
    func = LinearFunctionApproximator(cartpole)
    v = plugrl.V(func)
    with pytest.raises(TypeError, match="update_strategy='sac'"):
        plugrl.SoftActorCritic(plugrl.SoftmaxPolicy(func), v, plugrl.QTypeII(func), plugrl.QTypeII(func))
    pi = plugrl.SoftmaxPolicy(func, update_strategy="sac")
    with pytest.raises(ValueError, match="shares q_func1's head; pass head_id"):
        plugrl.SoftActorCritic(pi, v, plugrl.QTypeII(func), plugrl.QTypeII(func))
