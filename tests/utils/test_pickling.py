"""Every public concept object pickles: the copy gives the same outputs and keeps training
exactly as the original (DeepChem needs policies to pickle; multiprocessing and Ray need it)."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import optax
import pytest
from batches import random_transitions

import plugrl
from plugrl._backend import keras


class UserMLP(plugrl.FunctionApproximator):
    """A user's function approximator, defined at module level."""

    def body(self, S):
        return keras.layers.Dense(8, activation="tanh")(S)



def make(kind, env, optimizer):
    """(object, outputs(obj, batch), update(obj, batch)) for each concept class."""
    kwargs = {"keras": {"optimizer": keras.optimizers.Adam(0.01)},
              # a user's optax chain: nested functions, which plain pickle cannot store
              "optax": {"optimizer": optax.chain(optax.clip_by_global_norm(1.0), optax.adam(0.01))},
              "default": {"lr": 0.01}}[optimizer]
    func = UserMLP(env, random_seed=0, **kwargs)
    if kind == "V":
        return (plugrl.V(func), lambda o, b: o.batch_eval(b[0]),
                lambda o, b: o.batch_update(b[0], b[2], b[3], b[4]))
    if kind in ("QTypeI", "QTypeII"):
        return (getattr(plugrl, kind)(func), lambda o, b: o.batch_eval(b[0], b[1]),
                lambda o, b: o.batch_update(*b))
    if kind == "EpsilonGreedy":
        return (plugrl.EpsilonGreedy(plugrl.QTypeII(func), epsilon=0.5, random_seed=0),
                lambda o, b: [o(s) for s in b[0]], lambda o, b: o.q_function.batch_update(*b))
    if kind in ("SoftmaxPolicy", "GaussianPolicy"):
        pi = getattr(plugrl, kind)(func, update_strategy="ppo", random_seed=0)
        return (pi, lambda o, b: (o.batch_eval(b[0]), [o(s) for s in b[0]]),
                lambda o, b: o.batch_update(b[0], b[1], b[2]))
    policy_class = plugrl.SoftmaxPolicy if func.action_is_discrete else plugrl.GaussianPolicy
    if kind == "ActorCritic":
        ac = plugrl.ActorCritic(policy_class(func, update_strategy="ppo", random_seed=0), plugrl.V(func))
    else:
        ac = plugrl.SoftActorCritic.from_func(func, random_seed=0)
    return (ac, lambda o, b: (o.batch_eval(b[0]), [o(s) for s in b[0]]),
            lambda o, b: o.batch_update(*b))


def weights(obj):
    funcs = {id(f): f for f in (getattr(obj, "function_approximator", None),
                                getattr(getattr(obj, "q_function", None), "function_approximator", None),
                                getattr(getattr(obj, "policy", None), "function_approximator", None))
             if f is not None}
    return [w for f in funcs.values() for w in f.get_weights()]


def assert_same(x, y):
    """Equal nested tuples/lists of arrays and numbers."""
    if isinstance(x, (tuple, list)):
        assert isinstance(y, (tuple, list)) and len(x) == len(y)
        for a, b in zip(x, y):
            assert_same(a, b)
    else:
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))

KINDS = [("V", "cartpole"), ("QTypeI", "cartpole"), ("QTypeII", "cartpole"),
         ("EpsilonGreedy", "cartpole"), ("SoftmaxPolicy", "cartpole"),
         ("GaussianPolicy", "real_pendulum"), ("ActorCritic", "cartpole"),
         ("ActorCritic", "real_pendulum"), ("SoftActorCritic", "cartpole")]


@pytest.mark.parametrize("optimizer", ["default", "keras", "optax"])
@pytest.mark.parametrize("kind, env_name", KINDS)
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_round_trip_gives_same_outputs_and_training(kind, env_name, optimizer, how, request):
    env = request.getfixturevalue(env_name)
    obj, outputs, update = make(kind, env, optimizer)
    batch = random_transitions(env, 6)
    update(obj, batch)  # an optimizer state and a train state that are not the initial ones
    clone = pickle.loads(pickle.dumps(obj)) if how == "pickle" else copy.deepcopy(obj)
    assert type(clone) is type(obj)
    for a, b in zip(weights(obj), weights(clone)):
        np.testing.assert_array_equal(a, b)
    assert_same(outputs(obj, batch), outputs(clone, batch))
    update(obj, batch)
    update(clone, batch)
    for a, b in zip(weights(obj), weights(clone)):
        np.testing.assert_array_equal(a, b)
    assert_same(outputs(obj, batch), outputs(clone, batch))


def test_function_approximator_of_a_user_subclass_pickles_with_its_heads(cartpole):
    func = UserMLP(cartpole, random_seed=0)
    v, q = plugrl.V(func), plugrl.QTypeII(func)
    clone_v, clone_q = pickle.loads(pickle.dumps((v, q)))
    assert type(clone_v.function_approximator) is UserMLP
    assert clone_v.function_approximator is clone_q.function_approximator
    S = random_transitions(cartpole, 6)[0]
    np.testing.assert_array_equal(clone_q.batch_eval(S), q.batch_eval(S))


@pytest.mark.parametrize("cache", ["NStepCache", "MonteCarloCache", "ExperienceReplayBuffer",
                                   "PrioritizedReplayBuffer"])
def test_caches_pickle_with_their_contents(cache, cartpole):
    cls = getattr(plugrl.caching, cache)
    args = {"NStepCache": (cartpole, 2, 0.9), "MonteCarloCache": (cartpole, 0.9)}.get(
        cache, (cartpole, 100, 4))
    obj = cls(*args)
    S, A, Rn, _, _ = random_transitions(cartpole, 6)
    for i in range(5):
        obj.add(S[i], A[i], float(Rn[i]), i == 4)
    clone = pickle.loads(pickle.dumps(obj))
    assert len(clone) == len(obj)
    if cache in ("NStepCache", "MonteCarloCache"):
        while obj:
            assert_same(tuple(obj.pop()), tuple(clone.pop()))
        assert not clone
    else:  # same contents and the same generator: the same sample
        assert_same(tuple(obj.sample()), tuple(clone.sample()))


@pytest.mark.parametrize("kind", ["V", "ActorCritic"])
def test_pending_transitions_of_an_n_step_cache_survive_a_round_trip(kind, cartpole):
    """``update(s, a, r, done)`` holds transitions in an n-step cache until their return is
    known; a copy taken in between keeps them and trains exactly as the original."""
    func = UserMLP(cartpole, random_seed=0)
    obj = (plugrl.V(func, bootstrap_n=3) if kind == "V" else
           plugrl.ActorCritic(plugrl.SoftmaxPolicy(func, random_seed=0), plugrl.V(func, bootstrap_n=3)))
    S, A, Rn, _, _ = random_transitions(cartpole, 6)
    update = ((lambda o, i: o.update(S[i], float(Rn[i]), i == 4)) if kind == "V" else
              (lambda o, i: o.update(S[i], int(A[i]), float(Rn[i]), i == 4)))
    for i in range(2):
        update(obj, i)
    clone = pickle.loads(pickle.dumps(obj))
    for i in range(2, 5):
        update(obj, i)
        update(clone, i)
    for a, b in zip(weights(obj), weights(clone)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, env_id, steps", [("DQN", "CartPole-v1", 200),
                                                 ("PPO", "CartPole-v1", 2048),
                                                 ("SAC", "Pendulum-v1", 200)])
def test_agents_pickle_and_keep_training_identically(name, env_id, steps):
    agent = getattr(plugrl.agents, name)(env_id, seed=0)
    agent.fit(steps)
    clone = pickle.loads(pickle.dumps(agent))
    env = gym.make(env_id)
    env.observation_space.seed(0)
    observations = [env.observation_space.sample() for _ in range(4)]
    for s in observations:
        np.testing.assert_array_equal(agent.select_action(s, True), clone.select_action(s, True))
    agent.fit(2 * steps)
    clone.fit(2 * steps)
    assert clone.num_steps == agent.num_steps
    for a, b in zip(keras.tree.flatten(agent.learner.state), keras.tree.flatten(clone.learner.state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for s in observations:
        np.testing.assert_array_equal(agent.select_action(s, True), clone.select_action(s, True))
