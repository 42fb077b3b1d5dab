"""TF-Agents' ``PPOPolicy`` interface on PPO (seed 003): separate actor and value networks, an
observation normaliser, ``clip`` (as ``clip_actions``), ``collect``, and ``action``,
``distribution`` and ``apply_value_network`` returning policy steps."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import plugrl
from plugrl._backend import keras
from plugrl.agents import PPO
from plugrl.agents.on_policy.policy_step import PolicyStep
from plugrl.utils.running_moments import RunningNormalizer

SMALL = dict(n_steps=16, num_envs=2, batch_size=16, num_epoch=2)
TimeStep = namedtuple("TimeStep", ["step_type", "reward", "discount", "observation"])


def network(inputs: int, outputs: int, seed: int = 0) -> keras.Model:
    init = keras.initializers.GlorotUniform
    S = keras.Input((inputs,))
    X = keras.layers.Dense(16, activation="tanh", kernel_initializer=init(seed))(S)
    return keras.Model(S, keras.layers.Dense(outputs, kernel_initializer=init(seed + 1))(X))


class Scale:
    """A user's observation normaliser: divides by a constant, counts the observations seen."""

    def __init__(self, factor: float) -> None:
        self.factor, self.seen = factor, 0

    def __call__(self, S):
        return np.asarray(S, np.float32) / self.factor

    def update(self, S):
        self.seen += len(S)


def test_a_tf_agents_users_ppo():
    """What a TF-Agents user writes: actor and value networks, a normaliser, the policy's
    action/distribution/apply_value_network, and the info collected with the rollouts."""
    actor_net, value_net = network(4, 2), network(4, 1, seed=5)
    normalizer = Scale(10.0)
    agent = PPO("CartPole-v1", actor_network=actor_net, value_network=value_net,
                observation_normalizer=normalizer, seed=0, **SMALL)
    observations = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    time_step = TimeStep(np.zeros(3), np.zeros(3), np.ones(3), observations)

    step = agent.action(time_step)
    assert isinstance(step, PolicyStep) and step.state == () and step.action.shape == (3,)
    logits = np.asarray(agent.learner.policy.function_approximator.model(observations / 10.0))
    np.testing.assert_allclose(step.info["dist_params"]["logits"], logits, rtol=1e-5, atol=1e-6)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(step.info["log_probability"], log_probs[np.arange(3), step.action],
                               rtol=1e-5)
    values, value_state = agent.apply_value_network(observations)
    expected = np.asarray(agent.learner.v_func.function_approximator.model(observations / 10.0))[:, 0]
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(step.info["value_prediction"], values, rtol=1e-5, atol=1e-6)
    assert value_state == ()

    dist = agent.distribution(time_step).action
    assert isinstance(dist, plugrl.proba_dists.ProbaDist)
    np.testing.assert_allclose(np.asarray(dist.log_proba(step.action)), step.info["log_probability"],
                               rtol=1e-5)

    agent.fit(64)
    assert normalizer.seen == 64  # updated with each rollout's raw observations
    info = agent.last_rollout.info
    assert info["log_probability"].shape == info["value_prediction"].shape == (16, 2)
    assert info["dist_params"]["logits"].shape == (16, 2, 2)
    assert len(agent.learner.get_weights()) == len(actor_net.weights) + len(value_net.weights)
    agent.keras_models()  # the user's own networks then hold the trained weights
    S = observations / 10.0
    logits = agent.action(observations).info["dist_params"]["logits"]
    np.testing.assert_allclose(np.asarray(actor_net(S)), logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(value_net(S))[:, 0], agent.apply_value_network(observations)[0],
                               rtol=1e-5, atol=1e-6)


def test_action_with_a_seed_is_reproducible_and_state_must_be_empty():
    agent = PPO("CartPole-v1", actor_network=network(4, 2), seed=0, **SMALL)
    S = np.zeros((50, 4), np.float32)
    np.testing.assert_array_equal(agent.action(S, seed=3).action, agent.action(S, seed=3).action)
    single = agent.action(S[0], seed=3)
    assert np.ndim(single.action) == 0 and single.info["log_probability"].shape == ()
    with pytest.raises(ValueError, match="policy_state: expected \\(\\)"):
        agent.action(S, policy_state=np.zeros(3))


def test_continuous_actor_has_a_learned_state_independent_std(pendulum):
    agent = PPO("Pendulum-v1", actor_network=network(3, 1), value_network=network(3, 1), std_init=0.5,
                seed=0, **SMALL)
    S = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    step = agent.action(S, seed=0)
    mean = np.asarray(agent.learner.policy.function_approximator.model(S))
    np.testing.assert_allclose(step.info["dist_params"]["loc"], mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(step.info["dist_params"]["scale"], 0.5, rtol=1e-5)
    agent.fit(64)
    scale = agent.action(S, seed=0).info["dist_params"]["scale"]
    assert np.allclose(scale, scale[0]) and not np.allclose(scale, 0.5)  # learned, state-independent


def test_clip_actions_switches_clipping(pendulum):
    S = np.zeros((200, 3), np.float32)
    for clip_actions in (True, False):
        agent = PPO("Pendulum-v1", seed=0, std_init=5.0, clip_actions=clip_actions, **SMALL)
        A = agent.action(S, seed=0).action
        assert (np.abs(A).max() <= 2.0) == clip_actions
    with pytest.raises(ValueError, match="clip: expected PPO's clipping epsilon.*clip_actions=False"):
        PPO("Pendulum-v1", clip=False)


def test_collect_false_emits_no_info():
    agent = PPO("CartPole-v1", seed=0, collect=False, **SMALL).fit(32)
    assert agent.last_rollout is None
    assert agent.action(np.zeros((2, 4), np.float32)).info == ()


def test_running_normalizer_as_observation_normalizer():
    normalizer = RunningNormalizer((4,))
    agent = PPO("CartPole-v1", observation_normalizer=normalizer, seed=0, **SMALL).fit(32)
    assert agent.observation_normalizer is agent.normalizer is normalizer and normalizer.count == 32


def test_invalid_networks_are_clear_errors():
    with pytest.raises(ValueError, match="actor_network: expected an output of shape \\('batch', 2\\)"):
        PPO("CartPole-v1", actor_network=network(4, 3))
    with pytest.raises(ValueError, match="value_network: expected an output of shape"):
        PPO("CartPole-v1", value_network=network(4, 2))
    with pytest.raises(TypeError, match="actor_network: expected a keras.Model or a FunctionApproximator"):
        PPO("CartPole-v1", actor_network=lambda S: S)
    with pytest.raises(TypeError, match="observation_normalizer: expected an object callable"):
        PPO("CartPole-v1", observation_normalizer=object())


def test_fast_path_runs_user_networks_but_only_plugrls_normalizer():
    import plugrl.envs.jax

    agent = PPO(plugrl.envs.jax.make("CartPole-v1"), actor_network=network(4, 2),
                value_network=network(4, 1, seed=5), seed=0, **SMALL)
    before = agent.learner.get_weights()
    agent.fit(64)
    assert agent.num_steps == 64
    assert not all(np.allclose(a, b) for a, b in zip(agent.learner.get_weights(), before))
    with pytest.raises(ValueError, match="observation_normalizer: the fast path"):
        PPO(plugrl.envs.jax.make("CartPole-v1"), observation_normalizer=Scale(2.0))
