"""Recurrent on-policy agents: states through rollouts, sequence updates, resume, the seeds' API."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import plugrl
from plugrl._backend import keras
from plugrl.agents import A2C, PPO, PPO2
from plugrl.agents.on_policy.fast_path import FastTrainer
from plugrl.agents.on_policy.learner import update_coefficients
from plugrl.agents.on_policy.recurrent import RecurrentLearner, rollout_sequences, sequence_batch
from plugrl.envs.jax import make

#: Small recurrent agents: 3 envs so that episodes end at different steps in each.
SMALL = dict(recurrent="lstm", lstm_hidden_size=8, hidden_sizes=(8,), n_steps=24, num_envs=3,
             batch_size=24, num_epoch=2)


def reference_rollout_values(learner: RecurrentLearner, S, done_before, state0):
    """The values of a rollout recomputed one env and one step at a
    time (no scan, no batching), resetting each env's state by hand after its episode ends."""
    T, N = S.shape[:2]
    V = np.zeros((T, N), np.float32)
    for i in range(N):
        state = jax.tree_util.tree_map(lambda x, i=i: np.asarray(x)[i:i + 1], state0)
        for t in range(T):
            if done_before[t, i]:
                state = learner.initial_state(1)
            _, v, state = learner.step_outputs(S[t, i:i + 1], state)
            V[t, i] = v[0]
    return V


def test_state_resets_exactly_at_episode_starts_with_autoreset():
    agent = PPO("CartPole-v1", seed=1, **SMALL)
    agent.fit(agent.config.n_steps * 3)  # the next rollout starts in the middle of episodes
    agent.rnn_states.start_rollout()
    state0 = agent.rnn_states.rollout_start
    starts_before = agent.sampler.episode_starts
    rollout = agent.sampler.collect(agent._act)
    done = rollout.terminated | rollout.truncated
    assert done.any(axis=0).all(), "every env should end an episode inside the rollout"
    starts = rollout.info["episode_start"]
    np.testing.assert_array_equal(starts[0], starts_before)
    np.testing.assert_array_equal(starts[1:], done[:-1])  # same-step autoreset: S[t+1] is a reset
    V = reference_rollout_values(agent.learner, rollout.S, starts, state0)
    np.testing.assert_allclose(rollout.info["V"], V, rtol=1e-5, atol=1e-6)
    # Without the resets the values differ: the test can tell.
    V_no_reset = reference_rollout_values(agent.learner, rollout.S, np.zeros_like(starts), state0)
    assert not np.allclose(V_no_reset, V, atol=1e-6)


def test_fast_path_state_resets_exactly_at_episode_starts():
    agent = PPO(make("CartPole-v1"), seed=2, **{**SMALL, "sequence_length": 8})
    trainer = FastTrainer(agent.learner, agent.jax_env, agent.jax_env.default_params, 1)
    carry = trainer.start(agent.learner.state, np.asarray(jax.random.PRNGKey(0)))
    # Two rollouts: the second starts with states carried over (and some envs mid-episode).
    for _ in range(2):
        key, randomness, _, _ = trainer.draw(carry.key)
        carry, rollout = trainer.collect(carry._replace(key=key), randomness)
    done = np.asarray(rollout.done)
    starts = np.asarray(rollout.starts)
    np.testing.assert_array_equal(starts[1:], done[:-1])
    assert done.any()
    V = reference_rollout_values(agent.learner, np.asarray(rollout.S), starts, rollout.state0)
    np.testing.assert_allclose(np.asarray(rollout.V), V, rtol=1e-5, atol=1e-6)
    # The states recorded before every step (chunked sequences start from them).
    for first, recorded in zip(jax.tree_util.tree_leaves(rollout.state0),
                               jax.tree_util.tree_leaves(rollout.states)):
        np.testing.assert_array_equal(np.asarray(recorded)[0], np.asarray(first))


def random_sequences(learner: RecurrentLearner, T: int, N: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(T, N, 4)).astype(np.float32)
    starts = rng.random((T, N)) < 0.2
    state0 = jax.tree_util.tree_map(lambda x: rng.normal(size=x.shape).astype(np.float32),
                                    learner.initial_state(N))
    steps = {"A": rng.integers(0, 2, (T, N)), "logP": np.full((T, N), np.log(0.5), np.float32),
             "V": rng.normal(size=(T, N)).astype(np.float32),
             "Adv": rng.normal(size=(T, N)).astype(np.float32),
             "R": rng.normal(size=(T, N)).astype(np.float32)}
    return S, starts, state0, steps


@pytest.mark.parametrize("config", [dict(), dict(recurrent="gru", shared_network=True),
                                    dict(enable_critic_lstm=False)])
def test_sequence_minibatch_gradients_equal_a_per_step_reference(config):
    agent = PPO("CartPole-v1", seed=0, **{**SMALL, "n_steps": 6, "batch_size": 12, **config})
    learner: RecurrentLearner = agent.learner
    T, N, envs = 6, 3, np.array([2, 0])
    S, starts, state0, steps = random_sequences(learner, T, N)
    batch = sequence_batch(S, starts, state0, steps)
    minibatch = jax.tree_util.tree_map(lambda x: x[envs], batch)
    coefficients = update_coefficients(agent.config, 0.0)
    state = learner.state

    def sequence_loss(params):
        return learner.loss(params, state, minibatch, None, coefficients)[0]

    def reference_loss(params):
        # One env and one step at a time, time-major order as the learner flattens (t, env).
        Zs, Vs = {}, {}
        for i in envs:
            h = jax.tree_util.tree_map(lambda x, i=i: x[i:i + 1], state0)
            for t in range(T):
                if starts[t, i]:
                    h = learner.initial_state(1)
                Zs[t, i], Vs[t, i], h = learner.forward_step(params, state.non_trainable, S[t, i:i + 1], h)
        order = [(t, i) for t in range(T) for i in envs]
        Z = jax.tree_util.tree_map(lambda *z: jnp.concatenate(z), *[Zs[k] for k in order])
        V = jnp.concatenate([Vs[k] for k in order])
        flat = {k: jnp.stack([steps[k][t, i] for t, i in order]) for k in ("A", "logP", "V", "Adv", "R")}
        return learner.loss_of_outputs(Z, V, state, flat, coefficients)[0]

    loss, grads = jax.value_and_grad(sequence_loss)(state.params)
    ref_loss, ref_grads = jax.value_and_grad(reference_loss)(state.params)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
    for g, r in zip(jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(ref_grads)):
        np.testing.assert_allclose(g, r, rtol=2e-4, atol=1e-6)
    assert sum(float(jnp.abs(g).sum()) for g in jax.tree_util.tree_leaves(grads)) > 0


def test_minibatches_are_whole_env_sequences():
    agent = PPO("CartPole-v1", seed=0, **{**SMALL, "num_envs": 4, "batch_size": 48})
    indices = agent.learner.shuffles(24 * 4, np.random.default_rng(0))
    assert indices.shape == (2, 2, 2)  # epochs, minibatches, envs of 24 steps each
    assert all(sorted(epoch.ravel()) == [0, 1, 2, 3] for epoch in indices)


@pytest.mark.parametrize("agent_class", [A2C, PPO2])
def test_recurrent_resume_is_bit_exact(agent_class, tmp_path):
    config = dict(SMALL, seed=4, model_dir=str(tmp_path / agent_class.__name__))
    steps = SMALL["n_steps"] * SMALL["num_envs"]
    straight = agent_class("CartPole-v1", **{**config, "model_dir": str(tmp_path / "straight")})
    straight.fit(4 * steps)
    first = agent_class("CartPole-v1", **config)
    first.fit(2 * steps)
    resumed = agent_class("CartPole-v1", **config)
    resumed.fit(2 * steps, restore=True)
    for a, b in zip(straight.learner.get_weights(), resumed.learner.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(jax.tree_util.tree_leaves(straight.rnn_states.rollout),
                    jax.tree_util.tree_leaves(resumed.rnn_states.rollout)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert straight.history[-1]["mean_return"] == resumed.history[-1]["mean_return"]


class LSTMPolicy(plugrl.policies.Policy):
    """DeepChem's recurrent policy: states in, 'rnn_state' outputs out."""

    def __init__(self):
        super().__init__(["action_prob", "value", "rnn_state", "rnn_state"],
                         rnn_initial_states=[np.zeros(8), np.zeros(8)])

    def create_model(self, **kwargs):
        S, h, c = keras.Input((4,)), keras.Input((8,)), keras.Input((8,))
        X, (h1, c1) = keras.layers.LSTMCell(8)(S, [h, c])
        probs = keras.layers.Dense(2, activation="softmax")(X)
        return keras.Model([S, h, c], [probs, keras.layers.Dense(1)(X), h1, c1])


def test_deepchem_use_saved_states_and_save_states():
    agent = A2C("CartPole-v1", LSTMPolicy(), seed=0, n_steps=8, num_envs=2)
    agent.fit(32)
    s1, s2 = np.full(4, 0.5, np.float32), np.full(4, -0.3, np.float32)
    fresh = agent.predict(s1, use_saved_states=False, save_states=False)
    assert np.allclose(agent.predict(s1)[0], fresh[0])  # nothing saved yet: the initial states
    second = agent.predict(s2)  # from the states saved by the call before
    assert not np.allclose(second[0], agent.predict(s2, use_saved_states=False, save_states=False)[0])
    # save_states=False keeps the saved states: the same call twice gives the same output.
    kept = agent.predict(s1, save_states=False)
    np.testing.assert_array_equal(agent.predict(s1, save_states=False)[0], kept[0])
    # use_saved_states=False restarts, and with save_states the restarted states are kept.
    agent.predict(s1, use_saved_states=False)
    np.testing.assert_array_equal(agent.predict(s2)[0], second[0])
    # select_action shares the saved states.
    agent.predict(s1, use_saved_states=False)
    greedy = agent.select_action(s2, deterministic=True, save_states=False)
    assert greedy == int(np.argmax(second[0]))


def test_tf_agents_policy_and_value_states():
    agent = PPO("CartPole-v1", seed=0, **SMALL)
    S = np.random.default_rng(0).normal(size=(5, 2, 4)).astype(np.float32)
    state = agent.get_initial_state(2)
    assert [[x.shape for x in part] for part in state] == [[(2, 8), (2, 8)], [(2, 8), (2, 8)]]
    assert [x.shape for x in agent.get_initial_value_state()] == [(8,), (8,)]
    values = []
    for t in range(5):
        step = agent.action(S[t], state, seed=t)
        values.append(step.info["value_prediction"])
        state = step.state
    # The value network run over the time series from its initial state gives the same values.
    V, value_state = agent.apply_value_network(S.swapaxes(0, 1))
    np.testing.assert_allclose(V, np.stack(values, axis=1), rtol=1e-5, atol=1e-6)
    for a, b in zip(value_state, state[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # A FIRST step type resets the state.
    first = agent.distribution(type("TimeStep", (), {"observation": S[0], "step_type": np.zeros(2)})(), state)
    initial = agent.distribution(S[0], agent.get_initial_state(2))
    np.testing.assert_allclose(first.action.logits, initial.action.logits, rtol=1e-6)
    np.testing.assert_allclose(first.state[0][0], initial.state[0][0], rtol=1e-6)
    carried = agent.distribution(S[0], state)
    assert not np.allclose(carried.state[0][0], initial.state[0][0])


def test_feed_forward_agent_rejects_a_policy_state():
    agent = PPO("CartPole-v1", seed=0, n_steps=16, hidden_sizes=(8,))
    assert agent.get_initial_state(3) == () and agent.get_initial_value_state() == ()
    with pytest.raises(ValueError, match="policy_state: expected \\(\\)"):
        agent.action(np.zeros((2, 4), np.float32), policy_state=(np.zeros((2, 3)),))


def test_evaluation_starts_each_episode_from_the_initial_state_and_keeps_saved_states():
    agent = PPO("CartPole-v1", seed=0, **SMALL)
    agent.predict(np.full(4, 0.1, np.float32))
    saved = jax.tree_util.tree_leaves(agent.rnn_states.saved)
    first = agent.evaluate(2, return_episode_rewards=True)
    assert first == agent.evaluate(2, return_episode_rewards=True)
    for a, b in zip(saved, jax.tree_util.tree_leaves(agent.rnn_states.saved)):
        np.testing.assert_array_equal(a, b)


def test_recurrent_critic_with_gae_object_or_min_rollouts_is_an_error():
    with pytest.raises(ValueError, match="min_rollouts: a recurrent policy"):
        PPO("CartPole-v1", recurrent="lstm", min_rollouts=2)
    with pytest.raises(ValueError, match="recurrent: expected one of"):
        PPO("CartPole-v1", recurrent="rnn")


def test_chunked_sequences_start_from_the_recorded_states():
    """Sequences of ``sequence_length`` steps start from the states recorded at collection: under
    the weights that collected the rollout, their loss is the loss of the whole columns."""
    agent = PPO("CartPole-v1", seed=5, **{**SMALL, "sequence_length": 6})
    agent.fit(agent.config.n_steps * 3)
    agent.rnn_states.start_rollout()
    rollout = agent.sampler.collect(agent._act)
    learner = agent.learner
    S = agent._normalize(rollout.S.reshape(-1, 4)).reshape(rollout.S.shape)
    S_next = agent._normalize(rollout.S_next.reshape(-1, 4)).reshape(rollout.S.shape)
    chunks = rollout_sequences(learner, rollout, agent.rnn_states.rollout_start, S, S_next)
    T, N = rollout.R.shape
    assert chunks["S"].shape == (T // 6 * N, 6, 4)
    np.testing.assert_array_equal(chunks["S"][2 * N + 1], S[12:18, 1])  # chunk k * N + n
    columns = sequence_batch(S, rollout.info["episode_start"], agent.rnn_states.rollout_start,
                             {k: chunks[k].reshape(T // 6, N, 6).swapaxes(1, 2).reshape(T, N)
                              for k in ("A", "logP", "V", "Adv", "R")})
    coefficients = update_coefficients(agent.config, 0.0)
    state = learner.state
    whole = learner.loss(state.params, state, columns, None, coefficients)[1][1]
    cut = learner.loss(state.params, state, chunks, None, coefficients)[1][1]
    for name in ("PPOClip/entropy", "RecurrentLearner/value_loss"):
        np.testing.assert_allclose(cut[name], whole[name], rtol=1e-5)
    # The first chunk of each env starts from the rollout's initial state.
    np.testing.assert_allclose(chunks["state0"][0][0][:N], np.asarray(agent.rnn_states.rollout_start[0][0]))


def test_sequence_length_must_divide_n_steps():
    with pytest.raises(ValueError, match="sequence_length: expected a divisor of n_steps=24"):
        PPO("CartPole-v1", **{**SMALL, "sequence_length": 7})


def test_train_many_vmaps_recurrent_runs_over_seeds():
    agent = PPO(make("CartPoleNoVel-v1"), seed=0, **{**SMALL, "num_envs": 2, "n_steps": 16, "batch_size": 16,
                                                   "eval_episodes": 2})
    runs = agent.train_many([0, 1], 64, eval_interval=32)
    returns = np.asarray(runs.eval_returns)
    assert returns.shape == (2, 2) and np.isfinite(returns).all()


def test_none_from_the_command_line_is_a_feed_forward_network():
    from plugrl.agents.presets import coerce_field

    assert coerce_field("recurrent", "none") is None and coerce_field("recurrent", "gru") == "gru"


@pytest.mark.parametrize("fast", [False, True])
def test_gaussian_recurrent_policy_on_both_paths(fast):
    env = make("Pendulum-v1") if fast else "Pendulum-v1"
    agent = PPO(env, seed=0, **{**SMALL, "recurrent": "gru", "num_envs": 2, "n_steps": 16,
                                "batch_size": 16, "sequence_length": 8, "std_init": 0.5})
    before = [np.copy(w) for w in agent.learner.get_weights()]
    agent.fit(64)
    assert any(not np.array_equal(a, b) for a, b in zip(before, agent.learner.get_weights()))
    mean, std, value = agent.predict(np.ones(3, np.float32))
    assert mean.shape == std.shape == (1,) and abs(float(std[0]) - 0.5) < 0.05 and np.isfinite(value)
    step = agent.action(np.ones((2, 3), np.float32), agent.get_initial_state(2))
    assert step.action.shape == (2, 1) and step.info["dist_params"]["scale"].shape == (2, 1)
