"""NStepCache against a slow, direct NumPy reference."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from plugrl.caching import NStepCache

NS = [1, 2, 3, 5]
GAMMAS = [0.0, 0.9, 1.0]
ENDS = ["terminated", "truncated", "truncated_with_a_next", "ongoing"]


class DummyEnv:
    def __init__(self, action_space: gym.spaces.Space[Any]) -> None:
        self.action_space = action_space


@pytest.fixture(scope="module", params=["CartPole-v1", "Pendulum-v1"])
def env(request: pytest.FixtureRequest) -> Any:
    env = gym.make(request.param)
    yield env
    env.close()


def lengths(n: int) -> list[int]:
    return sorted({1, max(1, n - 1), n, n + 1, 2 * n + 3, 9})


def make_episode(env: Any, length: int, rng: np.random.Generator) -> dict[str, Any]:
    """Random observations (step index in the first entry, so they are all distinct)."""
    obs_shape = env.observation_space.shape
    S = rng.normal(size=(length + 1, *obs_shape)).astype(np.float32)
    S[:, 0] = np.arange(length + 1)
    env.action_space.seed(int(rng.integers(2**31)))
    A = [env.action_space.sample() for _ in range(length + 1)]
    R = rng.normal(size=length)
    return {"S": S[:length], "A": A[:length], "R": R, "s_final": S[length], "a_final": A[length]}


def reference(ep: dict[str, Any], n: int, gamma: float, end: str, space: Any) -> list[tuple]:
    """Every transition's (s, a, Rn, In, s_next, a_next), written out term by term."""
    S, A, R = ep["S"], ep["A"], ep["R"]
    T = len(R)
    out = []
    for t in range(T):
        if t + n < T:
            Rn = sum(gamma**k * R[t + k] for k in range(n))
            out.append((S[t], A[t], Rn, gamma**n, S[t + n], A[t + n]))
            continue
        if end == "ongoing":
            break  # not enough future transitions yet to pop this one
        m = T - t
        Rn = sum(gamma**k * R[t + k] for k in range(m))
        if end == "terminated":
            out.append((S[t], A[t], Rn, 0.0, S[T - 1], A[T - 1]))
        elif end == "truncated_with_a_next":
            out.append((S[t], A[t], Rn, gamma**m, ep["s_final"], ep["a_final"]))
        else:
            marker = -1 if isinstance(space, gym.spaces.Discrete) else np.full(space.shape, np.nan)
            out.append((S[t], A[t], Rn, gamma**m, ep["s_final"], marker))
    return out


def add_episode(
    cache: NStepCache, ep: dict[str, Any], end: str, *, pop_after_add: bool
) -> list[tuple]:
    T = len(ep["R"])
    popped = []
    for t in range(T):
        last = t == T - 1
        kwargs: dict[str, Any] = {}
        if last and end.startswith("truncated"):
            kwargs = {"truncated": True, "s_next": ep["s_final"]}
            if end == "truncated_with_a_next":
                kwargs["a_next"] = ep["a_final"]
        cache.add(ep["S"][t], ep["A"][t], ep["R"][t], last and end == "terminated", **kwargs)
        if pop_after_add:
            while cache:
                popped.append(cache.pop())
            # the cache must hand out exactly what the reference says is known at this point
            ref_end = end if last else "ongoing"
            so_far = {k: (v[: t + 1] if k in ("S", "A", "R") else v) for k, v in ep.items()}
            known = reference(so_far, cache.n, cache.gamma, ref_end, cache.env.action_space)
            assert len(popped) == len(known)
    return popped


def check_batch(batch: tuple, expected: list[tuple], space: Any) -> None:
    S, A, Rn, In, S_next, A_next = batch
    B = len(expected)
    discrete = isinstance(space, gym.spaces.Discrete)
    action_shape = () if discrete else space.shape
    assert S.shape == (B, *expected[0][0].shape) and S.dtype == np.float32
    assert A.shape == (B, *action_shape) and A.dtype == (np.int64 if discrete else np.float32)
    assert A_next.shape == A.shape and A_next.dtype == A.dtype
    assert Rn.shape == In.shape == (B,) and Rn.dtype == In.dtype == np.float32
    assert S_next.shape == S.shape
    np.testing.assert_array_equal(S, np.stack([e[0] for e in expected]))
    np.testing.assert_array_equal(A, np.stack([np.asarray(e[1], dtype=A.dtype) for e in expected]))
    np.testing.assert_allclose(Rn, [e[2] for e in expected], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(In, [e[3] for e in expected], rtol=1e-6, atol=0)
    np.testing.assert_array_equal(S_next, np.stack([e[4] for e in expected]))
    np.testing.assert_array_equal(A_next, np.stack([np.asarray(e[5], dtype=A.dtype) for e in expected]))


@pytest.mark.parametrize("end", ENDS)
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("n", NS)
def test_pop_after_every_add_matches_reference(env: Any, n: int, gamma: float, end: str) -> None:
    rng = np.random.default_rng(n * 100 + int(gamma * 10))
    cache = NStepCache(env, n, gamma)
    for length in lengths(n):
        ep = make_episode(env, length, rng)
        popped = add_episode(cache, ep, end, pop_after_add=True)
        expected = reference(ep, n, gamma, end, env.action_space)
        assert len(popped) == len(expected)
        for batch, e in zip(popped, expected):
            check_batch(batch, [e], env.action_space)
        assert len(cache) == length - len(expected)
        cache.reset()


@pytest.mark.parametrize("end", ENDS)
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("n", NS)
def test_flush_matches_reference(env: Any, n: int, gamma: float, end: str) -> None:
    rng = np.random.default_rng(n * 100 + int(gamma * 10) + 1)
    cache = NStepCache(env, n, gamma)
    for length in lengths(n):
        ep = make_episode(env, length, rng)
        add_episode(cache, ep, end, pop_after_add=False)
        expected = reference(ep, n, gamma, end, env.action_space)
        if not expected:
            assert not cache
            with pytest.raises(IndexError):
                cache.flush()
        else:
            check_batch(cache.flush(), expected, env.action_space)
            assert not cache
        cache.reset()


@pytest.mark.parametrize("end", ["terminated", "truncated"])
def test_pop_some_then_flush_the_rest(env: Any, end: str) -> None:
    n, gamma, rng = 3, 0.9, np.random.default_rng(7)
    ep = make_episode(env, 10, rng)
    cache = NStepCache(env, n, gamma)
    add_episode(cache, ep, end, pop_after_add=False)
    expected = reference(ep, n, gamma, end, env.action_space)
    first = [cache.pop() for _ in range(4)]
    for batch, e in zip(first, expected[:4]):
        check_batch(batch, [e], env.action_space)
    check_batch(cache.flush(), expected[4:], env.action_space)
    assert len(cache) == 0 and not cache


def test_next_episode_after_emptying_finished_one() -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=2, gamma=1.0)
    cache.add(np.zeros(1), 0, 1.0, True)
    cache.flush()
    cache.add(np.ones(1), 1, 2.0, False)
    cache.add(np.ones(1), 1, 3.0, True)
    _, _, Rn, In, _, _ = cache.flush()
    np.testing.assert_allclose(Rn, [5.0, 3.0])
    np.testing.assert_allclose(In, [0.0, 0.0])


def test_done_and_truncated_means_terminated() -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=2, gamma=0.5)
    cache.add(np.zeros(1), 0, 1.0, True, truncated=True)  # s_next not needed: no bootstrapping
    _, _, Rn, In, _, A_next = cache.pop()
    assert Rn.tolist() == [1.0] and In.tolist() == [0.0] and A_next.tolist() == [0]


@pytest.mark.parametrize(
    ("space", "a_next", "expected"),
    [
        (gym.spaces.Discrete(3), None, np.array([-1])),
        (gym.spaces.Discrete(3), 2, np.array([2])),
        (gym.spaces.Box(-1, 1, (2,)), None, np.full((1, 2), np.nan, dtype=np.float32)),
        (gym.spaces.Box(-1, 1, (2,)), [0.5, -0.5], np.array([[0.5, -0.5]], dtype=np.float32)),
    ],
)
def test_truncated_a_next_marker(space: Any, a_next: Any, expected: np.ndarray) -> None:
    cache = NStepCache(DummyEnv(space), n=1, gamma=0.9)
    a = 0 if isinstance(space, gym.spaces.Discrete) else np.zeros(2)
    cache.add(np.zeros(3), a, 1.0, False, truncated=True, s_next=np.ones(3), a_next=a_next)
    _, _, Rn, In, S_next, A_next = cache.pop()
    np.testing.assert_array_equal(A_next, expected)
    assert A_next.dtype == expected.dtype
    np.testing.assert_allclose(In, [0.9])
    np.testing.assert_array_equal(S_next, [np.ones(3)])


def test_observations_are_copied() -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=1, gamma=1.0)
    s = np.zeros(2)
    cache.add(s, 0, 0.0, False)
    s[:] = 5.0  # envs may reuse their observation buffer
    cache.add(s, 1, 0.0, True)
    S, _, _, _, S_next, _ = cache.flush()
    np.testing.assert_array_equal(S, [[0.0, 0.0], [5.0, 5.0]])
    np.testing.assert_array_equal(S_next, [[5.0, 5.0], [5.0, 5.0]])


def test_len_and_bool_while_ongoing() -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=2, gamma=1.0)
    assert len(cache) == 0 and not cache
    for k in range(1, 4):
        cache.add(np.zeros(1), 0, 1.0, False)
        assert len(cache) == k and bool(cache) == (k > 2)
    cache.reset()
    assert len(cache) == 0 and not cache


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "error"),
    [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError), ("3", TypeError)],
)
def test_bad_n(n: Any, error: type) -> None:
    with pytest.raises(error, match=r"^n: expected an int >= 1, got"):
        NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=n, gamma=0.9)


@pytest.mark.parametrize(
    ("gamma", "error"),
    [(1.5, ValueError), (-0.1, ValueError), (float("nan"), ValueError), ("0.9", TypeError)],
)
def test_bad_gamma(gamma: Any, error: type) -> None:
    with pytest.raises(error, match=r"^gamma: expected a float in \[0, 1\], got"):
        NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=1, gamma=gamma)


def test_bad_env() -> None:
    with pytest.raises(TypeError, match="^env: expected"):
        NStepCache(object(), n=1, gamma=0.9)


@pytest.mark.parametrize("r", [float("nan"), float("inf"), -np.inf, np.float32("nan")])
@pytest.mark.parametrize("done", [False, True])
def test_non_finite_reward_leaves_cache_unchanged(r: float, done: bool) -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=2, gamma=1.0)
    cache.add(np.zeros(1), 0, 1.0, False)
    cache.add(np.ones(1), 1, 2.0, False)
    with pytest.raises(ValueError, match="^r: expected a finite reward, got"):
        cache.add(np.full(1, 9.0), 0, r, done)
    assert len(cache) == 2 and not cache
    cache.add(np.full(1, 2.0), 0, 3.0, True)  # the failed add must not have ended the episode
    S, _, Rn, In, _, _ = cache.flush()
    np.testing.assert_array_equal(S[:, 0], [0.0, 1.0, 2.0])
    np.testing.assert_allclose(Rn, [3.0, 5.0, 3.0])
    np.testing.assert_allclose(In, [1.0, 0.0, 0.0])


def test_non_real_reward() -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=1, gamma=1.0)
    with pytest.raises(TypeError, match="^r: expected"):
        cache.add(np.zeros(1), 0, "1.0", False)
    assert len(cache) == 0


def test_truncated_without_s_next() -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=2, gamma=1.0)
    cache.add(np.zeros(1), 0, 1.0, False)
    with pytest.raises(ValueError, match="^s_next: expected the final observation"):
        cache.add(np.ones(1), 1, 1.0, False, truncated=True)
    assert len(cache) == 1 and not cache
    with pytest.raises(ValueError, match="^s_next: expected an observation of shape"):
        cache.add(np.ones(1), 1, 1.0, False, truncated=True, s_next=np.ones(2))
    assert len(cache) == 1


def test_bad_actions() -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Box(-1, 1, (2,))), n=1, gamma=1.0)
    with pytest.raises(ValueError, match=r"^a: expected an action of shape \(2,\)"):
        cache.add(np.zeros(1), np.zeros(3), 1.0, False)
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=1, gamma=1.0)
    with pytest.raises(TypeError, match="^a: expected an int action"):
        cache.add(np.zeros(1), 0.5, 1.0, False)
    assert len(cache) == 0


@pytest.mark.parametrize("method", ["pop", "flush"])
def test_nothing_to_pop(method: str) -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=2, gamma=1.0)
    with pytest.raises(IndexError, match="empty NStepCache"):
        getattr(cache, method)()
    cache.add(np.zeros(1), 0, 1.0, False)
    cache.add(np.zeros(1), 0, 1.0, False)
    with pytest.raises(RuntimeError, match="ongoing episode"):  # the same error is both
        getattr(cache, method)()
    assert len(cache) == 2


def test_add_after_finished_episode() -> None:
    cache = NStepCache(DummyEnv(gym.spaces.Discrete(2)), n=2, gamma=1.0)
    cache.add(np.zeros(1), 0, 1.0, False)
    cache.add(np.zeros(1), 0, 1.0, True)
    cache.pop()
    with pytest.raises(RuntimeError, match=r"pop\(\) or flush\(\).*reset\(\)"):
        cache.add(np.zeros(1), 0, 1.0, False)
    assert len(cache) == 1
    cache.pop()
    cache.add(np.zeros(1), 0, 1.0, False)  # emptied: a new episode may start
    assert len(cache) == 1
