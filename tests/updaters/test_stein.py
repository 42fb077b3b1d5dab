"""SVPG's Stein update against a slow per-particle NumPy reference of the paper's formula, the
median heuristic, and the two limits of the temperature."""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pytest

from plugrl.updaters.stein import median_bandwidth, rbf_kernel, svpg_direction


def reference(X: np.ndarray, G: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """phi_i = 1/n sum_j [grad J(theta_j)/alpha k(theta_j, theta_i) + grad_{theta_j} k(theta_j, theta_i)],
    k = exp(-|.|^2 / h), h = med^2 / log n, one particle at a time."""
    n = len(X)
    distances = [np.linalg.norm(X[i] - X[j]) for i, j in itertools.combinations(range(n), 2)]
    h = np.median(distances) ** 2 / np.log(n)
    phi = np.zeros_like(X)
    for i in range(n):
        for j in range(n):
            k = np.exp(-np.sum((X[j] - X[i]) ** 2) / h)
            phi[i] += G[j] / alpha * k - 2.0 / h * (X[j] - X[i]) * k
    return phi / n, h


@pytest.mark.parametrize("n, d", [(2, 3), (5, 4), (8, 10)])
def test_direction_equals_the_per_particle_formula(n, d):
    rng = np.random.default_rng(n)
    X, G = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    phi, h = svpg_direction(X.astype(np.float32), G.astype(np.float32), temperature=0.5)
    expected, expected_h = reference(X, G, 0.5)
    np.testing.assert_allclose(np.asarray(h), expected_h, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(phi), expected, rtol=1e-4, atol=1e-5)


def test_kernel_and_its_derivative_against_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 3))
    K, dK = (np.asarray(a, np.float64) for a in rbf_kernel(X, bandwidth=2.0))
    np.testing.assert_allclose(np.diag(K), 1.0)
    np.testing.assert_allclose(K, K.T)
    eps = 1e-4
    for j, i, c in [(0, 1, 0), (2, 3, 2), (3, 0, 1)]:
        Xp, Xm = X.copy(), X.copy()
        Xp[j, c] += eps
        Xm[j, c] -= eps
        numeric = (_k(Xp[j], X[i]) - _k(Xm[j], X[i])) / (2 * eps)
        assert dK[j, i, c] == pytest.approx(numeric, rel=1e-3)


def _k(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.exp(-np.sum((x - y) ** 2) / 2.0))


def test_median_heuristic_and_its_degenerate_cases():
    X = np.array([[0.0], [1.0], [3.0]], np.float32)  # distances 1, 2, 3: median 2
    assert float(median_bandwidth(X)) == pytest.approx(4.0 / np.log(3))
    assert float(median_bandwidth(X[:1])) == 1.0
    assert float(median_bandwidth(np.zeros((4, 2), np.float32))) == 1.0


def test_a_very_large_temperature_leaves_only_the_repulsion():
    rng = np.random.default_rng(1)
    X, G = rng.normal(size=(6, 3)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)
    phi, _ = svpg_direction(X, G, temperature=1e9)
    _, dK = rbf_kernel(X)
    np.testing.assert_allclose(np.asarray(phi), np.asarray(dK).sum(axis=0) / 6, atol=1e-6)
    # the repulsion pushes each particle away from the particles' mean
    outward = np.sum(np.asarray(phi) * (X - X.mean(axis=0)), axis=1)
    assert np.all(outward > 0)


def test_a_vanishing_kernel_gives_independent_policy_gradients():
    rng = np.random.default_rng(2)
    X = 100.0 * rng.normal(size=(5, 2)).astype(np.float32)  # far apart
    G = rng.normal(size=(5, 2)).astype(np.float32)
    phi, _ = svpg_direction(X, G, temperature=0.25, bandwidth=1.0)
    np.testing.assert_allclose(np.asarray(phi), G / 0.25 / 5, rtol=1e-6)


def test_traces_under_jit():
    rng = np.random.default_rng(3)
    X, G = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    jitted = jax.jit(lambda X, G: svpg_direction(X, G, 0.5)[0])
    np.testing.assert_allclose(np.asarray(jitted(X, G)), np.asarray(svpg_direction(X, G, 0.5)[0]), rtol=1e-5)


def _hooked_directions(X: np.ndarray, G: np.ndarray, mask: np.ndarray, alpha: float,
                       bandwidth: float | None = None) -> np.ndarray:
    """What the optimizer of each particle receives from train_step's gradient hook, mapped over
    the particles: the loss sum(-G_i * x) has the gradient -G_i (the policy gradient is G_i)."""
    from plugrl._backend import named_vmap
    from plugrl.updaters.stein import PARTICLES, stein_gradient_hook

    hook = stein_gradient_hook(mask, alpha, bandwidth=bandwidth)
    return np.asarray(jax.jit(named_vmap(hook, PARTICLES))(X, -G))


def test_the_gradient_hook_gives_each_particle_minus_phi_on_the_policy_weights():
    rng = np.random.default_rng(3)
    X, G = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    mask = np.array([True, True, False, True, False, True])
    directions = _hooked_directions(X.astype(np.float32), G.astype(np.float32), mask, 0.7)
    phi, _ = reference(X[:, mask], G[:, mask], 0.7)
    np.testing.assert_allclose(directions[:, mask], -phi, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(directions[:, ~mask], -G[:, ~mask], rtol=1e-6)  # the critic's own


def test_the_gradient_hooks_temperature_limits():
    rng = np.random.default_rng(4)
    X, G = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    mask = np.ones(3, bool)
    # A very large temperature: only the repulsion, which points away from the others.
    repulsion = -_hooked_directions(X, G, mask, 1e9)
    _, h = reference(X.astype(np.float64), G, 1.0)
    expected = np.zeros_like(X, dtype=np.float64)
    for i in range(4):
        for j in range(4):
            expected[i] += -2.0 / h * (X[j] - X[i]) * np.exp(-np.sum((X[j] - X[i]) ** 2) / h) / 4
    np.testing.assert_allclose(repulsion, expected, rtol=1e-4, atol=1e-7)
    # A kernel that vanishes between particles: independent policy gradients G/(alpha n).
    np.testing.assert_allclose(-_hooked_directions(X, G, mask, 2.0, bandwidth=1e-4), G / (2.0 * 4), rtol=1e-6)
