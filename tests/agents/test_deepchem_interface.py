"""DeepChem's interface to A2C and PPO (seed 002): its hyperparameter names with their effects,
``optimizer=``, ``Policy`` subclasses for discrete and continuous actions, and ``predict``'s forms."""

from __future__ import annotations

import numpy as np
import optax
import pytest

import plugrl
from plugrl._backend import keras
from plugrl.agents import A2C, PPO, REINFORCE
from plugrl.agents.config import OnPolicyConfig, build_config
from plugrl.agents.on_policy.learner import update_coefficients

SMALL = dict(n_steps=16, num_envs=2, hidden_sizes=(16,))


class DiscretePolicy(plugrl.policies.Policy):
    def __init__(self, names=("action_prob", "value"), value_units=1, rnn_initial_states=None):
        super().__init__(list(names), rnn_initial_states)
        self.value_units = value_units

    def create_model(self, **kwargs):
        S = keras.Input((4,))
        X = keras.layers.Dense(16, activation="tanh")(S)
        outputs = {"action_prob": keras.layers.Dense(2, activation="softmax")(X),
                   "value": keras.layers.Dense(self.value_units)(X),
                   "rnn_state": keras.layers.Dense(3)(X)}
        return keras.Model(S, [outputs[n] for n in self.output_names])


class ContinuousPolicy(plugrl.policies.Policy):
    def __init__(self, mean_units=1):
        super().__init__(["action_mean", "action_std", "value"])
        self.mean_units = mean_units

    def create_model(self, **kwargs):
        S = keras.Input((3,))
        X = keras.layers.Dense(16, activation="tanh")(S)
        mean = keras.layers.Dense(self.mean_units)(X)
        std = keras.layers.Dense(1, activation="softplus")(X)
        return keras.Model(S, [mean, std, keras.layers.Dense(1)(X)])


def batch_of(agent, size=32, seed=0):
    """A batch as the learner trains on it, with logP of the current policy."""
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(size, 4)).astype(np.float32)
    info = agent.learner.act(S, agent.learner.policy.noise_block(size, rng))
    return {"S": S, "A": info["A"], "logP": info["logP"], "V": info["V"],
            "Adv": np.ones(size, np.float32), "R": rng.normal(size=size).astype(np.float32)}


def loss_of(agent, batch):
    learner = agent.learner
    loss, (_, metrics) = learner.loss(learner.state.params, learner.state, batch, None,
                                      update_coefficients(agent.config, 0.0))
    return float(loss), {k: float(v) for k, v in metrics.items()}


# ------------------------------------------------------------------ names and their effects
def test_discount_factor_and_advantage_lambda_reach_the_advantages():
    agent = A2C("CartPole-v1", seed=0, discount_factor=0.5, advantage_lambda=0.25, **SMALL)
    assert agent.config.gamma == 0.5 and agent.config.gae_lambda == 0.25
    R, V, V_next = np.ones((2, 1)), np.zeros((2, 1)), np.ones((2, 1))
    done = np.zeros((2, 1), bool)
    Adv, _ = agent.learner.advantages(R, V, V_next, done, done)
    delta = 1 + 0.5 * 1 - 0
    np.testing.assert_allclose(Adv[:, 0], [delta + 0.5 * 0.25 * delta, delta], rtol=1e-6)


@pytest.mark.parametrize("name, field, values", [("value_weight", "vfcn_coeff", (1.0, 3.0)),
                                                 ("entropy_weight", "entropy_coeff", (0.0, 0.5))])
def test_loss_weights_reach_the_loss(name, field, values):
    losses = []
    for value in values:
        agent = PPO("CartPole-v1", seed=0, **{name: value}, **SMALL)
        assert getattr(agent.config, field) == value
        loss, metrics = loss_of(agent, batch_of(agent))
        losses.append(loss)
    change = values[1] - values[0]
    expected = (change * metrics["OnPolicyLearner/value_loss"] if field == "vfcn_coeff"
                else -change * metrics["PPOClip/entropy"])
    np.testing.assert_allclose(losses[1] - losses[0], expected, rtol=1e-4)


def test_clipping_width_clips_the_ratio():
    losses = {}
    for width in (0.1, 0.3):
        agent = PPO("CartPole-v1", seed=0, clipping_width=width, standardize_advantages=False, **SMALL)
        assert agent.config.clip == width
        batch = batch_of(agent)
        batch["logP"] = batch["logP"] - 0.5  # ratio e^0.5 > 1 + width: the clipped side counts
        losses[width], _ = loss_of(agent, batch)
    np.testing.assert_allclose(losses[0.1] - losses[0.3], 0.2, rtol=1e-4)  # -(1 + width) * Adv


def test_optimization_rollouts_are_parallel_rollouts_of_max_rollout_length():
    agent = PPO("CartPole-v1", seed=0, optimization_rollouts=3, max_rollout_length=10,
                hidden_sizes=(16,)).fit(30)
    assert agent.config.num_envs == 3 and agent.envs.num_envs == 3
    assert agent.config.n_steps == 10 and agent.num_steps == 30 and len(agent.history) == 1


def test_optimization_epochs_and_batch_size_zero_shape_the_update():
    agent = PPO("CartPole-v1", seed=0, optimization_epochs=3, batch_size=0, max_rollout_length=20,
                optimization_rollouts=2, hidden_sizes=(16,))
    assert agent.config.num_epoch == 3 and agent.config.batch_size == 20  # one rollout's size
    indices = agent.learner.shuffles(40, np.random.default_rng(0))
    assert indices.shape == (3, 2, 20)  # 3 epochs of 2 batches of one rollout's size
    agent.fit(40)
    assert agent.num_steps == 40


def test_default_batch_size_is_capped_at_the_rollout_but_an_explicit_one_is_not():
    agent = PPO("CartPole-v1", seed=0, max_rollout_length=20, hidden_sizes=(16,))
    assert agent.config.batch_size == 20
    agent.fit(40)
    assert agent.num_steps == 40
    assert PPO("CartPole-v1", seed=0, max_rollout_length=200, hidden_sizes=(16,)).config.batch_size == 64
    with pytest.raises(ValueError, match="batch_size: expected at most n_steps \\* num_envs = 20"):
        PPO("CartPole-v1", max_rollout_length=20, batch_size=64)
    # The CLI and presets validate through build_config: the same rule there.
    assert build_config(OnPolicyConfig, PPO.DEFAULTS, {"max_rollout_length": 20}).batch_size == 20


@pytest.mark.parametrize("agent_class", [A2C, REINFORCE])
def test_a2c_and_reinforce_take_one_step_per_rollout_of_any_length(agent_class):
    agent = agent_class("CartPole-v1", seed=0, max_rollout_length=20, optimization_rollouts=3,
                        hidden_sizes=(16,))
    assert agent.config.batch_size == 60  # DeepChem's A2C: one gradient step per rollout
    assert agent.learner.shuffles(60, np.random.default_rng(0)).shape == (1, 1, 60)
    assert agent_class("CartPole-v1", max_rollout_length=20, batch_size=10).config.batch_size == 10


# ------------------------------------------------------------------ optimizer
def first_step(optimizer=None, **config):
    agent = PPO("CartPole-v1", seed=0, optimizer=optimizer, num_epoch=1, batch_size=32, **SMALL, **config)
    batch = batch_of(agent)
    before = agent.learner.get_weights()
    agent.learner.update(batch, update_coefficients(agent.config, 0.0), np.zeros(2, np.uint32),
                         np.arange(32, dtype=np.int32)[None, None])
    return [a - b for a, b in zip(agent.learner.get_weights(), before)]


def test_optimizer_is_used_instead_of_adam():
    sgd = first_step(optax.sgd(0.1), max_grad_norm=None)
    sgd_twice = first_step(keras.optimizers.SGD(learning_rate=0.2), max_grad_norm=None)
    adam = first_step(max_grad_norm=None, lr=0.1)
    for a, b in zip(sgd, sgd_twice):
        np.testing.assert_allclose(2 * a, b, rtol=1e-4, atol=1e-7)  # SGD: the step is lr * gradient
    moved = np.concatenate([np.abs(d).ravel() for d in adam])
    moved = moved[moved > 0]
    np.testing.assert_allclose(moved, 0.1, rtol=1e-2)  # Adam's first step: lr per weight
    assert not all(np.allclose(a, b) for a, b in zip(sgd, adam))


def test_gradient_clipping_applies_before_the_optimizer():
    step = first_step(optax.sgd(1.0), max_grad_norm=1e-3)
    norm = np.sqrt(sum(float(np.sum(d.astype(np.float64) ** 2)) for d in step))
    np.testing.assert_allclose(norm, 1e-3, rtol=1e-3)


def test_lr_with_an_optimizer_is_an_error():
    with pytest.raises(ValueError, match="lr: expected no learning rate with an optimizer"):
        PPO("CartPole-v1", optimizer=optax.sgd(0.1), lr=0.1)


# ------------------------------------------------------------------ std_init
def test_std_init_sets_the_initial_std(pendulum):
    s, _ = pendulum.reset(seed=0)
    for std_init in (1.0, 0.3):
        agent = PPO("Pendulum-v1", seed=0, std_init=std_init, **SMALL)
        mean, std, value = agent.predict(s)
        np.testing.assert_allclose(std, [std_init], rtol=1e-5)
        samples = agent.action(np.repeat(s[None], 4000, 0), seed=0).info
        np.testing.assert_allclose(samples["dist_params"]["scale"], std_init, rtol=1e-5)
    with pytest.raises(ValueError, match="std_init: expected a float > 0"):
        PPO("Pendulum-v1", std_init=0.0)


# ------------------------------------------------------------------ Policy
def test_policy_is_the_second_argument_and_predict_gives_deepchem_forms():
    policy = DiscretePolicy()
    agent = A2C("CartPole-v1", policy, seed=0, **SMALL)
    probs, value = agent.predict(np.zeros(4, np.float32) + 0.1)
    model = policy.create_model()  # the same architecture: the agent trains its own copy
    assert probs.shape == (2,) and isinstance(value, float) and np.isclose(probs.sum(), 1.0)
    assert len(agent.learner.get_weights()) == len(model.trainable_weights)  # no new layers
    # DeepChem's recurrent-state flags change nothing without recurrent states, as in DeepChem.
    np.testing.assert_array_equal(agent.predict(np.ones(4), use_saved_states=False, save_states=False)[0],
                                  agent.predict(np.ones(4))[0])
    same = A2C("CartPole-v1", DiscretePolicy(), seed=0, **SMALL)
    np.testing.assert_array_equal(same.predict(np.ones(4))[0], agent.predict(np.ones(4))[0])


def test_policy_probabilities_and_value_are_the_models():
    agent = A2C("CartPole-v1", DiscretePolicy(value_units=1), seed=0, **SMALL)
    model = agent.learner.policy.function_approximator.model  # the model the agent trains
    S = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    probs, V = (np.asarray(x) for x in model(S))
    for s, p, v in zip(S, probs, V[:, 0]):
        got_p, got_v = agent.predict(s)
        np.testing.assert_allclose(got_p, p, rtol=1e-5)
        np.testing.assert_allclose(got_v, v, rtol=1e-5, atol=1e-6)


def test_continuous_policy_trains_and_predicts_mean_std_value(pendulum):
    agent = PPO("Pendulum-v1", ContinuousPolicy(), seed=0, **SMALL)
    s, _ = pendulum.reset(seed=0)
    model = agent.learner.policy.function_approximator.model
    mean, std, value = (np.asarray(x)[0] for x in model(s[None].astype(np.float32)))
    got = agent.predict(s)
    assert isinstance(got, list) and len(got) == 3 and isinstance(got[2], float)
    np.testing.assert_allclose(got[0], mean, rtol=1e-5)
    np.testing.assert_allclose(got[1], std, rtol=1e-4)
    np.testing.assert_allclose(got[2], value[0], rtol=1e-5, atol=1e-6)
    agent.fit(64)
    assert np.isfinite(agent.history[-1]["OnPolicyLearner/loss"])
    assert not np.allclose(agent.predict(s)[0], got[0])  # it trained


@pytest.mark.parametrize("env, policy, match", [
    ("CartPole-v1", DiscretePolicy(["action_prob"]),
     "output_names: expected the outputs \\['action_prob', 'value'\\]"),
    ("CartPole-v1", DiscretePolicy(value_units=3), "output 'value': expected an output of shape"),
    ("CartPole-v1", DiscretePolicy(["action_prob", "value", "rnn_state"]),
     "'rnn_state' outputs belong to recurrent policies, which need rnn_initial_states"),
    ("CartPole-v1", DiscretePolicy(rnn_initial_states=[np.zeros(3)]),
     "output_names: expected one 'rnn_state' output per initial state"),
    ("Pendulum-v1", DiscretePolicy(), "output_names: expected the outputs \\['action_mean', 'action_std'"),
    ("Pendulum-v1", ContinuousPolicy(mean_units=2), "output 'action_mean': expected an output of shape"),
])
def test_invalid_policies_are_clear_errors(env, policy, match):
    with pytest.raises(ValueError, match=match):
        A2C(env, policy)


def test_policy_with_other_networks_or_std_init_is_an_error(mlp_class, cartpole):
    with pytest.raises(ValueError, match="function_approximator: expected one way"):
        A2C("CartPole-v1", DiscretePolicy(), function_approximator=mlp_class(cartpole))
    with pytest.raises(ValueError, match="std_init: a DeepChem Policy's model outputs"):
        PPO("Pendulum-v1", ContinuousPolicy(), std_init=0.5)
    with pytest.raises(TypeError, match="policy: expected a plugrl.policies.Policy"):
        A2C("CartPole-v1", object())


def test_policy_agent_saves_and_loads(tmp_path):
    agent = PPO("CartPole-v1", DiscretePolicy(), seed=0, **SMALL).fit(32)
    loaded = PPO.load(agent.save(tmp_path / "agent"), policy=DiscretePolicy())
    s = np.full(4, 0.2, np.float32)
    np.testing.assert_allclose(loaded.predict(s)[0], agent.predict(s)[0], rtol=1e-6)


def test_hindsight_and_recurrent_state_flags_as_deepchem_names_them():
    agent = PPO("CartPole-v1", seed=0, use_hindsight=False, n_steps=32, batch_size=32)
    s = np.zeros(4, np.float32)
    assert agent.select_action(s, True, use_saved_states=False, save_states=False) == \
        agent.select_action(s, deterministic=True)
    with pytest.raises(ValueError, match="use_hindsight: expected an env with DeepChem.s apply_hindsight"):
        PPO("CartPole-v1", use_hindsight=True)
