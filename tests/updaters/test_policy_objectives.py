"""Policy objectives against hand-computed values and gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plugrl import policy_objectives
from plugrl.proba_dists import CategoricalDist


@pytest.mark.parametrize("ratio, adv, expected_loss, expected_grad, clipped", [
    (1.1, 2.0, -2.2, -2.0, 0.0),    # inside the range: -ratio * A, gradient -A
    (1.5, 2.0, -2.4, 0.0, 1.0),     # above 1 + eps with A > 0: clipped, no gradient
    (0.5, 2.0, -1.0, -2.0, 1.0),    # below 1 - eps with A > 0: min picks ratio * A
    (1.5, -2.0, 3.0, 2.0, 1.0),     # above 1 + eps with A < 0: min picks ratio * A
    (0.5, -2.0, 1.6, 0.0, 1.0),     # below 1 - eps with A < 0: clipped, no gradient
])
def test_ppo_clip_surrogate_hand_computed(ratio, adv, expected_loss, expected_grad, clipped):
    def loss(log_ratio):
        value, fraction = policy_objectives.ppo_clip_surrogate(
            log_ratio, jnp.zeros(1), jnp.array([adv]), ppo_clip_eps=0.2)
        return value, fraction

    log_ratio = jnp.log(jnp.array([ratio]))
    (value, fraction), grad = jax.value_and_grad(loss, has_aux=True)(log_ratio)
    assert float(value) == pytest.approx(expected_loss, rel=1e-5)
    # d loss / d log_ratio = d loss / d ratio * ratio
    assert float(grad[0]) == pytest.approx(expected_grad * ratio, rel=1e-5, abs=1e-7)
    assert float(fraction) == clipped


def test_vanilla_pg_gradient_is_advantage_weighted_score():
    logits = jnp.array([[0.2, -0.1, 0.4]])
    A, Adv = jnp.array([2]), jnp.array([1.5])
    objective = policy_objectives.VanillaPG(entropy_beta=0.0)

    def loss(z):
        dist = CategoricalDist(z)
        return objective(dist, CategoricalDist(jax.lax.stop_gradient(z)), A, Adv)[0]

    grad = jax.grad(loss)(logits)
    probs = np.asarray(jax.nn.softmax(logits))
    expected = -1.5 * (np.eye(3)[2] - probs)  # -Adv * d log pi(a) / d z
    np.testing.assert_allclose(grad, expected, rtol=1e-5)


@pytest.mark.parametrize("objective", [policy_objectives.VanillaPG, policy_objectives.PPOClip,
                                       policy_objectives.CrossEntropy])
def test_entropy_bonus_increases_entropy(objective):
    """With zero advantages, gradient descent on the loss raises the policy's entropy."""
    logits = jnp.array([[2.0, -1.0, 0.5], [0.1, 0.0, -3.0]])
    A, Adv = jnp.array([0, 1]), jnp.zeros(2)
    with_bonus, without = objective(entropy_beta=0.1), objective(entropy_beta=0.0)

    def step(obj, z):
        def loss(z):
            dist_old = CategoricalDist(jax.lax.stop_gradient(z))
            return obj(CategoricalDist(z), dist_old, A, Adv)[0]
        return z - 0.5 * jax.grad(loss)(z)

    entropy = lambda z: float(jnp.mean(CategoricalDist(z).entropy()))  # noqa: E731
    assert entropy(step(with_bonus, logits)) > entropy(logits)
    assert entropy(step(with_bonus, logits)) > entropy(step(without, logits))


def test_objective_metrics_and_validation():
    logits = jnp.array([[0.0, 1.0]])
    dist, dist_old = CategoricalDist(logits), CategoricalDist(jnp.array([[1.0, 0.0]]))
    loss, metrics = policy_objectives.PPOClip()(dist, dist_old, jnp.array([1]), jnp.array([1.0]))
    assert set(metrics) == {"PPOClip/surrogate", "PPOClip/entropy", "PPOClip/kl_divergence",
                            "PPOClip/clip_fraction"}
    assert float(metrics["PPOClip/kl_divergence"]) > 0
    with pytest.raises(ValueError, match="ppo_clip_eps: expected a float > 0, got 0.0"):
        policy_objectives.PPOClip(ppo_clip_eps=0.0)
    with pytest.raises(ValueError, match="entropy_beta: expected a float >= 0, got -0.1"):
        policy_objectives.VanillaPG(entropy_beta=-0.1)


def test_cross_entropy_against_propensities():
    logits = jnp.array([[0.3, -0.2], [1.0, 0.5]])
    P = jnp.array([[0.25, 0.75], [1.0, 0.0]])
    loss, _ = policy_objectives.CrossEntropy(entropy_beta=0.0)(
        CategoricalDist(logits), CategoricalDist(logits), P, None)
    log_pi = np.asarray(jax.nn.log_softmax(logits))
    assert float(loss) == pytest.approx(-np.mean((np.asarray(P) * log_pi).sum(axis=1)), rel=1e-5)


def test_soft_pg_discrete_uses_exact_expectation():
    logits = jnp.array([[0.0, jnp.log(3.0)]])  # probs 0.25, 0.75
    Q_s = jnp.array([[4.0, 8.0]])
    loss, metrics = policy_objectives.SoftPG(entropy_beta=0.0)(
        CategoricalDist(logits), CategoricalDist(logits), None, Q_s)
    assert float(loss) == pytest.approx(-(0.25 * 4 + 0.75 * 8), rel=1e-5)


@pytest.mark.parametrize("objective", [policy_objectives.VanillaPG(entropy_beta=0.1),
                                       policy_objectives.PPOClip(ppo_clip_eps=0.1, entropy_beta=0.1)])
def test_log_proba_form_equals_the_distribution_form(objective):
    """The agents' pure form on recorded log-probabilities gives the seed-level call's loss and
    gradient; traced coefficients replace the objective's own."""
    logits, logits_old = jnp.array([[0.3, -0.2, 1.0], [0.0, 2.0, -1.0]]), jnp.zeros((2, 3))
    A, Adv = jnp.array([2, 1]), jnp.array([1.5, -0.5])

    def seed_level(z):
        return objective(CategoricalDist(z), CategoricalDist(logits_old), A, Adv)[0]

    def pure(z, entropy_beta=None, ppo_clip_eps=None):
        dist = CategoricalDist(z)
        return objective.log_proba_loss(dist.log_proba(A), CategoricalDist(logits_old).log_proba(A), Adv,
                                        jnp.mean(dist.entropy()), entropy_beta=entropy_beta,
                                        ppo_clip_eps=ppo_clip_eps)[0]

    assert float(pure(logits)) == pytest.approx(float(seed_level(logits)), rel=1e-6)
    np.testing.assert_allclose(jax.grad(pure)(logits), jax.grad(seed_level)(logits), rtol=1e-6)
    traced = jax.jit(pure)(logits, jnp.float32(0.0), jnp.float32(0.3))
    other = type(objective)(**({"ppo_clip_eps": 0.3} if hasattr(objective, "ppo_clip_eps") else {}),
                            entropy_beta=0.0)
    assert float(traced) == pytest.approx(float(other(CategoricalDist(logits), CategoricalDist(logits_old),
                                                      A, Adv)[0]), rel=1e-6)
    _, metrics = objective.log_proba_loss(jnp.log(jnp.array([0.5])), jnp.log(jnp.array([0.25])),
                                          jnp.ones(1), jnp.float32(1.0))
    name = type(objective).__name__
    assert float(metrics[f"{name}/approx_kl"]) == pytest.approx(np.log(0.5), rel=1e-6)
    assert float(metrics[f"{name}/entropy"]) == 1.0


def test_log_proba_form_is_refused_by_objectives_that_need_the_distribution():
    with pytest.raises(TypeError, match="CrossEntropy: expected an objective of the actions' "
                                        "log-probabilities"):
        policy_objectives.CrossEntropy().log_proba_loss(jnp.zeros(1), jnp.zeros(1), jnp.ones(1), 0.0)
