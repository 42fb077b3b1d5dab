"""Every concept object trains with a Keras optimizer, an optax optimizer or the default, on a
body of its own or one shared with other heads (keras-gym: ``FunctionApproximator(env,
optimizer=keras.optimizers.Adam(...))``)."""

from __future__ import annotations

import numpy as np
import optax
import pytest
from batches import random_transitions

import plugrl
from plugrl._backend import keras

OPTIMIZERS = {
    "keras": lambda: {"optimizer": keras.optimizers.Adam(0.01)},
    "optax": lambda: {"optimizer": optax.adam(0.01)},
    "default": lambda: {},
}



def build(kind, func, other_func):
    """The object of ``kind`` on ``func``, and a way to take one update on a batch; the
    function approximator ``other_func`` carries the other heads (``func`` when shared)."""
    if kind == "V":
        obj = plugrl.V(func)
        return obj, lambda S, A, Rn, In, S_next: obj.batch_update(S, Rn, In, S_next)
    if kind in ("QTypeI", "QTypeII"):
        obj = getattr(plugrl, kind)(func)
        return obj, lambda S, A, Rn, In, S_next: obj.batch_update(S, A, Rn, In, S_next)
    if kind in ("SoftmaxPolicy", "GaussianPolicy"):
        obj = getattr(plugrl, kind)(func, random_seed=0)
        return obj, lambda S, A, Rn, In, S_next: obj.batch_update(S, A, Rn)
    policy_class = plugrl.GaussianPolicy if kind == "GaussianActorCritic" else plugrl.SoftmaxPolicy
    if kind == "SoftActorCritic":
        obj = plugrl.SoftActorCritic(
            policy_class(func, update_strategy="sac", random_seed=0), plugrl.V(other_func),
            plugrl.QTypeII(func, head_id="q1"), plugrl.QTypeII(other_func, head_id="q2"))
    else:
        obj = plugrl.ActorCritic(policy_class(func, update_strategy="ppo", random_seed=0),
                                 plugrl.V(other_func))
    return obj, lambda S, A, Rn, In, S_next: obj.batch_update(S, A, Rn, In, S_next)


KINDS = {"V": "cartpole", "QTypeI": "cartpole", "QTypeII": "cartpole", "SoftmaxPolicy": "cartpole",
         "GaussianPolicy": "real_pendulum", "ActorCritic": "cartpole", "GaussianActorCritic": "real_pendulum",
         "SoftActorCritic": "cartpole"}


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "own_body"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_one_update_with_each_optimizer(kind, optimizer, shared, mlp_class, request):
    """One update moves the weights, and keeps them finite, whatever the optimizer and sharing.

    Shared: other heads on the same function approximator take an update first, so that one
    optimizer serves parameter sets of several sizes (the crash of a Keras optimizer)."""
    env = request.getfixturevalue(KINDS[kind])
    func = mlp_class(env, random_seed=0, **OPTIMIZERS[optimizer]())
    other = func if shared else mlp_class(env, random_seed=1, **OPTIMIZERS[optimizer]())
    S, A, Rn, In, S_next = random_transitions(env, 8)
    # Shared: another head on the same body, updated on its own before and between.
    neighbour = plugrl.V(func, head_id="neighbour") if shared else None
    if neighbour is not None:
        neighbour.batch_update(S, Rn, In, S_next)
    _, update = build(kind, func, other)
    before = [w.copy() for w in func.get_weights()]
    update(S, A, Rn, In, S_next)
    if neighbour is not None:
        neighbour.batch_update(S, Rn, In, S_next)
    update(S, A, Rn, In, S_next)
    after = func.get_weights()
    assert all(np.all(np.isfinite(w)) for w in after)
    assert any(not np.array_equal(b, a) for b, a in zip(before, after))
