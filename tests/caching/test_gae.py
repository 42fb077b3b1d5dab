"""GAE against a slow NumPy reference loop, in its limits, and under jax.jit."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from plugrl.caching import GAE, gae_advantages
from plugrl.caching.gae import standardize

T, N = 40, 4
TOL = {"rtol": 1e-5, "atol": 1e-5}


def reference(R, V, V_next, terminated, truncated, gamma, gae_lambda):
    """The GAE recursion written out one env and one step at a time, in float64."""
    Adv = np.zeros(R.shape, np.float64)
    for n in range(R.shape[1]):
        A_next = 0.0
        for t in reversed(range(R.shape[0])):
            bootstrap = 0.0 if terminated[t, n] else gamma * V_next[t, n]
            delta = R[t, n] + bootstrap - V[t, n]
            ended = terminated[t, n] or truncated[t, n]
            A_next = delta + (0.0 if ended else gamma * gae_lambda * A_next)
            Adv[t, n] = A_next
    return Adv, Adv + V


def rollout(seed: int, p_end: float = 0.1) -> dict[str, np.ndarray]:
    """Random values and rewards with terminations and truncations in the middle."""
    rng = np.random.default_rng(seed)
    ends = rng.random((T, N))
    terminated = ends < p_end / 2
    truncated = (ends >= p_end / 2) & (ends < p_end)
    assert terminated.any() and truncated.any()
    V = rng.normal(size=(T, N)).astype(np.float32)
    # Within an episode the next value is the next row's value; after an end it is the final obs's.
    V_next = np.concatenate([V[1:], rng.normal(size=(1, N))]).astype(np.float32)
    V_next[truncated] = rng.normal(size=truncated.sum())
    V_next[terminated] = np.nan  # ignored: nothing is bootstrapped after a termination
    R = rng.normal(size=(T, N)).astype(np.float32)
    return {"R": R, "V": V, "V_next": V_next, "terminated": terminated, "truncated": truncated}


def args(b: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    return b["R"], b["V"], b["V_next"], b["terminated"], b["terminated"] | b["truncated"]


@pytest.mark.parametrize("gamma, gae_lambda", [(0.99, 0.95), (0.9, 0.5), (1.0, 1.0), (0.0, 0.7)])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_reference(gamma: float, gae_lambda: float, seed: int) -> None:
    b = rollout(seed)
    want_adv, want_ret = reference(**b, gamma=gamma, gae_lambda=gae_lambda)
    Adv, Rlambda = GAE(gamma, gae_lambda)(**b)
    assert Adv.dtype == Rlambda.dtype == np.float32 and Adv.shape == (T, N)
    np.testing.assert_allclose(Adv, want_adv, **TOL)
    np.testing.assert_allclose(Rlambda, want_ret, **TOL)
    Adv2, Rlambda2 = gae_advantages(*args(b), gamma, gae_lambda)  # eager, keras.ops
    np.testing.assert_allclose(np.asarray(Adv2), want_adv, **TOL)
    np.testing.assert_allclose(np.asarray(Rlambda2), want_ret, **TOL)


def test_lambda_zero_gives_one_step_td_errors() -> None:
    b, gamma = rollout(2), 0.9
    Adv, Rlambda = GAE(gamma, 0.0)(**b)
    bootstrap = np.where(b["terminated"], 0.0, gamma * b["V_next"])
    np.testing.assert_allclose(Adv, b["R"] + bootstrap - b["V"], **TOL)
    np.testing.assert_allclose(Rlambda, b["R"] + bootstrap, **TOL)


def test_lambda_one_gamma_one_gives_monte_carlo_returns() -> None:
    b = rollout(3)
    R, V, V_next, term, trunc = b["R"], b["V"], b["V_next"], b["terminated"], b["truncated"]
    Adv, Rlambda = GAE(gamma=1.0, gae_lambda=1.0)(**b)
    for n in range(N):
        for t in range(T):
            end = next((k for k in range(t, T) if term[k, n] or trunc[k, n]), T - 1)
            G = R[t : end + 1, n].sum(dtype=np.float64)
            if not term[end, n]:  # a truncated or unfinished episode bootstraps from its last obs
                G += V_next[end, n]
            assert Adv[t, n] == pytest.approx(G - V[t, n], abs=1e-4)
            assert Rlambda[t, n] == pytest.approx(G, abs=1e-4)


def test_truncation_bootstraps_and_termination_does_not() -> None:
    R = np.array([[1.0], [2.0], [3.0]], np.float32)
    V = np.array([[0.5], [0.25], [0.125]], np.float32)
    V_next = np.array([[0.25], [10.0], [np.nan]], np.float32)
    terminated = np.array([[False], [False], [True]])
    truncated = np.array([[False], [True], [False]])
    Adv, _ = GAE(gamma=0.5, gae_lambda=1.0)(R, V, V_next, terminated, truncated)
    # Step 1 is truncated: bootstrap from the final obs's value 10 and do not look at step 2.
    assert Adv[1, 0] == pytest.approx(2.0 + 0.5 * 10.0 - 0.25)
    assert Adv[2, 0] == pytest.approx(3.0 - 0.125)
    assert Adv[0, 0] == pytest.approx(1.0 + 0.5 * 0.25 - 0.5 + 0.5 * Adv[1, 0])


def test_works_under_jit_with_traced_discounts() -> None:
    b = rollout(4)
    want_adv, want_ret = reference(**b, gamma=0.97, gae_lambda=0.9)
    Adv, Rlambda = jax.jit(gae_advantages)(*args(b), 0.97, 0.9)
    np.testing.assert_allclose(np.asarray(Adv), want_adv, **TOL)
    np.testing.assert_allclose(np.asarray(Rlambda), want_ret, **TOL)
    # Discount factors are ordinary inputs, so the estimator vmaps over hyperparameters.
    gammas = np.array([0.5, 0.97], np.float32)
    many = jax.vmap(lambda g: gae_advantages(*args(b), g, 0.9)[0])(gammas)
    np.testing.assert_allclose(np.asarray(many[1]), want_adv, **TOL)
    want_half, _ = reference(**b, gamma=0.5, gae_lambda=0.9)
    np.testing.assert_allclose(np.asarray(many[0]), want_half, **TOL)


def test_standardize_keeps_returns_raw() -> None:
    b = rollout(5)
    raw_adv, raw_ret = GAE(0.99, 0.95)(**b)
    Adv, Rlambda = GAE(0.99, 0.95, standardize=True)(**b)
    assert Adv.mean() == pytest.approx(0.0, abs=1e-5)
    assert Adv.std() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(Adv, (raw_adv - raw_adv.mean()) / (raw_adv.std() + 1e-8), **TOL)
    np.testing.assert_allclose(Rlambda, raw_ret, **TOL)
    np.testing.assert_allclose(np.asarray(standardize(raw_adv)), Adv, **TOL)
    np.testing.assert_array_equal(np.asarray(standardize(np.ones((3, 2)))), np.zeros((3, 2)))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"gamma": 1.5}, ValueError, r"gamma: expected a float in \[0, 1\], got 1.5"),
        ({"gae_lambda": -0.1}, ValueError, r"gae_lambda: expected a float in \[0, 1\], got -0.1"),
        ({"gae_lambda": float("nan")}, ValueError, "gae_lambda"),
        ({"gamma": "0.9"}, TypeError, "gamma: expected a float"),
        ({"standardize": 1}, TypeError, "standardize: expected a bool"),
    ],
)
def test_invalid_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        GAE(**kwargs)


def test_invalid_inputs() -> None:
    b = rollout(6)
    with pytest.raises(ValueError, match=r"V: expected the shape of R, \(40, 4\), got \(40, 3\)"):
        GAE()(b["R"], b["V"][:, :3], b["V_next"], b["terminated"], b["truncated"])
    with pytest.raises(ValueError, match="R: expected an array of shape"):
        GAE()(1.0, 1.0, 1.0, False, False)
    R = b["R"].copy()
    R[3, 2] = np.nan
    with pytest.raises(ValueError,
                       match=r"R: expected no NaN, got 1 NaN entries \(first at index \(3, 2\)\)"):
        GAE()(R, b["V"], b["V_next"], b["terminated"], b["truncated"])
    V_next = b["V_next"].copy()
    V_next[~b["terminated"]] = np.nan
    for call in (lambda: GAE()(b["R"], b["V"], V_next, b["terminated"], b["truncated"]),
                 lambda: gae_advantages(b["R"], b["V"], V_next, b["terminated"], b["terminated"], 0.9, 0.9)):
        with pytest.raises(ValueError, match="V_next: expected no NaN"):
            call()
    with pytest.raises(ValueError, match="gamma"):
        gae_advantages(*args(b), 2.0, 0.9)
