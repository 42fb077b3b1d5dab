"""NormalDist against SciPy references, plus sampling and gradient behaviour."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.stats

import plugrl  # noqa: F401  (selects the JAX backend before Keras loads)
from plugrl._backend import prng_key
from plugrl.proba_dists import CategoricalDist, NormalDist

SHAPE = (4, 2, 3)  # [batch_size, *action_shape] with a two-dimensional action shape
EVENT_AXES = (1, 2)


def _params(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=SHAPE).astype(np.float32),
        rng.uniform(-1.5, 1.0, size=SHAPE).astype(np.float32),
    )


@pytest.fixture
def params() -> tuple[np.ndarray, np.ndarray]:
    return _params(0)


def _scipy_norm(mu: np.ndarray, logvar: np.ndarray):
    mu, logvar = mu.astype(np.float64), logvar.astype(np.float64)
    return scipy.stats.norm(loc=mu, scale=np.exp(0.5 * logvar))


def _cross_entropy_by_quadrature(p, q) -> float:
    """-int p(x) log q(x) dx for two scalar scipy normals."""
    lo, hi = p.ppf(1e-12), p.isf(1e-12)
    value, _ = scipy.integrate.quad(lambda x: -p.pdf(x) * q.logpdf(x), lo, hi)
    return value


def test_log_proba(params):
    mu, logvar = params
    x = np.random.default_rng(5).normal(size=SHAPE).astype(np.float32)
    expected = _scipy_norm(mu, logvar).logpdf(x).sum(axis=EVENT_AXES)
    np.testing.assert_allclose(NormalDist(mu, logvar).log_proba(x), expected, rtol=1e-5)


def test_entropy(params):
    expected = _scipy_norm(*params).entropy().sum(axis=EVENT_AXES)
    np.testing.assert_allclose(NormalDist(*params).entropy(), expected, rtol=1e-5)


def test_cross_entropy_and_kl(params):
    other_params = _params(1)
    p, q = _scipy_norm(*params), _scipy_norm(*other_params)
    elementwise = np.vectorize(
        lambda m, s, m_other, s_other: _cross_entropy_by_quadrature(
            scipy.stats.norm(m, s), scipy.stats.norm(m_other, s_other)
        )
    )
    cross_entropy = elementwise(p.mean(), p.std(), q.mean(), q.std()).sum(axis=EVENT_AXES)
    dist, other = NormalDist(*params), NormalDist(*other_params)
    np.testing.assert_allclose(dist.cross_entropy(other), cross_entropy, rtol=1e-5)
    kl = cross_entropy - p.entropy().sum(axis=EVENT_AXES)
    np.testing.assert_allclose(dist.kl_divergence(other), kl, rtol=1e-4)
    np.testing.assert_allclose(dist.kl_divergence(dist), np.zeros(SHAPE[0]), atol=1e-6)


def test_mode_is_mu(params):
    np.testing.assert_array_equal(NormalDist(*params).mode(), params[0])


def test_sample_statistics_inside_jit(params):
    mu, logvar = params
    num_draws = 4000

    @jax.jit
    def draw(mu, logvar, key):
        keys = jax.random.split(key, num_draws)
        return jax.vmap(lambda k: NormalDist(mu, logvar).sample(k))(keys)

    X = np.asarray(draw(jnp.asarray(mu), jnp.asarray(logvar), prng_key(3)))
    assert X.shape == (num_draws, *SHAPE)
    sigma = np.exp(0.5 * logvar)
    # Standard errors: sigma / sqrt(n) for the mean, about sigma / sqrt(2n) for the std.
    np.testing.assert_allclose(X.mean(axis=0), mu, atol=4.5 * sigma.max() / np.sqrt(num_draws))
    np.testing.assert_allclose(X.std(axis=0), sigma, rtol=4.5 / np.sqrt(2 * num_draws))


def test_same_key_same_sample_and_internal_key(params):
    dist = NormalDist(*params)
    np.testing.assert_array_equal(dist.sample(prng_key(1)), dist.sample(prng_key(1)))
    assert not np.array_equal(dist.sample(prng_key(1)), dist.sample(prng_key(2)))
    seeded = [NormalDist(*params, random_seed=9) for _ in range(2)]
    draws = [np.stack([d.sample() for _ in range(3)]) for d in seeded]
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0][0], draws[0][1])


def test_sample_without_key_inside_jit_raises(params):
    with pytest.raises(ValueError, match="key"):
        jax.jit(lambda mu, logvar: NormalDist(mu, logvar).sample())(*params)


def test_reparametrised_gradients(params):
    mu, logvar = (jnp.asarray(p) for p in params)
    key = prng_key(4)

    def total(mu, logvar):
        return jnp.sum(NormalDist(mu, logvar).sample(key))

    grad_mu, grad_logvar = jax.grad(total, argnums=(0, 1))(mu, logvar)
    np.testing.assert_allclose(grad_mu, np.ones(SHAPE))
    # d(mu + exp(logvar / 2) eps) / dlogvar = (x - mu) / 2
    x = NormalDist(mu, logvar).sample(key)
    np.testing.assert_allclose(grad_logvar, 0.5 * (x - mu), rtol=1e-5, atol=1e-7)
    assert np.isfinite(grad_logvar).all() and np.abs(grad_logvar).max() > 1e-3


def test_entropy_gradient_points_to_higher_entropy(params):
    grad = jax.grad(lambda lv: jnp.sum(NormalDist(params[0], lv).entropy()))(jnp.asarray(params[1]))
    np.testing.assert_allclose(grad, np.full(SHAPE, 0.5))


@pytest.mark.parametrize("name", ["mu", "logvar"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_params_raise(params, name, bad):
    values = dict(zip(["mu", "logvar"], params))
    values[name][1, 0, 2] = bad
    message = rf"{name}: expected finite values, got .* at index \(1, 0, 2\)"
    with pytest.raises(ValueError, match=message):
        NormalDist(**values)


def test_bad_shapes_and_types_raise(params):
    mu, logvar = params
    with pytest.raises(ValueError, match="mu, logvar: expected equal shapes"):
        NormalDist(mu, logvar[:, :1])
    dist = NormalDist(mu, logvar)
    with pytest.raises(ValueError, match="x: expected shape"):
        dist.log_proba(mu[:, 0])
    with pytest.raises(TypeError, match="other: expected a NormalDist"):
        dist.cross_entropy(CategoricalDist(mu[:, 0]))


def test_seed_positional_order_name_then_seed(params):
    # keras-gym: NormalDist(mu, logvar, name='normal_dist', random_seed=None)
    dist = NormalDist(*params, "pi", 9)
    assert (dist.name, dist.random_seed) == ("pi", 9)
    assert NormalDist(*params).name == "normal_dist"
    np.testing.assert_array_equal(dist.sample(), NormalDist(*params, random_seed=9).sample())


def test_seed_in_the_name_slot_raises_at_construction(params):
    with pytest.raises(TypeError, match="name: expected a str, got int 9"):
        NormalDist(*params, 9)
