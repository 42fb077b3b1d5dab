"""ExperienceReplayBuffer and PrioritizedReplayBuffer against a slow, direct NumPy reference."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from plugrl.caching import ExperienceReplayBuffer, PrioritizedReplayBuffer, SumTree


class DummyEnv:
    def __init__(self, obs_space: gym.spaces.Space[Any], action_space: gym.spaces.Space[Any]) -> None:
        self.observation_space = obs_space
        self.action_space = action_space


def discrete_env() -> DummyEnv:
    return DummyEnv(gym.spaces.Box(-np.inf, np.inf, (3,), np.float32), gym.spaces.Discrete(4))


def box_env() -> DummyEnv:
    return DummyEnv(gym.spaces.Box(-np.inf, np.inf, (3,), np.float32),
                    gym.spaces.Box(-1.0, 1.0, (2,), np.float32))


def fill(buf: ExperienceReplayBuffer, num_episodes: int, rng: np.random.Generator,
         ends: tuple[str, ...] = ("terminated", "truncated", "abandoned")) -> list[dict[str, Any]]:
    """Add random episodes; return the stream of written slots (a truncation writes two).

    Observations are ``[global step, episode, noise]`` so that each one is unique.
    """
    stream: list[dict[str, Any]] = []
    space = buf.env.action_space
    space.seed(int(rng.integers(2**31)))
    for ep in range(num_episodes):
        end = ends[rng.integers(len(ends))]
        length = int(rng.integers(1, 8))
        for t in range(length):
            s = np.array([len(stream), ep, rng.normal()], np.float32)
            a, r = space.sample(), float(rng.normal())
            last = t == length - 1
            step = {"s": s, "a": a, "r": r, "ep": ep, "final": False,
                    "term": last and end == "terminated", "trunc": last and end == "truncated"}
            if step["trunc"]:
                step["s_final"] = np.array([len(stream) + 1, ep, rng.normal()], np.float32)
                buf.add(s, a, r, False, ep, truncated=True, s_next=step["s_final"])
            else:
                buf.add(s, a, r, step["term"], ep)
            stream.append(step)
            if step["trunc"]:
                stream.append({"ep": ep, "final": True})
    return stream


def reference(stream: list[dict[str, Any]], capacity: int, n: int, gamma: float) -> dict[float, tuple]:
    """Every sampleable transition, keyed by ``s[0]``: ``(a, Rn, In, s_next, a_next)``."""
    stored = stream[-capacity:]
    out = {}
    for i, x in enumerate(stored):
        if x["final"]:
            continue
        Rn = 0.0
        for k in range(n):
            j = i + k
            if j >= len(stored) or stored[j]["ep"] != x["ep"]:
                break
            y = stored[j]
            Rn += gamma**k * y["r"]
            if y["term"]:
                out[float(x["s"][0])] = (x["a"], Rn, 0.0, y["s"], y["a"])
                break
            if y["trunc"]:
                out[float(x["s"][0])] = (x["a"], Rn, gamma ** (k + 1), y["s_final"], None)
                break
        else:
            j = i + n
            if j < len(stored) and stored[j]["ep"] == x["ep"]:
                out[float(x["s"][0])] = (x["a"], Rn, gamma**n, stored[j]["s"], stored[j]["a"])
    return out


def check_batch(batch: tuple, ref: dict[float, tuple]) -> set[float]:
    S, A, Rn, In, S_next, A_next = batch
    seen = set()
    for i in range(len(S)):
        a, rn, in_, s_next, a_next = ref[float(S[i, 0])]
        np.testing.assert_allclose(A[i], a, rtol=1e-6)
        np.testing.assert_allclose(Rn[i], rn, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(In[i], in_, rtol=1e-6)
        np.testing.assert_array_equal(S_next[i], s_next)
        assert S_next[i, 1] == S[i, 1], "a sample crossed episodes"
        if a_next is None:
            assert np.all(A_next[i] == -1) if A.dtype == np.int64 else np.all(np.isnan(A_next[i]))
        else:
            np.testing.assert_allclose(A_next[i], a_next, rtol=1e-6)
        seen.add(float(S[i, 0]))
    return seen


@pytest.mark.parametrize("make_env", [discrete_env, box_env])
@pytest.mark.parametrize("capacity", [23, 1000])
@pytest.mark.parametrize("gamma", [0.9, 1.0])
@pytest.mark.parametrize("n", [1, 3])
def test_matches_reference(make_env: Any, capacity: int, gamma: float, n: int) -> None:
    rng = np.random.default_rng(capacity + n)
    buf = ExperienceReplayBuffer(make_env(), capacity, batch_size=4, bootstrap_n=n, gamma=gamma,
                                 random_seed=0)
    stream = fill(buf, 40, rng)
    assert len(stream) > capacity or capacity == 1000
    ref = reference(stream, capacity, n, gamma)
    stored = stream[-capacity:]
    assert len(buf) == sum(not x["final"] for x in stored)
    assert buf.num_valid == len(ref)
    seen: set[float] = set()
    for _ in range(300):
        seen |= check_batch(buf.sample(), ref)
    assert seen == set(ref)  # every valid transition is reachable


def test_sampling_is_uniform() -> None:
    buf = ExperienceReplayBuffer(discrete_env(), 50, batch_size=10, random_seed=1)
    for t in range(10):
        buf.add(np.array([t, 0, 0], np.float32), 0, 1.0, t == 9)
    counts = np.zeros(10)
    for _ in range(2000):
        counts += np.bincount(buf.sample()[0][:, 0].astype(int), minlength=10)
    expected = counts.sum() / 10
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 30  # df=9: p < 1e-3 beyond 27.9


def test_memory_footprint_of_frames() -> None:
    env = DummyEnv(gym.spaces.Box(0, 255, (84, 84), np.uint8), gym.spaces.Discrete(6))
    capacity = 500
    buf = ExperienceReplayBuffer(env, capacity, batch_size=2, bootstrap_n=3)
    assert buf._S.nbytes == capacity * 84 * 84
    assert buf.nbytes < 1.01 * capacity * 84 * 84
    frame = np.full((84, 84), 7, np.uint8)
    for t in range(5):
        buf.add(frame, t % 6, 0.0, t == 4)
    S, _, _, _, S_next, _ = buf.sample()
    assert S.dtype == np.uint8 and S_next.dtype == np.uint8


def snapshot(buf: ExperienceReplayBuffer) -> dict[str, Any]:
    state = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(buf).items()
             if k not in ("_rng", "_tree")}
    if isinstance(buf, PrioritizedReplayBuffer):
        state["tree"] = buf._tree._tree.copy()
    return state


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for k, value in a.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, b[k], err_msg=k)
        elif k != "env":
            assert value == b[k], k


@pytest.mark.parametrize("kwargs, match", [
    ({"capacity": 0}, "capacity"), ({"batch_size": 0}, "batch_size"),
    ({"bootstrap_n": 0}, "bootstrap_n"), ({"gamma": 1.5}, "gamma"),
])
def test_construction_errors(kwargs: dict[str, Any], match: str) -> None:
    args = {"capacity": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        ExperienceReplayBuffer(discrete_env(), **args)


@pytest.mark.parametrize("cls", [ExperienceReplayBuffer, PrioritizedReplayBuffer])
@pytest.mark.parametrize("call, error, match", [
    (lambda b, s: b.add(s, 0, float("nan"), False), ValueError, "r:"),
    (lambda b, s: b.add(s, 0, float("inf"), False), ValueError, "r:"),
    (lambda b, s: b.add(s[:2], 0, 1.0, False), ValueError, r"s: expected .*\(3,\).*\(2,\)"),
    (lambda b, s: b.add(s, 4, 1.0, False), ValueError, r"a: expected .*\[0, 4\).*4"),
    (lambda b, s: b.add(s, 0.5, 1.0, False), TypeError, "a:"),
    (lambda b, s: b.add(s, 0, 1.0, False, truncated=True), ValueError, "s_next"),
    (lambda b, s: b.add(s, 0, 1.0, False, truncated=True, s_next=s[:1]), ValueError, "s_next"),
    (lambda b, s: b.add(s, 0, 1.0, "yes"), TypeError, "done"),
    (lambda b, s: b.sample(), ValueError, r"batch_size: .*4 \(of 6 stored\), got 8"),
])
def test_errors_leave_contents_intact(cls: type, call: Any, error: type, match: str) -> None:
    buf = cls(discrete_env(), 10, batch_size=8, bootstrap_n=2, random_seed=0)
    for t in range(6):
        buf.add(np.array([t, 0, 0], np.float32), t % 4, 1.0, False)
    before = snapshot(buf)
    with pytest.raises(error, match=match):
        call(buf, np.zeros(3, np.float32))
    assert_same(before, snapshot(buf))


def test_box_action_shape_error() -> None:
    buf = ExperienceReplayBuffer(box_env(), 10)
    with pytest.raises(ValueError, match=r"a: expected .*\(2,\).*\(3,\)"):
        buf.add(np.zeros(3), np.zeros(3), 0.0, False)
    assert len(buf) == 0


def test_episode_id_change_starts_new_episode_and_clear() -> None:
    buf = ExperienceReplayBuffer(discrete_env(), 20, batch_size=1, bootstrap_n=2)
    for t in range(3):
        buf.add(np.array([t, 0, 0], np.float32), 0, 1.0, False, "a")
    for t in range(3, 5):
        buf.add(np.array([t, 1, 0], np.float32), 0, 1.0, False, "b")
    assert buf.num_valid == 1  # only step 0: steps 1, 2 lack a 2-step window in episode "a"
    assert len(buf) == 5
    buf.clear()
    assert len(buf) == 0 and buf.num_valid == 0


def test_determinism_with_random_seed() -> None:
    batches = []
    for _ in range(2):
        buf = ExperienceReplayBuffer(box_env(), 30, batch_size=5, bootstrap_n=3, random_seed=42)
        fill(buf, 10, np.random.default_rng(3))
        batches.append([buf.sample() for _ in range(3)])
    for b0, b1 in zip(*batches):
        for x0, x1 in zip(b0, b1):
            np.testing.assert_array_equal(x0, x1)


def test_from_value_function() -> None:
    import plugrl

    env = gym.make("CartPole-v1")
    q = plugrl.QTypeII(plugrl.predefined.LinearFunctionApproximator(env), gamma=0.8, bootstrap_n=3)
    buf = ExperienceReplayBuffer.from_value_function(q, capacity=100, batch_size=7)
    assert (buf.gamma, buf.bootstrap_n, buf.batch_size, buf.capacity) == (0.8, 3, 7, 100)
    assert buf.env is q.env
    s, _ = env.reset(seed=0)
    for t in range(10):
        a = env.action_space.sample()
        s_next, r, terminated, truncated, _ = env.step(a)
        buf.add(s, a, r, terminated, truncated=truncated, s_next=s_next)
        s = s_next
    assert buf.sample()[0].shape == (7, 4)


# --- prioritized replay ---------------------------------------------------------------------


def per_buffer(num_steps: int = 8, **kwargs: Any) -> PrioritizedReplayBuffer:
    buf = PrioritizedReplayBuffer(discrete_env(), 16, **{"batch_size": 8, "random_seed": 0, **kwargs})
    for t in range(num_steps):
        buf.add(np.array([t, 0, 0], np.float32), t % 4, float(t), t == num_steps - 1)
    return buf


def test_prioritized_frequencies_follow_priorities() -> None:
    alpha = 0.7
    buf = per_buffer(alpha=alpha, beta=0.5)
    td = np.array([0.1, 1.0, 2.0, 0.5, 3.0, 0.2, 1.5, 0.8])
    buf.update_priorities(np.arange(8), td)
    expected_p = (np.abs(td) + buf.epsilon) ** alpha
    counts = np.zeros(8)
    for _ in range(2000):
        S, *_, idx = buf.sample()
        np.testing.assert_array_equal(S[:, 0], idx)  # slots are the step indices here
        counts += np.bincount(idx, minlength=8)
    expected = counts.sum() * expected_p / expected_p.sum()
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 30  # df=7: p < 1e-3 beyond 24.3


def test_importance_weights_formula() -> None:
    alpha, beta = 0.6, 0.4
    buf = per_buffer(alpha=alpha, beta=beta)
    td = np.linspace(-2, 3, 8)
    buf.update_priorities(np.arange(8), td)
    *_, W, idx = buf.sample()
    p = (np.abs(td) + buf.epsilon) ** alpha
    w = (8 * p[idx] / p.sum()) ** -beta
    np.testing.assert_allclose(W, w / w.max(), rtol=1e-5)


def test_new_transitions_get_max_priority_and_evictions_clear_it() -> None:
    buf = per_buffer(num_steps=8, alpha=1.0)
    buf.update_priorities(np.arange(8), np.full(8, 0.5))
    buf.update_priorities(np.array([2]), np.array([9.0]))
    assert buf._max_priority == pytest.approx(9.0 + 1e-6)
    for t in range(8, 20):  # wraps: slots 0..3 are overwritten
        buf.add(np.array([t, 1, 0], np.float32), 0, 0.0, t == 19)
    leaves = buf._tree[np.arange(16)]
    assert np.all(leaves[buf._valid] > 0) and np.all(leaves[~buf._valid] == 0)
    new_slots = np.r_[8:16, 0:4]  # episode 1 wrapped around
    np.testing.assert_allclose(leaves[new_slots], 9.0 + 1e-6)
    np.testing.assert_allclose(leaves[4:8], 0.5 + 1e-6)
    assert buf._tree.total == pytest.approx(leaves.sum())


@pytest.mark.parametrize("idx, td, match", [
    ([0, 1], [np.nan, 1.0], "td_errors"),
    ([0, 1], [1.0], "idx, td_errors"),
    ([0, 99], [1.0, 1.0], "idx"),
])
def test_update_priorities_errors_leave_tree_intact(idx: Any, td: Any, match: str) -> None:
    buf = per_buffer()
    buf.update_priorities(np.arange(8), np.arange(8.0))
    before = snapshot(buf)
    with pytest.raises(ValueError, match=match):
        buf.update_priorities(np.asarray(idx), np.asarray(td))
    assert_same(before, snapshot(buf))


def test_sum_tree_rejects_negative_and_nan() -> None:
    tree = SumTree(5)
    tree.set([0, 3], [1.0, 2.0])
    for bad in ([-1.0, 1.0], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="priorities"):
            tree.set([1, 2], bad)
        assert tree.total == 3.0 and tree[1] == 0.0
    assert set(tree.sample(100, np.random.default_rng(0)).tolist()) == {0, 3}


def test_prioritized_bad_hyperparameters() -> None:
    with pytest.raises(ValueError, match="beta"):
        PrioritizedReplayBuffer(discrete_env(), 10, beta=2.0)
    with pytest.raises(ValueError, match="alpha"):
        PrioritizedReplayBuffer(discrete_env(), 10, alpha=-1.0)
