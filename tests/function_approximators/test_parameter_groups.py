"""ParameterGroups: shared variables held once, per-function selection, heads as members."""

from __future__ import annotations

import numpy as np
import pytest

import plugrl
from plugrl.function_approximators import Member, MemberPositions, ParameterGroups
from plugrl.predefined import LinearFunctionApproximator


def test_functions_on_one_function_approximator_share_one_group(cartpole, mlp_class):
    func = mlp_class(cartpole, random_seed=0)
    v, pi = plugrl.V(func), plugrl.SoftmaxPolicy(func)
    other = plugrl.V(LinearFunctionApproximator(cartpole, random_seed=1))
    groups = ParameterGroups([v, pi, other])
    assert len(groups) == 3 and groups.funcs == [func, other.function_approximator]
    # the body's kernel and bias are held once, by the first function that uses them
    body = len(v.head.trainable) - 2
    assert len(groups.positions[0][0]) == len(v.head.trainable) + 2
    assert groups.member(1).trainable[:body] == groups.member(0).trainable[:body]
    assert groups.member(2) == MemberPositions(1, (0, 1), ())
    assert not groups.has_non_trainable


def test_select_gives_each_function_its_own_weights(cartpole, mlp_class):
    func = mlp_class(cartpole, random_seed=0)
    v, q = plugrl.V(func), plugrl.QTypeII(func)
    groups = ParameterGroups([v, q])
    params, non_trainable = groups.gather()
    for i, f in enumerate((v, q)):
        selected, selected_nt = groups.select(params, non_trainable, i)
        expected = f.train_state
        assert len(selected) == len(expected.params) and selected_nt == ()
        for a, b in zip(selected, expected.params):
            np.testing.assert_array_equal(a, b)


def test_scatter_writes_back_into_the_shared_store(cartpole, mlp_class):
    func = mlp_class(cartpole, random_seed=0)
    v, q = plugrl.V(func), plugrl.QTypeII(func)
    groups = ParameterGroups([v, q])
    params, non_trainable = groups.gather()
    groups.scatter(tuple(tuple(p + 1.0 for p in group) for group in params), non_trainable)
    np.testing.assert_array_equal(v.get_weights()[0], np.asarray(params[0][0]) + 1.0)
    np.testing.assert_array_equal(q.get_weights()[0], v.get_weights()[0])  # the shared body


def test_a_joint_head_is_a_member(cartpole, mlp_class):
    func = mlp_class(cartpole, random_seed=0)
    pi, v = plugrl.SoftmaxPolicy(func), plugrl.V(func)
    joint = func.joint_head_model((pi.head.name, v.head.name))
    groups = ParameterGroups([Member(func, joint)])
    params, _ = groups.gather()
    assert len(params) == 1 and len(params[0]) == len(joint.trainable)
    assert set(joint.trainable) == set(pi.head.trainable) | set(v.head.trainable)
    with pytest.raises(IndexError):
        groups.member(1)
