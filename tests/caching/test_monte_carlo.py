"""MonteCarloCache against a slow, direct NumPy reference."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from plugrl.caching import MonteCarloCache


class DummyEnv:
    def __init__(self, action_space: gym.spaces.Space[Any]) -> None:
        self.action_space = action_space


@pytest.fixture(scope="module", params=["CartPole-v1", "Pendulum-v1"])
def env(request: pytest.FixtureRequest) -> Any:
    env = gym.make(request.param)
    yield env
    env.close()


def make_episode(env: Any, length: int, rng: np.random.Generator) -> tuple[np.ndarray, list, np.ndarray]:
    S = rng.normal(size=(length, *env.observation_space.shape)).astype(np.float32)
    S[:, 0] = np.arange(length)  # distinct observations, so order mistakes show
    env.action_space.seed(int(rng.integers(2**31)))
    A = [env.action_space.sample() for _ in range(length)]
    return S, A, rng.normal(size=length)


def reference_returns(R: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = sum_k gamma^k r_{t+k}, term by term."""
    T = len(R)
    return np.array([sum(gamma**k * R[t + k] for k in range(T - t)) for t in range(T)])


def add_episode(cache: MonteCarloCache, S: np.ndarray, A: list, R: np.ndarray, end: str) -> None:
    T = len(R)
    for t in range(T):
        last = t == T - 1
        if last and end == "truncated":
            cache.add(S[t], A[t], R[t], False, truncated=True, s_next=S[t] + 1)
        else:
            cache.add(S[t], A[t], R[t], last)
        assert bool(cache) == last  # returns are known only once the episode has ended


def check_dtypes(A: np.ndarray, G: np.ndarray, space: Any) -> None:
    assert A.dtype == (np.int64 if isinstance(space, gym.spaces.Discrete) else np.float32)
    assert G.dtype == np.float32 and G.ndim == 1


@pytest.mark.parametrize("end", ["terminated", "truncated"])
@pytest.mark.parametrize("gamma", [0.0, 0.9, 1.0])
def test_pop_goes_backwards(env: Any, gamma: float, end: str) -> None:
    rng = np.random.default_rng(int(gamma * 10))
    cache = MonteCarloCache(env, gamma)
    for length in [1, 2, 5, 13]:
        S, A, R = make_episode(env, length, rng)
        add_episode(cache, S, A, R, end)
        G_ref = reference_returns(R, gamma)
        for t in reversed(range(length)):
            assert len(cache) == t + 1
            S1, A1, G1 = cache.pop()
            assert S1.shape == (1, *S.shape[1:]) and G1.shape == (1,)
            check_dtypes(A1, G1, env.action_space)
            np.testing.assert_array_equal(S1, S[t : t + 1])
            np.testing.assert_array_equal(A1, np.asarray(A[t : t + 1], dtype=A1.dtype))
            np.testing.assert_allclose(G1, G_ref[t : t + 1], rtol=1e-6, atol=1e-6)
        assert len(cache) == 0 and not cache


@pytest.mark.parametrize("end", ["terminated", "truncated"])
@pytest.mark.parametrize("gamma", [0.0, 0.9, 1.0])
def test_flush_is_chronological(env: Any, gamma: float, end: str) -> None:
    rng = np.random.default_rng(int(gamma * 10) + 1)
    cache = MonteCarloCache(env, gamma)
    for length in [1, 2, 5, 13]:
        S, A, R = make_episode(env, length, rng)
        add_episode(cache, S, A, R, end)
        S_out, A_out, G = cache.flush()
        check_dtypes(A_out, G, env.action_space)
        np.testing.assert_array_equal(S_out, S)
        np.testing.assert_array_equal(A_out, np.asarray(A, dtype=A_out.dtype))
        np.testing.assert_allclose(G, reference_returns(R, gamma), rtol=1e-6, atol=1e-6)
        assert len(cache) == 0 and not cache


def test_pop_some_then_flush_the_rest(env: Any) -> None:
    gamma, rng = 0.9, np.random.default_rng(3)
    S, A, R = make_episode(env, 8, rng)
    cache = MonteCarloCache(env, gamma)
    add_episode(cache, S, A, R, "terminated")
    G_ref = reference_returns(R, gamma)
    popped = [cache.pop()[2][0] for _ in range(3)]
    np.testing.assert_allclose(popped, G_ref[::-1][:3], rtol=1e-6)
    S_out, _, G = cache.flush()
    np.testing.assert_array_equal(S_out, S[:5])
    np.testing.assert_allclose(G, G_ref[:5], rtol=1e-6)


def test_next_episode_starts_fresh() -> None:
    cache = MonteCarloCache(DummyEnv(gym.spaces.Discrete(2)), gamma=1.0)
    cache.add(np.zeros(1), 0, 5.0, True)
    cache.pop()
    cache.add(np.zeros(1), 0, 1.0, False)
    cache.add(np.zeros(1), 1, 2.0, True)
    np.testing.assert_allclose(cache.flush()[2], [3.0, 2.0])  # no leftover G from episode one


def test_observations_are_copied() -> None:
    cache = MonteCarloCache(DummyEnv(gym.spaces.Discrete(2)), gamma=1.0)
    s = np.zeros(2)
    cache.add(s, 0, 0.0, False)
    s[:] = 5.0
    cache.add(s, 1, 0.0, True)
    np.testing.assert_array_equal(cache.flush()[0], [[0.0, 0.0], [5.0, 5.0]])


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gamma", "error"),
    [(1.5, ValueError), (-0.1, ValueError), (float("nan"), ValueError), (None, TypeError)],
)
def test_bad_gamma(gamma: Any, error: type) -> None:
    with pytest.raises(error, match=r"^gamma: expected a float in \[0, 1\], got"):
        MonteCarloCache(DummyEnv(gym.spaces.Discrete(2)), gamma=gamma)


@pytest.mark.parametrize("r", [float("nan"), float("inf"), -np.inf])
@pytest.mark.parametrize("done", [False, True])
def test_non_finite_reward_leaves_cache_unchanged(r: float, done: bool) -> None:
    cache = MonteCarloCache(DummyEnv(gym.spaces.Discrete(2)), gamma=1.0)
    cache.add(np.zeros(1), 0, 1.0, False)
    with pytest.raises(ValueError, match="^r: expected a finite reward, got"):
        cache.add(np.ones(1), 1, r, done)
    assert len(cache) == 1 and not cache
    cache.add(np.ones(1), 1, 2.0, True)
    np.testing.assert_allclose(cache.flush()[2], [3.0, 2.0])


@pytest.mark.parametrize("method", ["pop", "flush"])
def test_nothing_to_pop(method: str) -> None:
    cache = MonteCarloCache(DummyEnv(gym.spaces.Discrete(2)), gamma=1.0)
    with pytest.raises(IndexError, match="empty MonteCarloCache"):
        getattr(cache, method)()
    cache.add(np.zeros(1), 0, 1.0, False)
    with pytest.raises(RuntimeError, match="expected a finished episode"):
        getattr(cache, method)()
    assert len(cache) == 1


def test_add_after_finished_episode() -> None:
    cache = MonteCarloCache(DummyEnv(gym.spaces.Discrete(2)), gamma=1.0)
    cache.add(np.zeros(1), 0, 1.0, False)
    cache.add(np.zeros(1), 0, 1.0, False, truncated=True)
    cache.pop()
    with pytest.raises(RuntimeError, match=r"pop\(\) or flush\(\).*reset\(\)"):
        cache.add(np.zeros(1), 0, 1.0, False)
    assert len(cache) == 1
    cache.reset()
    cache.add(np.zeros(1), 0, 1.0, False)
    assert len(cache) == 1 and not cache
