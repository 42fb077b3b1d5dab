"""CategoricalDist against NumPy/SciPy references, plus sampling and gradient behaviour."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats

import plugrl  # noqa: F401  (selects the JAX backend before Keras loads)
from plugrl._backend import gumbel_noise, prng_key
from plugrl.proba_dists import CategoricalDist, NormalDist

BATCH, N = 5, 4


@pytest.fixture
def logits() -> np.ndarray:
    return np.random.default_rng(0).normal(scale=2.0, size=(BATCH, N)).astype(np.float32)


@pytest.fixture
def other_logits() -> np.ndarray:
    return np.random.default_rng(1).normal(scale=2.0, size=(BATCH, N)).astype(np.float32)


def test_probs_and_mode(logits):
    dist = CategoricalDist(logits)
    np.testing.assert_allclose(dist.probs, scipy.special.softmax(logits, axis=1), rtol=1e-5)
    mode = np.asarray(dist.mode())
    assert mode.dtype == np.int32
    np.testing.assert_array_equal(mode, logits.argmax(axis=1))


def test_log_proba_of_indices(logits):
    A = np.array([0, 1, 2, 3, 1])
    expected = logits[np.arange(BATCH), A] - scipy.special.logsumexp(logits, axis=1)
    np.testing.assert_allclose(CategoricalDist(logits).log_proba(A), expected, rtol=1e-5)


def test_log_proba_of_one_hot_and_relaxed(logits):
    log_p = np.log(scipy.special.softmax(logits, axis=1))
    dist = CategoricalDist(logits)
    A = np.array([3, 2, 1, 0, 0])
    one_hot = np.eye(N, dtype=np.float32)[A]
    np.testing.assert_allclose(dist.log_proba(one_hot), log_p[np.arange(BATCH), A], rtol=1e-5)
    relaxed = np.random.default_rng(2).dirichlet(np.ones(N), size=BATCH).astype(np.float32)
    np.testing.assert_allclose(dist.log_proba(relaxed), (relaxed * log_p).sum(axis=1), rtol=1e-5)


def test_entropy(logits):
    expected = scipy.stats.entropy(scipy.special.softmax(logits, axis=1), axis=1)
    np.testing.assert_allclose(CategoricalDist(logits).entropy(), expected, rtol=1e-5)


def test_cross_entropy_and_kl(logits, other_logits):
    p, q = scipy.special.softmax(logits, axis=1), scipy.special.softmax(other_logits, axis=1)
    dist, other = CategoricalDist(logits), CategoricalDist(other_logits)
    np.testing.assert_allclose(dist.cross_entropy(other), -(p * np.log(q)).sum(axis=1), rtol=1e-5)
    expected_kl = scipy.stats.entropy(p, q, axis=1)
    np.testing.assert_allclose(dist.kl_divergence(other), expected_kl, rtol=1e-4)
    np.testing.assert_allclose(dist.kl_divergence(dist), np.zeros(BATCH), atol=1e-6)


def test_one_hot_samples_are_exact_one_hot(logits):
    X = np.asarray(CategoricalDist(logits, random_seed=3).sample_one_hot())
    assert X.shape == (BATCH, N)
    assert set(np.unique(X)) <= {0.0, 1.0}
    np.testing.assert_array_equal(X.sum(axis=1), np.ones(BATCH))


def test_sample_frequencies_match_probs_inside_jit(logits):
    num_draws = 4000

    @jax.jit
    def frequencies(logits, key):
        keys = jax.random.split(key, num_draws)
        draws = jax.vmap(lambda k: CategoricalDist(logits).sample_one_hot(k))(keys)
        indices = jax.vmap(lambda k: CategoricalDist(logits).sample_index(k))(keys)
        return draws.mean(axis=0), jax.nn.one_hot(indices, N).mean(axis=0)

    for freq in frequencies(jnp.asarray(logits), prng_key(7)):
        # The largest binomial standard error is sqrt(0.25 / 4000) ~ 0.008; allow about 4 of them.
        np.testing.assert_allclose(freq, scipy.special.softmax(logits, axis=1), atol=0.03)


def test_same_key_same_sample_and_different_keys_differ(logits):
    dist = CategoricalDist(logits)
    np.testing.assert_array_equal(dist.sample(prng_key(1)), dist.sample(prng_key(1)))
    draws = np.stack([dist.sample(prng_key(seed)) for seed in range(10)])
    assert not (draws == draws[0]).all()


def test_internal_key_is_seeded_and_advances(logits):
    first, second = CategoricalDist(logits, random_seed=5), CategoricalDist(logits, random_seed=5)
    draws_1 = np.stack([first.sample() for _ in range(10)])
    draws_2 = np.stack([second.sample() for _ in range(10)])
    np.testing.assert_array_equal(draws_1, draws_2)
    assert not (draws_1 == draws_1[0]).all()


def test_sample_without_key_inside_jit_raises(logits):
    with pytest.raises(ValueError, match="key"):
        jax.jit(lambda z: CategoricalDist(z).sample())(logits)
    with pytest.raises(ValueError, match="key"):
        jax.jit(lambda: CategoricalDist(logits).sample())()


def test_straight_through_gradient(logits):
    tau, key = 0.5, prng_key(11)
    weights = jnp.asarray(np.random.default_rng(4).normal(size=(BATCH, N)), dtype=jnp.float32)

    def through_sample(z):
        return jnp.sum(weights * CategoricalDist(z, boltzmann_tau=tau).sample_one_hot(key))

    def through_relaxation(z):
        noise = gumbel_noise(key, z.shape, z.dtype)
        return jnp.sum(weights * jax.nn.softmax((z + noise) / tau, axis=-1))

    grad = np.asarray(jax.grad(through_sample)(jnp.asarray(logits)))
    assert np.isfinite(grad).all() and np.abs(grad).max() > 1e-3
    expected = jax.grad(through_relaxation)(jnp.asarray(logits))
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-7)


def test_entropy_gradient_points_to_higher_entropy(logits):
    def total_entropy(z):
        return jnp.sum(CategoricalDist(z).entropy())

    grad = jax.grad(total_entropy)(jnp.asarray(logits))
    p = scipy.special.softmax(logits, axis=1)
    entropy = scipy.stats.entropy(p, axis=1)
    # dH/dz_a = -p_a (log p_a + H)
    np.testing.assert_allclose(grad, -p * (np.log(p) + entropy[:, None]), rtol=1e-4, atol=1e-6)
    stepped = CategoricalDist(jnp.asarray(logits) + 0.1 * grad).entropy()
    assert (np.asarray(stepped) > entropy).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_logits_raise(logits, bad):
    logits[0, 1] = bad
    message = r"logits: expected finite values, got .* at index \(0, 1\)"
    with pytest.raises(ValueError, match=message):
        CategoricalDist(logits)


def test_non_finite_traced_logits_pass_unchecked(logits):
    logits[0, 1] = np.nan
    entropy = jax.jit(lambda z: CategoricalDist(z).entropy())(logits)
    assert np.isnan(entropy[0]) and np.isfinite(entropy[1:]).all()


@pytest.mark.parametrize("tau", [0.0, -0.5, np.nan])
def test_non_positive_tau_raises(logits, tau):
    with pytest.raises(ValueError, match="boltzmann_tau"):
        CategoricalDist(logits, boltzmann_tau=tau)


def test_bad_shapes_and_types_raise(logits):
    with pytest.raises(ValueError, match="logits: expected shape"):
        CategoricalDist(logits[0])
    dist = CategoricalDist(logits)
    with pytest.raises(ValueError, match="x: expected shape"):
        dist.log_proba(np.ones((BATCH, N + 1)))
    with pytest.raises(ValueError, match="x: expected category indices"):
        dist.log_proba(np.array([0, 1, 2, 3, N]))
    with pytest.raises(TypeError, match="other: expected a CategoricalDist"):
        dist.kl_divergence(NormalDist(logits, logits))


def test_seed_positional_order_name_then_seed(logits):
    # keras-gym: CategoricalDist(logits, boltzmann_tau=0.2, name='categorical_dist', random_seed=None)
    dist = CategoricalDist(logits, 0.5, "pi", 3)
    assert (dist.boltzmann_tau, dist.name, dist.random_seed) == (0.5, "pi", 3)
    assert CategoricalDist(logits).name == "categorical_dist"
    np.testing.assert_array_equal(dist.sample(), CategoricalDist(logits, 0.5, random_seed=3).sample())


def test_seed_in_the_name_slot_raises_at_construction(logits):
    with pytest.raises(TypeError, match="name: expected a str, got int 3"):
        CategoricalDist(logits, 0.2, 3)
    with pytest.raises(TypeError, match="random_seed: expected None or an int, got str"):
        CategoricalDist(logits, 0.2, "pi", "3")


def test_sample_is_the_relaxation_near_one_hot_propensities(logits):
    # The seed: sample() returns "near one-hot encoded versions of deterministic variates",
    # differentiable through the approach of ArXiv:1611.01144 (Gumbel-softmax).
    tau, key = 0.5, prng_key(11)
    dist = CategoricalDist(logits, boltzmann_tau=tau)
    X = np.asarray(dist.sample(key))
    expected = jax.nn.softmax((logits + gumbel_noise(key, logits.shape, logits.dtype)) / tau, axis=-1)
    np.testing.assert_allclose(X, expected, rtol=1e-5, atol=1e-7)
    assert (X > 0).all() and not set(np.unique(X)) <= {0.0, 1.0}
    np.testing.assert_allclose(X.sum(axis=1), np.ones(BATCH), rtol=1e-5)
    # The relaxed, one-hot and index draws of one key pick the same category.
    np.testing.assert_array_equal(X.argmax(axis=1), dist.sample_index(key))
    np.testing.assert_array_equal(np.asarray(dist.sample_one_hot(key)).argmax(axis=1), X.argmax(axis=1))
    grad = jax.grad(lambda z: jnp.sum(jnp.asarray(logits) * CategoricalDist(z, tau).sample(key)))(
        jnp.asarray(logits))
    assert np.isfinite(grad).all() and np.abs(grad).max() > 1e-3


def test_larger_tau_gives_flatter_samples():
    # The seed: "A smaller number means closer to deterministic, one-hot encoded samples."
    logits = np.zeros((2000, N), np.float32)
    key = prng_key(3)
    peak = {tau: float(np.asarray(CategoricalDist(logits, tau).sample(key)).max(axis=1).mean())
            for tau in (0.01, 0.2, 1.0, 10.0)}
    assert peak[0.01] > 0.97
    assert peak[0.01] > peak[0.2] > peak[1.0] > peak[10.0]
    assert peak[10.0] < 1.0 / N + 0.05  # nearly uniform


def test_samples_within_a_batch_differ():
    X = np.asarray(CategoricalDist(np.zeros((64, N), np.float32), random_seed=1).sample())
    assert len(np.unique(X, axis=0)) == 64
    assert len(np.unique(X.argmax(axis=1))) == N
