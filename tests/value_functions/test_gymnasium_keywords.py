"""``update(..., terminated=..., truncated=..., s_next=...)`` of value functions, updaters and
actor-critics trains exactly as the positional ``update(..., done, truncated=..., s_next=...)``."""

from __future__ import annotations

import numpy as np
import pytest

import plugrl
from plugrl.predefined import LinearFunctionApproximator


def make(kind, env):
    func = LinearFunctionApproximator(env, random_seed=0)
    if kind == "V":
        return plugrl.V(func, gamma=0.9, bootstrap_n=2)
    if kind == "QTypeII":
        return plugrl.QTypeII(func, gamma=0.9, bootstrap_n=2, update_strategy="sarsa")
    if kind == "updater":
        return plugrl.QTypeI(func, gamma=0.9, update_strategy="q_learning").updater
    if kind == "ActorCritic":
        return plugrl.ActorCritic.from_func(func, gamma=0.9, bootstrap_n=2, random_seed=0)
    return plugrl.SoftActorCritic.from_func(func, gamma=0.9, random_seed=0)


def weights(obj):
    if isinstance(obj, plugrl.td_learning.BaseTDLearning):
        obj = obj.value_function
    funcs = [obj] if hasattr(obj, "get_weights") else [obj.policy, obj.v_func]
    return [w for f in funcs for w in f.get_weights()]


def run(kind, env, convention):
    obj = make(kind, env)
    rng = np.random.default_rng(0)
    for length, terminated, truncated in ((3, True, False), (4, False, True)):
        S = rng.normal(size=(length + 1, 4)).astype(np.float32)
        for t in range(length):
            last = t == length - 1
            end = {"truncated": truncated and last, "s_next": S[t + 1]}
            args = (S[t], 0.5) if kind == "V" else (S[t], int(rng.integers(2)), 0.5)
            if convention == "positional":
                obj.update(*args, terminated and last, **end)
            else:
                obj.update(*args, terminated=terminated and last, **end)
    return weights(obj)


KINDS = ["V", "QTypeII", "updater", "ActorCritic", "SoftActorCritic"]


@pytest.mark.parametrize("kind", KINDS)
def test_both_conventions_train_identically(kind, cartpole):
    positional, keyword = run(kind, cartpole, "positional"), run(kind, cartpole, "keyword")
    initial = weights(make(kind, cartpole))
    assert any(not np.array_equal(w, w0) for w, w0 in zip(positional, initial))
    for x, y in zip(positional, keyword):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("kind", KINDS)
def test_done_and_terminated_together_raise(kind, cartpole):
    obj = make(kind, cartpole)
    args = (np.zeros(4, np.float32), 1.0) if kind == "V" else (np.zeros(4, np.float32), 0, 1.0)
    with pytest.raises(TypeError, match="done, terminated: expected one of them"):
        obj.update(*args, True, terminated=True)
