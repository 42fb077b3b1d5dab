"""SAC: the squashed Gaussian, the losses against NumPy references, the learner's update rules,
bad input, and learning (probes and Pendulum-v1)."""

from __future__ import annotations

import math

import gymnasium as gym
import jax
import numpy as np
import pytest

from plugrl._backend import keras, normal_noise, prng_key
from plugrl.agents.config import SACConfig
from plugrl.agents.off_policy.sac import SAC, SACLearner
from plugrl.proba_dists.squashed_normal import (
    log_one_minus_tanh_sq,
    rescale_actions,
    squashed_log_std,
    squashed_sample,
)
from plugrl.updaters.policy_objectives import expected_soft_value
from plugrl.updaters.policy_objectives.sac import (
    actor_loss,
    critic_loss,
    default_target_entropy,
    ent_coeff_loss,
    soft_bootstrap,
)

OBS = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
BOX = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
DISCRETE = gym.spaces.Discrete(3)


def make_learner(action_space: gym.Space = BOX, **config) -> SACLearner:
    config = {"hidden_sizes": (8,), **config}
    return SACLearner(OBS, action_space, SACConfig(**config).validate(), seed=0)


@pytest.fixture(scope="module")
def box_learner() -> SACLearner:
    """Shared by the tests (each compilation takes seconds); tests reset its state."""
    return make_learner(tau=0.5, target_update_intvl=3)


@pytest.fixture(scope="module")
def discrete_learner() -> SACLearner:
    return make_learner(gym.spaces.Discrete(3, start=1), rew_scale=2.0)


def make_batch(learner: SACLearner, K: int = 1, B: int = 5, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    A = learner.random_actions(K * B, rng)[1]
    return {"S": rng.uniform(-1, 1, (K, B, 3)).astype(np.float32),
            "A": A.reshape(K, B, *A.shape[1:]),
            "Rn": rng.normal(size=(K, B)).astype(np.float32),
            "In": rng.choice([0.0, 0.99], (K, B)).astype(np.float32),
            "S_next": rng.uniform(-1, 1, (K, B, 3)).astype(np.float32),
            "W": rng.uniform(0.5, 1.5, (K, B)).astype(np.float32)}


def randomize_critics(learner: SACLearner, seed: int = 1) -> None:
    """Random critic weights and different random targets (the zero-initialised heads would
    make every Q-value 0)."""
    rng = np.random.default_rng(seed)
    state = learner.state
    critic = tuple(rng.normal(0, 0.5, p.shape).astype(np.float32) for p in state.critic.params)
    size = state.critic.target_params.shape
    critic_state = state.critic._replace(params=critic,
                                         target_params=rng.normal(0, 0.5, size).astype(np.float32))
    actor = tuple(rng.normal(0, 0.5, p.shape).astype(np.float32) for p in state.actor.params)
    learner.load_state(state._replace(critic=critic_state, actor=state.actor._replace(params=actor)))


def numpy_model(model: keras.Model, *inputs: np.ndarray) -> np.ndarray:
    return np.asarray(model(list(inputs) if len(inputs) > 1 else inputs[0]))


# ---------------------------------------------------------------------- squashed Gaussian
def normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def test_squashed_log_proba_matches_numerical_change_of_variables():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(6, 1)).astype(np.float32)
    log_std = rng.uniform(-1.0, 0.5, (6, 1)).astype(np.float32)
    noise = rng.normal(size=(6, 1)).astype(np.float32)
    A, logP = (np.asarray(x, np.float64) for x in squashed_sample(mu, log_std, noise))
    # The probability of a small interval around a, through the CDF of the pre-squash Gaussian.
    h = 1e-4
    sigma = np.exp(log_std.astype(np.float64))
    upper = normal_cdf((np.arctanh(A + h) - mu) / sigma)
    lower = normal_cdf((np.arctanh(A - h) - mu) / sigma)
    np.testing.assert_allclose(logP, np.log((upper - lower) / (2 * h))[:, 0], rtol=0, atol=2e-3)


def test_squashed_log_proba_is_joint_over_dimensions_and_stable_at_saturation():
    mu = np.array([[0.3, -0.2], [30.0, -30.0]], np.float32)
    log_std = np.array([[-0.5, 0.1], [0.0, 0.0]], np.float32)
    noise = np.array([[0.4, -1.2], [0.0, 0.0]], np.float32)
    A, logP = (np.asarray(x) for x in squashed_sample(mu, log_std, noise))
    U = mu[0] + np.exp(log_std[0]) * noise[0]
    expected = np.sum(-0.5 * noise[0] ** 2 - log_std[0] - 0.5 * np.log(2 * np.pi)
                      - np.log(1 - np.tanh(U) ** 2))
    np.testing.assert_allclose(logP[0], expected, rtol=1e-5)
    assert np.isfinite(logP[1]) and np.all(np.abs(A[1]) == 1.0)  # tanh saturates, logP does not
    np.testing.assert_allclose(np.asarray(log_one_minus_tanh_sq(np.float32(30.0))),
                               2 * (np.log(2) - 30.0), rtol=1e-6)


def test_log_std_is_clipped_as_sb3():
    logvar = np.array([-100.0, 0.0, 10.0], np.float32)
    np.testing.assert_array_equal(np.asarray(squashed_log_std(logvar)), [-20.0, 0.0, 2.0])


def test_rescale_actions_maps_the_unit_box_to_the_bounds():
    A = np.array([[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]], np.float32)
    np.testing.assert_allclose(rescale_actions(A, BOX.low, BOX.high),
                               [[-2.0, 0.0], [0.0, 0.5], [2.0, 1.0]])


# ---------------------------------------------------------------------- losses
def test_soft_bootstrap_takes_the_twin_minimum_minus_the_entropy_term():
    Q1, Q2 = np.array([1.0, -2.0, 3.0]), np.array([0.5, -1.0, 4.0])
    logP = np.array([-1.0, 0.5, 0.0])
    np.testing.assert_allclose(np.asarray(soft_bootstrap(Q1, Q2, logP, 0.2)),
                               np.minimum(Q1, Q2) - 0.2 * logP, rtol=1e-6)


def test_discrete_soft_targets_are_expectations_over_actions():
    rng = np.random.default_rng(0)
    Q1, Q2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    probs = rng.dirichlet(np.ones(3), 4)
    expected = np.sum(probs * (np.minimum(Q1, Q2) - 0.3 * np.log(probs)), axis=1)
    np.testing.assert_allclose(np.asarray(soft_bootstrap(Q1, Q2, np.log(probs), 0.3, probs)),
                               expected, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(expected_soft_value(probs, np.log(probs), Q1, 0.3)),
                               np.sum(probs * (Q1 - 0.3 * np.log(probs)), axis=1), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(actor_loss(Q1, Q2, np.log(probs), 0.3, probs)),
                               -np.mean(expected), rtol=1e-5)


def test_critic_loss_is_half_the_sum_of_weighted_squared_errors():
    Q1, Q2, G, W = np.array([1.0, 2.0]), np.array([0.0, 3.0]), np.array([1.5, 2.0]), np.array([1.0, 2.0])
    expected = 0.5 * np.mean(W * ((Q1 - G) ** 2 + (Q2 - G) ** 2))
    assert np.asarray(critic_loss(Q1, Q2, G, W)).item() == pytest.approx(expected)


@pytest.mark.parametrize("entropy, direction", [(3.0, -1.0), (-3.0, 1.0)])
def test_entropy_coefficient_shrinks_above_and_grows_below_the_target(entropy, direction):
    target = 0.0
    grad = jax.grad(lambda log_alpha: ent_coeff_loss(log_alpha, -entropy, target))(0.3)
    assert np.sign(-np.asarray(grad)) == direction  # gradient descent moves against the gradient


def test_default_target_entropy():
    assert default_target_entropy(BOX) == -2.0
    assert default_target_entropy(DISCRETE) == pytest.approx(0.5 * math.log(3))


# ---------------------------------------------------------------------- the learner's update
def test_critic_target_matches_a_numpy_reference_box(box_learner):
    learner = box_learner
    randomize_critics(learner)
    batch = {k: v[0] for k, v in make_batch(learner).items()}
    key = prng_key(7)
    state = learner.state
    critic_batch = {**batch, "actor": state.actor.params, "ent_coeff": 0.3}
    loss, (_, _, td_errors) = jax.jit(learner._critic_loss_fn)(state.critic.params, state.critic,
                                                               critic_batch, key)
    # Reference: the same noise, eager Keras models, NumPy arithmetic.
    mu, log_std = learner.predict(batch["S_next"])
    eps = np.asarray(normal_noise(key, mu.shape, mu.dtype))
    U = mu + np.exp(log_std) * eps
    logP = np.sum(-0.5 * eps ** 2 - log_std - 0.5 * np.log(2 * np.pi) - np.log(1 - np.tanh(U) ** 2), 1)
    online = learner.keras_models()
    Q1, Q2 = (numpy_model(online[q], batch["S"], batch["A"])[:, 0] for q in ("q1", "q2"))
    learner.load_state(state._replace(critic=state.critic._replace(params=state.critic.targets())))
    target = learner.keras_models()
    Q1_next, Q2_next = (numpy_model(target[q], batch["S_next"], np.tanh(U))[:, 0] for q in ("q1", "q2"))
    G = batch["Rn"] + batch["In"] * (np.minimum(Q1_next, Q2_next) - 0.3 * logP)
    np.testing.assert_allclose(np.asarray(td_errors), G - 0.5 * (Q1 + Q2), rtol=1e-4, atol=1e-4)
    expected_loss = 0.5 * np.mean(batch["W"] * ((Q1 - G) ** 2 + (Q2 - G) ** 2))
    assert np.asarray(loss).item() == pytest.approx(expected_loss, rel=1e-4)


def test_critic_target_matches_a_numpy_reference_discrete(discrete_learner):
    learner = discrete_learner
    randomize_critics(learner)
    batch = {k: v[0] for k, v in make_batch(learner).items()}
    state = learner.state
    critic_batch = {**batch, "actor": state.actor.params, "ent_coeff": 0.5}
    _, (_, _, td_errors) = jax.jit(learner._critic_loss_fn)(state.critic.params, state.critic,
                                                            critic_batch, prng_key(0))
    probs = learner.predict(batch["S_next"])
    online = learner.keras_models()
    idx = np.arange(len(batch["A"]))
    Q1, Q2 = (numpy_model(online[q], batch["S"])[idx, batch["A"]] for q in ("q1", "q2"))
    learner.load_state(state._replace(critic=state.critic._replace(params=state.critic.targets())))
    target = learner.keras_models()
    Q_next = np.minimum(*(numpy_model(target[q], batch["S_next"]) for q in ("q1", "q2")))
    V_next = np.sum(probs * (Q_next - 0.5 * np.log(probs)), axis=1)
    G = 2.0 * batch["Rn"] + batch["In"] * V_next
    np.testing.assert_allclose(np.asarray(td_errors), G - 0.5 * (Q1 + Q2), rtol=1e-4, atol=1e-4)


def test_standardize_rew_standardizes_the_batch_rewards():
    learner = make_learner(standardize_rew=True, rew_scale=5.0)
    Rn = np.array([1.0, 2.0, 6.0], np.float32)
    np.testing.assert_allclose(np.asarray(learner._rewards(Rn)), (Rn - Rn.mean()) / Rn.std(), rtol=1e-5)


def test_update_moves_the_entropy_coefficient_towards_the_target(box_learner):
    learner = box_learner
    learner.load_state(make_learner().state)
    metrics, _ = learner.update(make_batch(learner), 1e-2, prng_key(0), (0, 1))
    assert metrics["SAC/entropy"] > learner.target_entropy == -2.0
    assert metrics["SAC/ent_coeff"] < 1.0


def test_targets_move_every_target_update_intvl_gradient_steps(box_learner):
    learner = box_learner
    learner.load_state(make_learner().state)
    batch = make_batch(learner)
    targets = [np.asarray(learner.state.critic.target_params)]
    for i in range(3):
        learner.update(batch, 1e-2, prng_key(i), (i, i + 1))
        targets.append(np.asarray(learner.state.critic.target_params))
        if i == 0:  # a checkpoint round trip keeps the gradient-step counter
            leaves = [np.asarray(x) for x in keras.tree.flatten(learner.state)]
            learner.load_state(keras.tree.pack_sequence_as(learner.state, leaves))
    np.testing.assert_array_equal(targets[0], targets[1])
    np.testing.assert_array_equal(targets[0], targets[2])
    online = np.concatenate([np.ravel(p) for p in learner.state.critic.params])
    np.testing.assert_allclose(targets[3], 0.5 * targets[0] + 0.5 * online, rtol=1e-6)
    assert int(learner.state.num_updates) == 3


def test_same_seed_same_result_and_metrics_and_td_errors_shapes(box_learner):
    learner, twin = box_learner, make_learner()
    learner.load_state(make_learner().state)
    for a, b in zip(keras.tree.flatten(learner.state), keras.tree.flatten(twin.state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # One batch shape throughout: each new shape compiles the update again.
    initial, batch, runs = learner.state, make_batch(learner), []
    for _ in range(2):
        learner.load_state(initial)
        metrics, td_errors = learner.update(batch, 1e-3, prng_key(3), (0, 1))
        runs.append((metrics, td_errors, learner.act(np.zeros((2, 3), np.float32),
                                                     np.random.default_rng(0))))
    assert runs[0][0] == runs[1][0]
    assert set(runs[0][0]) >= {"SAC/critic_loss", "SAC/actor_loss", "SAC/ent_coeff", "SAC/entropy"}
    assert runs[0][1].shape == (1, 5)
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    np.testing.assert_array_equal(runs[0][2][0], runs[1][2][0])


# ---------------------------------------------------------------------- acting
def test_box_actions_are_in_bounds_and_stored_in_the_unit_box(box_learner):
    learner = box_learner
    rng = np.random.default_rng(0)
    S = rng.uniform(-1, 1, (64, 3)).astype(np.float32)
    for A_env, A_buffer in (learner.act(S, rng, 0.0), learner.random_actions(64, rng)):
        assert A_env.shape == A_buffer.shape == (64, 2)
        assert learner.buffer_action_space().contains(A_buffer[0])
        assert np.all(A_env >= BOX.low) and np.all(A_env <= BOX.high)
        np.testing.assert_allclose(A_env, rescale_actions(A_buffer, BOX.low, BOX.high))
    mu, log_std = learner.predict(S)
    np.testing.assert_allclose(learner.greedy(S), rescale_actions(np.tanh(mu), BOX.low, BOX.high),
                               rtol=1e-5)
    assert log_std.shape == (64, 2)


def test_discrete_actions_follow_the_policy_and_the_space_start(discrete_learner):
    learner = discrete_learner
    learner.load_state(make_learner(gym.spaces.Discrete(3, start=1)).state)
    rng = np.random.default_rng(0)
    A_env, A_buffer = learner.act(np.zeros((3000, 3), np.float32), rng)
    np.testing.assert_array_equal(A_env, A_buffer + 1)
    np.testing.assert_allclose(np.bincount(A_buffer, minlength=3) / 3000, 1 / 3, atol=0.03)
    np.testing.assert_allclose(learner.predict(np.zeros((1, 3), np.float32)), [[1 / 3] * 3], rtol=1e-6)
    assert set(learner.keras_models()) == {"actor", "q1", "q2"}


def test_a_shared_body_belongs_to_the_critics():
    import plugrl

    class Body(plugrl.FunctionApproximator):
        def body(self, S):
            return keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(S))

    env = gym.make("Pendulum-v1")
    learner = SACLearner(env.observation_space, env.action_space, SACConfig(), 0, Body(env, random_seed=0))
    assert [p.shape for p in learner.state.actor.params] == [(16, 2), (2,)]  # head_pi only
    assert [p.shape for p in learner.state.critic.params] == [(3, 16), (16,), (17, 1), (1,), (17, 1), (1,)]
    with pytest.raises(ValueError, match="function_approximator: expected the env's action space"):
        SACLearner(env.observation_space, gym.spaces.Box(-1.0, 1.0, (2,), np.float32), SACConfig(), 0,
                   Body(env))


# ---------------------------------------------------------------------- bad input
def test_bad_input_is_rejected_with_the_argument_named(box_learner):
    with pytest.raises(ValueError, match="finite bounds"):
        make_learner(gym.spaces.Box(-np.inf, np.inf, (1,), np.float32))
    with pytest.raises(TypeError, match="action_space"):
        make_learner(gym.spaces.MultiBinary(2))
    learner = box_learner
    message = r"S: expected a batch of shape \[batch_size, 3\], got shape \(2, 4\)"
    with pytest.raises(ValueError, match=message):
        learner.act(np.zeros((2, 4), np.float32), np.random.default_rng(0))
    batch = make_batch(learner)
    with pytest.raises(ValueError, match="missing \\['W'\\]"):
        learner.update({k: v for k, v in batch.items() if k != "W"}, 1e-3, prng_key(0), (0, 1))
    with pytest.raises(ValueError, match="batch\\['S_next'\\]"):
        learner.update({**batch, "S_next": batch["S_next"][0]}, 1e-3, prng_key(0), (0, 1))
    with pytest.raises(ValueError, match="ent_coeff_init"):
        SAC("Pendulum-v1", ent_coeff_init=0.0)
    with pytest.raises(TypeError, match="ent_coef_initt"):
        SAC("Pendulum-v1", ent_coef_initt=0.1)


# ---------------------------------------------------------------------- the agent
def test_agent_saves_loads_and_resumes_from_checkpoints_exactly(tmp_path):
    small = {"seed": 0, "hidden_sizes": (8,), "num_init_memory_steps": 50, "batch_size": 16}
    agent = SAC("Pendulum-v1", **small).fit(300)
    loaded = SAC.load(agent.save(str(tmp_path / "agent")))
    s = np.array([0.1, 0.2, 0.3], np.float32)
    np.testing.assert_array_equal(loaded.select_action(s, deterministic=True),
                                  agent.select_action(s, deterministic=True))
    assert int(loaded.learner.state.num_updates) == int(agent.learner.state.num_updates) == 251
    SAC("Pendulum-v1", model_dir=str(tmp_path / "ck"), **small).fit(200, checkpoint_interval=100)
    resumed = SAC("Pendulum-v1", model_dir=str(tmp_path / "ck"), **small).fit(100, restore=True)
    for a, b in zip(keras.tree.flatten(agent.learner.state), keras.tree.flatten(resumed.learner.state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# ---------------------------------------------------------------------- learning
def run_probe(learner: SACLearner, make: callable, rounds: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(rounds):
        learner.update(make(rng), 3e-3, prng_key(i), (i, i + 1))


def test_discrete_probe_learns_the_best_action():
    """One-step episodes, reward 1 for action 2 and 0 otherwise; a fixed entropy coefficient."""
    learner = make_learner(DISCRETE, hidden_sizes=(16,), learn_ent_coeff=False, ent_coeff_init=0.05)

    def make(rng):
        A = rng.integers(3, size=(10, 32))
        S = np.zeros((10, 32, 3), np.float32)
        return {"S": S, "A": A, "Rn": (A == 2).astype(np.float32), "In": np.zeros((10, 32), np.float32),
                "S_next": S, "W": np.ones((10, 32), np.float32)}

    run_probe(learner, make, 40)
    assert learner.predict(np.zeros((1, 3), np.float32))[0, 2] > 0.8
    assert np.exp(np.asarray(learner.state.ent_coeff.params[0])) == pytest.approx(0.05)


def test_sac_learns_pendulum():
    """The issue's target, >= -200 within 20k steps, with smaller networks and batches: the
    preset's 256x256 networks take about 2 minutes here (benchmarks/sac_pendulum_vs_sb3.py)."""
    agent = SAC("Pendulum-v1", seed=2, hidden_sizes=(64, 64), batch_size=128, lr=1e-3)
    agent.fit(8_000)
    assert agent.evaluate(10) >= -200
