"""DQN: the learner against NumPy references, bad input, and learning CartPole."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from plugrl._backend import keras, prng_key
from plugrl.agents.config import DQNConfig, build_config
from plugrl.agents.off_policy.dqn import (
    DQN,
    DQNLearner,
    epsilon_schedule,
    target_update_weight,
    target_updates_due,
)
from plugrl.presets import load_preset

OBS = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
ACTIONS = gym.spaces.Discrete(4)
K, B = 1, 6


def make_learner(action_space=ACTIONS, seed=0, **config):
    config = build_config(DQNConfig, {}, {"hidden_sizes": (8,), "batch_size": B,
                                          "max_grad_norm": None, **config})
    return DQNLearner(OBS, action_space, config, seed)


def make_batch(rng, k=K, b=B, n=ACTIONS.n, weights=False, n_step=False):
    In = np.full((k, b), 0.9, np.float32)
    if n_step:
        In = (0.9 ** rng.integers(1, 4, (k, b)) * (rng.random((k, b)) < 0.7)).astype(np.float32)
    W = rng.uniform(0.1, 1.0, (k, b)) if weights else np.ones((k, b))
    return {"S": rng.normal(size=(k, b, 3)).astype(np.float32), "A": rng.integers(n, size=(k, b)),
            "Rn": rng.normal(size=(k, b)).astype(np.float32), "In": In,
            "S_next": rng.normal(size=(k, b, 3)).astype(np.float32), "W": W.astype(np.float32)}


# ---------------------------------------------------------------------- learning
def test_dqn_solves_cartpole_with_rl_zoo_preset():
    """A mean greedy return >= 475 at one of the evaluations every 10k env steps, within 100k
    steps. The first ``fit`` runs the preset's budget (50k), so epsilon decays as in RL-Zoo."""
    _, budget = load_preset("DQN", "CartPole-v1")
    agent = DQN.from_preset("CartPole-v1", seed=2)
    scores = []

    def evaluate_every_10k(agent, record):
        if agent.num_steps // 10_000 > len(scores):
            scores.append(agent.evaluate(20))
            return scores[-1] < 475

    agent.fit(budget, callback=evaluate_every_10k)
    if max(scores) < 475:
        agent.fit(100_000, callback=evaluate_every_10k)
    assert max(scores) >= 475, scores


# ---------------------------------------------------------------------- NumPy references
def np_q(weights, S, dueling):
    """Q values of a one-hidden-layer ReLU network, with dueling heads if asked."""
    W0, b0, *heads = [np.asarray(w, np.float64) for w in weights]
    H = np.maximum(S @ W0 + b0, 0.0)
    if not dueling:
        return H @ heads[0] + heads[1]
    Wv, bv, Wa, ba = heads
    Adv = H @ Wa + ba
    return H @ Wv + bv + Adv - Adv.mean(axis=1, keepdims=True)


def np_elementwise_loss(G, Q_sa, loss):
    err = Q_sa - G
    if loss == "mse":
        return err ** 2
    return np.where(np.abs(err) <= 1.0, 0.5 * err ** 2, np.abs(err) - 0.5)


def randomize(learner, rng):
    """Random online weights and different random target weights (heads start at zero)."""
    params = tuple(rng.normal(scale=0.5, size=p.shape).astype(np.float32) for p in learner.state.params)
    targets = tuple(rng.normal(scale=0.5, size=p.shape).astype(np.float32) for p in params)
    learner.load_state(learner.state._replace(params=params).with_targets(targets))
    return params, targets


@pytest.mark.parametrize("options", [
    {},
    {"double_q": True},
    {"dueling": True},
    {"dueling": True, "double_q": True},
    {"loss": "mse"},
    {"n_step": True, "weights": True},
    {"loss": "mse", "weights": True, "double_q": True},
])
def test_loss_and_td_errors_match_numpy(options):
    options = dict(options)
    batch_options = {k: options.pop(k) for k in ("n_step", "weights") if k in options}
    learner = make_learner(**options)
    rng = np.random.default_rng(1)
    params, targets = randomize(learner, rng)
    batch = make_batch(rng, **batch_options)
    metrics, td_errors = learner.update(batch, 1e-3, prng_key(0), (0, 0))

    dueling = options.get("dueling", False)
    S, A, S_next = batch["S"][0], batch["A"][0], batch["S_next"][0]
    Q_next_target = np_q(targets, S_next, dueling)
    if options.get("double_q"):
        boot = Q_next_target[np.arange(B), np_q(params, S_next, dueling).argmax(axis=1)]
    else:
        boot = Q_next_target.max(axis=1)
    G = batch["Rn"][0] + batch["In"][0] * boot
    Q_sa = np_q(params, S, dueling)[np.arange(B), A]
    loss = np.mean(batch["W"][0] * np_elementwise_loss(G, Q_sa, options.get("loss", "huber")))
    np.testing.assert_allclose(td_errors[0], G - Q_sa, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(metrics["DQN/loss"], loss, rtol=1e-4)
    np.testing.assert_allclose(metrics["DQN/q_mean"], Q_sa.mean(), rtol=1e-4, atol=1e-6)
    assert metrics["DQN/target_updates"] == 0


def test_one_gradient_step_matches_numpy_adam():
    """The first Adam step moves every weight by about -lr * sign(grad) (epsilon 1e-5)."""
    learner = make_learner(loss="mse")
    rng = np.random.default_rng(2)
    params, targets = randomize(learner, rng)
    batch = make_batch(rng, weights=True)
    learner.update(batch, 1e-3, prng_key(0), (0, 0))

    W0, b0, W1, b1 = [np.asarray(p, np.float64) for p in params]
    S, A = batch["S"][0].astype(np.float64), batch["A"][0]
    G = batch["Rn"][0] + batch["In"][0] * np_q(targets, batch["S_next"][0], False).max(axis=1)
    Z = S @ W0 + b0
    H = np.maximum(Z, 0.0)
    Q_sa = (H @ W1 + b1)[np.arange(B), A]
    dQ = np.zeros((B, ACTIONS.n))
    dQ[np.arange(B), A] = 2 * batch["W"][0] * (Q_sa - G) / B
    dZ = (dQ @ W1.T) * (Z > 0)
    grads = [S.T @ dZ, dZ.sum(0), H.T @ dQ, dQ.sum(0)]
    for p, g, new in zip(params, grads, learner.state.params):
        np.testing.assert_allclose(np.asarray(new), p - 1e-3 * g / (np.abs(g) + 1e-5), atol=1e-6)


# ---------------------------------------------------------------------- target updates
@pytest.mark.parametrize("before, after, interval, due", [
    (0, 256, 10, 25), (250, 256, 10, 0), (259, 260, 10, 1), (0, 4, 1, 4), (9_999, 10_000, 10_000, 1),
])
def test_target_updates_due_count_env_steps(before, after, interval, due):
    assert target_updates_due(before, after, interval) == due


@pytest.mark.parametrize("tau, k, weight", [(1.0, 3, 1.0), (1.0, 0, 0.0), (0.5, 2, 0.75), (0.1, 0, 0.0)])
def test_target_update_weight_collapses_k_polyak_updates(tau, k, weight):
    assert np.asarray(target_update_weight(tau, np.float32(k))).item() == pytest.approx(weight)


@pytest.mark.parametrize("tau, steps, weight", [
    (1.0, (0, 10), 1.0), (1.0, (1, 9), 0.0), (0.5, (0, 20), 0.75), (0.1, (0, 10), 0.1),
])
def test_target_update_precedes_the_gradient_steps(tau, steps, weight):
    learner = make_learner(tau=tau, target_update_interval=10)
    rng = np.random.default_rng(3)
    params, targets = randomize(learner, rng)
    batch = make_batch(rng)
    _, td_errors = learner.update(batch, 1e-3, prng_key(0), steps)
    expected = [(1 - weight) * t + weight * p for t, p in zip(targets, params)]
    for new, ref in zip(learner.state.targets(), expected):
        np.testing.assert_allclose(np.asarray(new), ref, rtol=1e-6, atol=1e-6)
    # The targets of this round's gradient step come from the updated target network.
    boot = np_q(expected, batch["S_next"][0], False).max(axis=1)
    G = batch["Rn"][0] + batch["In"][0] * boot
    Q_sa = np_q(params, batch["S"][0], False)[np.arange(B), batch["A"][0]]
    np.testing.assert_allclose(td_errors[0], G - Q_sa, rtol=1e-4, atol=1e-5)


def test_several_gradient_steps_in_one_call():
    learner = make_learner()
    rng = np.random.default_rng(4)
    randomize(learner, rng)
    metrics, td_errors = learner.update(make_batch(rng, k=5), 1e-2, prng_key(0), (0, 0))
    assert td_errors.shape == (5, B)
    assert not np.allclose(td_errors[0], td_errors[-1])
    assert set(metrics) >= {"DQN/loss", "DQN/q_mean", "DQN/grad_norm", "DQN/td_error"}


# ---------------------------------------------------------------------- acting
def test_epsilon_greedy_actions():
    learner = make_learner(action_space=gym.spaces.Discrete(3, start=-1))
    rng = np.random.default_rng(5)
    randomize(learner, rng)
    S = rng.normal(size=(200, 3)).astype(np.float32)
    Q = learner.q_values(S)
    A_env, A_buffer = learner.act(S, np.random.default_rng(0), 0.0)
    np.testing.assert_array_equal(A_buffer, Q.argmax(axis=1))
    np.testing.assert_array_equal(A_env, A_buffer - 1)
    np.testing.assert_array_equal(learner.greedy(S), A_env)
    A_env, A_buffer = learner.act(S, np.random.default_rng(0), 1.0)
    assert set(A_buffer.tolist()) == {0, 1, 2} and set(A_env.tolist()) == {-1, 0, 1}
    _, A_half = learner.act(S, np.random.default_rng(0), 0.5)
    assert 0.2 < np.mean(A_half != Q.argmax(axis=1)) < 0.5
    np.testing.assert_array_equal(A_half, learner.act(S, np.random.default_rng(0), 0.5)[1])
    A_env, A_buffer = learner.random_actions(100, np.random.default_rng(0))
    assert A_buffer.min() == 0 and A_buffer.max() == 2 and (A_env == A_buffer - 1).all()
    assert learner.buffer_action_space() == gym.spaces.Discrete(3)


# ---------------------------------------------------------------------- state and models
@pytest.mark.parametrize("dueling", [False, True])
def test_keras_model_and_state_round_trip(dueling):
    learner = make_learner(dueling=dueling)
    rng = np.random.default_rng(6)
    randomize(learner, rng)
    S = rng.normal(size=(10, 3)).astype(np.float32)
    Q = learner.q_values(S)
    np.testing.assert_allclose(np.asarray(learner.keras_models()["q"](S)), Q, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(learner.predict(S), Q)

    leaves = [np.asarray(x) for x in keras.tree.flatten(learner.state)]
    other = make_learner(dueling=dueling, seed=1)
    other.load_state(keras.tree.pack_sequence_as(other.state, leaves))
    np.testing.assert_array_equal(other.q_values(S), Q)


def test_same_seed_same_weights():
    first, second, third = make_learner(seed=7), make_learner(seed=7), make_learner(seed=8)
    for learner in (first, second, third):
        learner.update(make_batch(np.random.default_rng(0), k=3), 1e-3, prng_key(0), (0, 20))
    for a, b in zip(first.state.params, second.state.params):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.state.params[0], third.state.params[0])


# ---------------------------------------------------------------------- bad input
def test_continuous_actions_are_refused():
    with pytest.raises(TypeError, match="env.action_space.*Discrete.*Box"):
        make_learner(action_space=gym.spaces.Box(-1, 1, (2,)))


def test_bad_loss_is_refused():
    with pytest.raises(ValueError, match="loss: expected one of"):
        make_learner(loss="l1")


# ---------------------------------------------------------------------- the agent
@pytest.mark.parametrize("overrides, num_steps, epsilon", [
    ({}, 0, 1.0),
    ({}, 4_000, 1.0 + (0.04 - 1.0) * 0.5),
    ({}, 8_000, 0.04),
    ({}, 30_000, 0.04),
    ({"exploration_fraction": 0.0}, 0, 0.04),
    ({"eps_schedule_gamma": 0.999}, 100, 0.999 ** 100),
    ({"eps_schedule_gamma": 0.999}, 10_000, 0.04),
    ({"eps_schedule_gamma": 1.0, "eps_init": 0.3}, 10_000, 0.3),
])
def test_epsilon_schedule(overrides, num_steps, epsilon):
    config = build_config(DQNConfig, {}, {"exploration_fraction": 0.16, "eps_final": 0.04,
                                          **overrides})
    assert epsilon_schedule(config, num_steps, 50_000) == pytest.approx(epsilon)


TINY = {"hidden_sizes": (16,), "batch_size": 16, "learning_starts": 32, "train_freq": 16,
        "gradient_steps": 2, "target_update_interval": 50}


def test_agent_trains_saves_and_loads(tmp_path):
    agent = DQN("CartPole-v1", seed=0, **TINY).fit(256)
    assert agent.num_steps == 256 and "DQN/loss" in agent.history[-1]
    assert agent.history[-1]["DQN/target_updates"] in (0.0, 1.0)
    path = agent.save(tmp_path / "agent")
    loaded = DQN.load(path)
    S = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.learner.q_values(S), agent.learner.q_values(S))
    for s in S:
        assert loaded.select_action(s, deterministic=True) == agent.select_action(s, deterministic=True)
        np.testing.assert_array_equal(loaded.predict(s), agent.predict(s))
    assert (tmp_path / "agent" / "q.keras").is_file()


def test_agent_same_seed_same_run():
    first = DQN("CartPole-v1", seed=3, **TINY).fit(128)
    second = DQN("CartPole-v1", seed=3, **TINY).fit(128)
    assert first.history == second.history
    for a, b in zip(first.learner.state.params, second.learner.state.params):
        np.testing.assert_array_equal(a, b)


def test_agent_refuses_continuous_actions():
    with pytest.raises(TypeError, match="env.action_space"):
        DQN("Pendulum-v1", seed=0)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Acrobot-v1", "MountainCar-v0"])
def test_presets_are_valid_configs(env_id):
    config, total_steps = load_preset("DQN", env_id)
    assert build_config(DQNConfig, {}, config).hidden_sizes == (256, 256)
    assert total_steps >= 50_000


def test_bad_batches_are_refused():
    learner = make_learner()
    batch = make_batch(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"batch: expected the fields.*missing \['W'\]"):
        learner.update({k: v for k, v in batch.items() if k != "W"}, 1e-3, prng_key(0), (0, 0))
    with pytest.raises(ValueError, match="leading axes"):
        learner.update({**batch, "A": batch["A"][0]}, 1e-3, prng_key(0), (0, 0))


def test_default_network_is_initialised_as_sb3():
    """Kernels and biases ~ U(+-1/sqrt(fan_in)) (PyTorch's linear layers), the Q head included."""
    learner = make_learner(hidden_sizes=(64, 64))
    for kernel, bias in zip(learner.state.params[::2], learner.state.params[1::2]):
        bound = 1 / np.sqrt(kernel.shape[0])
        for values in (np.asarray(kernel), np.asarray(bias)):
            assert np.abs(values).max() <= bound
            assert np.abs(values).max() > 0.9 * bound
