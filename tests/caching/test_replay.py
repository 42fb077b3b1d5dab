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


def reference(stream: list[dict[str, Any]], capacity: int, n: int, gamma: float,
              k: int = 1) -> dict[float, tuple]:
    """Every sampleable transition, keyed by ``key(s)``: ``(s, a, Rn, In, s_next, a_next)``.

    ``stream`` lists the slots in the order written; a step is sampleable while its slot, the
    ``k - 1`` slots before it (its older frames) and its n-step window are among the last
    ``capacity`` slots.
    """
    stored = stream[-capacity:]
    out = {}
    for i, x in enumerate(stored):
        if x["final"] or x.get("pad") or i < k - 1:
            continue
        Rn = 0.0
        for j in range(i, min(i + n, len(stored))):
            y = stored[j]
            if y["ep"] != x["ep"]:
                break
            Rn += gamma ** (j - i) * y["r"]
            if y["term"]:
                out[key(x["s"])] = (x["s"], x["a"], Rn, 0.0, y["s"], y["a"])
                break
            if y["trunc"]:
                out[key(x["s"])] = (x["s"], x["a"], Rn, gamma ** (j - i + 1), y["s_final"], None)
                break
        else:
            j = i + n
            if j < len(stored) and stored[j]["ep"] == x["ep"]:
                y = stored[j]
                out[key(x["s"])] = (x["s"], x["a"], Rn, gamma**n, y["s"], y["a"])
    return out


K, FRAME = 4, (2, 3)  # frame stacks in these tests: (K, *FRAME) with axis 0, (*FRAME, K) with -1


def newest_frame(s: np.ndarray) -> np.ndarray:
    return s if s.ndim == 1 else s[-1] if s.shape[0] == K else s[..., -1]


def key(s: np.ndarray) -> float:
    """An observation's unique id: ``s[0]``, or for a frame stack its newest frame's first pixel."""
    return float(newest_frame(s).flat[0])


def episode(s: np.ndarray) -> float:
    return float(newest_frame(s).flat[1])


def check_batch(batch: tuple, ref: dict[float, tuple]) -> set[float]:
    """Compare a sampled batch with the reference, row by row; return the keys sampled."""
    S, A, Rn, In, S_next, A_next = batch[:6]
    rows = [ref[key(s)] for s in S]
    s, a, rn, in_, s_next, a_next = (list(column) for column in zip(*rows))
    np.testing.assert_array_equal(S, np.stack(s))
    np.testing.assert_allclose(A, np.stack(a), rtol=1e-6)
    np.testing.assert_allclose(Rn, rn, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(In, in_, rtol=1e-6)
    np.testing.assert_array_equal(S_next, np.stack(s_next))
    assert [episode(x) for x in S_next] == [episode(x) for x in S], "a sample crossed episodes"
    unknown = np.array([x is None for x in a_next])
    marker = np.isnan(A_next) if A.dtype == np.float32 else A_next == -1
    assert marker[unknown].all()
    if not unknown.all():
        known = [x for x in a_next if x is not None]
        np.testing.assert_allclose(A_next[~unknown], np.stack(known), rtol=1e-6)
    return {key(x) for x in S}


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
    buf.batch_size = min(32, len(ref))
    seen: set[float] = set()
    for _ in range(60):
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


def test_many_batches_at_once_are_valid_transitions() -> None:
    rng = np.random.default_rng(7)
    buf = ExperienceReplayBuffer(discrete_env(), 60, batch_size=5, bootstrap_n=2, gamma=0.9,
                                 random_seed=0)
    ref = reference(fill(buf, 10, rng), 60, 2, 0.9)
    batches = buf.sample(num_batches=3)
    assert all(x.shape[:2] == (3, 5) for x in batches)
    for k in range(3):
        check_batch(tuple(x[k] for x in batches), ref)
    with pytest.raises(ValueError, match="num_batches"):
        buf.sample(num_batches=0)


def test_prioritized_many_batches_normalise_weights_per_batch() -> None:
    alpha, beta = 0.6, 0.4
    buf = per_buffer(alpha=alpha, beta=beta)
    td = np.linspace(-2, 3, 8)
    buf.update_priorities(np.arange(8), td)
    S, *_, W, idx = buf.sample(num_batches=4)
    assert S.shape[:2] == W.shape == idx.shape == (4, 8)
    p = (np.abs(td) + buf.epsilon) ** alpha
    w = (8 * p[idx] / p.sum()) ** -beta
    np.testing.assert_allclose(W, w / w.max(axis=1, keepdims=True), rtol=1e-5)


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
    """Every attribute, the generator's state and the sum-tree, to compare two buffers."""
    state = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(buf).items()
             if k not in ("_rng", "_tree", "_layout", "env", "random_seed")}
    state["rng"] = buf._rng.bit_generator.state
    if isinstance(buf, PrioritizedReplayBuffer):
        state["tree"] = buf._tree._tree.copy()
    return state


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for k, value in a.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, b[k], err_msg=k)
        else:
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
    bufs = [ExperienceReplayBuffer.from_value_function(q, capacity=100, batch_size=7,
                                                       random_seed=seed) for seed in (1, 1, 2)]
    buf = bufs[0]
    assert (buf.gamma, buf.bootstrap_n, buf.batch_size, buf.capacity) == (0.8, 3, 7, 100)
    assert buf.env is q.env and buf.random_seed == 1
    s, _ = env.reset(seed=0)
    for _step in range(10):
        a = env.action_space.sample()
        s_next, r, terminated, truncated, _ = env.step(a)
        for b in bufs:
            b.add(s, a, r, terminated, truncated=truncated, s_next=s_next)
        s = s_next
    S, S_same, S_other = (b.sample()[0] for b in bufs)
    assert S.shape == (7, 4)
    assert np.array_equal(S, S_same) and not np.array_equal(S, S_other)  # seeded sampling


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


# --- stacked frames stored once -------------------------------------------------------------


def frame_env(axis: int, dtype: Any = np.float32) -> DummyEnv:
    shape = (K, *FRAME) if axis == 0 else (*FRAME, K)
    return DummyEnv(gym.spaces.Box(-np.inf, np.inf, shape, dtype), gym.spaces.Discrete(3))


def fill_frames(buf: ExperienceReplayBuffer, num_episodes: int, rng: np.random.Generator,
                axis: int) -> list[dict[str, Any]]:
    """Add random episodes of K stacked frames, as ``FrameStackObservation`` builds them.

    Returns the slots written: the K - 1 older frames of each episode's first observation, one
    per step and one for a truncated episode's final observation. A frame's first pixel is a
    global counter and its second the episode. The first observation is padded with copies of
    its frame or with zeros.
    """
    stream: list[dict[str, Any]] = []
    counter = iter(range(1, 10**6))

    def frame(ep: int) -> np.ndarray:
        f = rng.normal(size=FRAME).astype(np.float32)
        f.flat[:2] = next(counter), ep
        return f

    for ep in range(num_episodes):
        end = ("terminated", "truncated", "abandoned")[rng.integers(3)]
        length = int(rng.integers(1, 8))
        first = frame(ep)
        frames = [first if rng.random() < 0.5 else np.zeros_like(first)] * (K - 1) + [first]
        stream += [{"pad": True, "ep": ep, "final": False}] * (K - 1)
        for t in range(length):
            s, a, r = np.stack(frames, axis), int(rng.integers(3)), float(rng.normal())
            last = t == length - 1
            step = {"s": s, "a": a, "r": r, "ep": ep, "final": False,
                    "term": last and end == "terminated", "trunc": last and end == "truncated"}
            frames = frames[1:] + [frame(ep)]
            if step["trunc"]:
                step["s_final"] = np.stack(frames, axis)
                buf.add(s, a, r, False, ep, truncated=True, s_next=step["s_final"])
            else:
                buf.add(s, a, r, step["term"], ep)
            stream.append(step)
            if step["trunc"]:
                stream.append({"ep": ep, "final": True})
    return stream


@pytest.mark.parametrize("cls", [ExperienceReplayBuffer, PrioritizedReplayBuffer])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("capacity, n", [(23, 3), (97, 1), (97, 3), (1000, 2)])
def test_frames_match_full_stack_reference(cls: type, axis: int, capacity: int, n: int) -> None:
    buf = cls(frame_env(axis), capacity, batch_size=32, bootstrap_n=n, gamma=0.9, random_seed=0,
              frame_stack_axis=axis)
    stream = fill_frames(buf, 40, np.random.default_rng(capacity + n), axis)
    assert len(stream) > capacity or capacity == 1000
    ref = reference(stream, capacity, n, 0.9, k=K)
    stored = stream[-capacity:]
    assert len(buf) == sum("s" in x for x in stored)
    assert buf.num_valid == len(ref) > 0
    buf.batch_size = min(32, len(ref))
    seen: set[float] = set()
    for _ in range(60):
        seen |= check_batch(buf.sample(), ref)
    assert seen == set(ref)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_frames_with_tiny_capacities(n: int) -> None:
    for capacity in range(K, K + n + 3):  # stacks and n-step windows barely fit
        buf = ExperienceReplayBuffer(frame_env(-1), capacity, bootstrap_n=n, gamma=0.9,
                                     random_seed=0, frame_stack_axis=-1)
        stream = fill_frames(buf, 15, np.random.default_rng(capacity), -1)
        ref = reference(stream, capacity, n, 0.9, k=K)
        assert buf.num_valid == len(ref)
        if ref:
            buf.batch_size = len(ref)
            check_batch(buf.sample(), ref)


def test_evicted_frames_make_steps_unsampleable() -> None:
    buf = ExperienceReplayBuffer(frame_env(0), 10, batch_size=6, random_seed=0,
                                 frame_stack_axis=0)
    for t in range(20):  # 3 older frames + 20 steps: slots now hold steps 10..19
        s = np.zeros((K, *FRAME), np.float32)
        s[:, 0, 0] = np.arange(t - K + 1, t + 1)
        buf.add(s, 0, 1.0, False)
    assert len(buf) == 10
    assert buf.num_valid == 6  # steps 10..12 lost older frames; 19 waits for its next step
    sampled = np.concatenate([buf.sample()[0][:, -1, 0, 0] for _ in range(30)])
    assert set(sampled.tolist()) == set(range(13, 19))


@pytest.mark.parametrize("cls", [ExperienceReplayBuffer, PrioritizedReplayBuffer])
def test_is_full_before_a_step_is_overwritten(cls: type) -> None:
    """keras-gym's PPO loop (fill, update, clear) with stacked frames: the buffer is full with
    every step of the round still stored, while ``len(buf) >= capacity`` holds only once the
    first episode's steps are overwritten."""
    buf = cls(frame_env(0), 16, batch_size=1, random_seed=0, frame_stack_axis=0)
    for _ in range(2):  # a second round after clear()
        added = 0
        for ep, length in enumerate([4, 100]):  # 3 + 4 + 3 slots, then 6 more steps
            for t in range(length):
                if buf.is_full:
                    break
                buf.add(continuing_stack(10 * ep + t), 0, 1.0, t == length - 1, ep)
                added += 1
        assert buf.is_full and added == len(buf) == 10 < buf.capacity
        assert buf.num_valid == 9  # all but the newest step, which waits for its next one
        more = 0
        while len(buf) < buf.capacity:
            buf.add(continuing_stack(16 + more), 0, 1.0, False, 1)
            more += 1
        assert more == 10 and buf.is_full  # its 6 extra slots and the first episode's 4 steps
        # episode 1 alone, less its newest step and its first 3, whose older frames are gone
        assert buf.num_valid == 16 - 1 - 3
        buf.clear()
        assert not buf.is_full and len(buf) == 0


def test_real_frame_stack_observation() -> None:
    class Images(gym.Env):
        observation_space = gym.spaces.Box(0, 255, (5, 6), np.uint8)
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed: int | None = None, options: Any = None) -> tuple:
            super().reset(seed=seed)
            return self.observation_space.sample(), {}

        def step(self, a: int) -> tuple:
            return self.observation_space.sample(), 1.0, bool(self.np_random.random() < 0.1), False, {}

    env = gym.wrappers.FrameStackObservation(gym.wrappers.TimeLimit(Images(), 12), K)
    env.observation_space.seed(0)
    buf = ExperienceReplayBuffer(env, 60, batch_size=16, random_seed=0, frame_stack_axis=0)
    transitions, s = set(), env.reset(seed=0)[0]
    for _ in range(150):
        a = int(env.action_space.sample())
        s_next, r, terminated, truncated, _ = env.step(a)
        buf.add(s, a, r, terminated, truncated=truncated, s_next=s_next)
        transitions.add((s.tobytes(), a, None if terminated else s_next.tobytes()))
        s = env.reset()[0] if terminated or truncated else s_next
    for _ in range(20):
        S, A, _, In, S_next, _ = buf.sample()
        assert S.dtype == np.uint8 and S.shape == (16, K, 5, 6)
        for i in range(16):
            nxt = None if In[i] == 0 else S_next[i].tobytes()
            assert (S[i].tobytes(), int(A[i]), nxt) in transitions


def test_frames_memory_footprint() -> None:
    env = DummyEnv(gym.spaces.Box(0, 255, (84, 84, 4), np.uint8), gym.spaces.Discrete(6))
    buf = ExperienceReplayBuffer(env, 1000, frame_stack_axis=-1)
    assert buf.nbytes == 1000 * (84 * 84 + 24)  # frame, int64 action and episode, reward, flags
    assert buf.nbytes < 1.004 * 1000 * 84 * 84
    per = PrioritizedReplayBuffer(env, 1000, frame_stack_axis=-1)
    assert per.nbytes == buf.nbytes + 2 * 1024 * 8  # plus the sum-tree


def continuing_stack(t: int) -> np.ndarray:
    s = np.zeros((K, *FRAME), np.float32)
    s[:, 0, 0] = np.arange(t, t + K)
    return s


@pytest.mark.parametrize("cls", [ExperienceReplayBuffer, PrioritizedReplayBuffer])
@pytest.mark.parametrize("call, match", [
    (lambda b, s: b.add(s + 1, 0, 1.0, False), r"s: expected frames 0..2 .*positions \[0, 1, 2\]"),
    (lambda b, s: b.add(continuing_stack(5)[[0, 2, 1, 3]], 0, 1.0, False), r"positions \[1, 2\]"),
    (lambda b, s: b.add(continuing_stack(5), 0, 1.0, False, truncated=True, s_next=s),
     r"s_next: expected frames"),
    (lambda b, s: b.add(s[:2], 0, 1.0, False), r"s: expected .*\(4, 2, 3\)"),
])
def test_frame_errors_leave_contents_intact(cls: type, call: Any, match: str) -> None:
    buf = cls(frame_env(0), 12, batch_size=2, random_seed=0, frame_stack_axis=0)
    for t in range(5):
        buf.add(continuing_stack(t), t % 3, 1.0, False)
    before = snapshot(buf)
    with pytest.raises(ValueError, match=match):
        call(buf, continuing_stack(4))
    assert_same(before, snapshot(buf))
    buf.add(continuing_stack(9), 0, 1.0, False, episode_id="new")  # a new episode is accepted
    assert len(buf) == 6


@pytest.mark.parametrize("axis, capacity, error, match", [
    (3, 10, ValueError, r"frame_stack_axis: expected an int in \[-3, 3\).*3"),
    (1.0, 10, TypeError, "frame_stack_axis"),
    (0, 3, ValueError, "capacity: expected at least the 4 frames"),
])
def test_frame_construction_errors(axis: Any, capacity: int, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        ExperienceReplayBuffer(frame_env(0), capacity, frame_stack_axis=axis)


# --- checkpoints: state() and load_state() --------------------------------------------------


def make_filled(cls: type, axis: int | None, capacity: int, num_episodes: int) -> Any:
    env = discrete_env() if axis is None else frame_env(axis)
    buf = cls(env, capacity, batch_size=8, bootstrap_n=3, random_seed=5, frame_stack_axis=axis)
    rng = np.random.default_rng(7)
    fill(buf, num_episodes, rng) if axis is None else fill_frames(buf, num_episodes, rng, axis)
    return buf


def open_episode_step(buf: Any, t: int) -> None:
    if buf.frame_stack_axis is None:
        buf.add(np.array([1000 + t, 99, 0], np.float32), t % 4, 1.0, False, "open")
    else:
        buf.add(np.moveaxis(continuing_stack(1000 + t), 0, buf.frame_stack_axis), t % 3, 1.0,
                False, "open")


@pytest.mark.parametrize("cls", [ExperienceReplayBuffer, PrioritizedReplayBuffer])
@pytest.mark.parametrize("axis", [None, -1])
@pytest.mark.parametrize("capacity", [40, 500])
def test_state_round_trip_is_exact(cls: type, axis: int | None, capacity: int) -> None:
    import json

    buf = make_filled(cls, axis, capacity, 30)
    for t in range(6):  # stop mid-episode
        open_episode_step(buf, t)
    if cls is PrioritizedReplayBuffer:
        *_, idx = buf.sample()
        buf.update_priorities(idx, np.linspace(0.1, 5.0, len(idx)))
    arrays, meta = buf.state()
    assert all(len(x) == min(buf._size, capacity) for x in arrays.values())
    assert (buf._size < capacity) == (capacity == 500)
    meta = json.loads(json.dumps(meta))
    restored = make_filled(cls, axis, capacity, 80)  # its old contents must not leak through
    restored.batch_size = 3
    restored.load_state(arrays, meta)
    restored._S[buf._size:] = 0  # frames past the filled size are never read
    assert_same(snapshot(buf), snapshot(restored))
    for t in range(6, 12):  # the open episode goes on in both
        open_episode_step(buf, t)
        open_episode_step(restored, t)
        for x, y in zip(buf.sample(), restored.sample()):
            np.testing.assert_array_equal(x, y)
    assert_same(snapshot(buf), snapshot(restored))


def test_state_without_copy_is_read_only_view() -> None:
    buf = make_filled(ExperienceReplayBuffer, 0, 50, 5)
    arrays, _ = buf.state(copy=False)
    assert np.shares_memory(arrays["S"], buf._S) and not arrays["S"].flags.writeable
    assert buf._S.flags.writeable


def corrupt(part: str, key: str, value: Any) -> Any:
    def apply(arrays: dict[str, Any], meta: dict[str, Any]) -> None:
        target = arrays if part == "arrays" else meta if part == "meta" else meta[part]
        if value is KeyError:
            del target[key]
        else:
            target[key] = value(target[key]) if callable(value) else value
    return apply


@pytest.mark.parametrize("cls", [ExperienceReplayBuffer, PrioritizedReplayBuffer])
@pytest.mark.parametrize("change, error, match", [
    (corrupt("config", "capacity", 41), ValueError, r"meta\['config'\]\['capacity'\]: expected 40"),
    (corrupt("config", "frame_stack_axis", None), ValueError, "frame_stack_axis"),
    (corrupt("arrays", "S", lambda x: x.astype(np.float64)), ValueError, r"arrays\['S'\]: .*float32"),
    (corrupt("arrays", "R", lambda x: x[:-1]), ValueError, r"arrays\['R'\]: expected .*shape"),
    (corrupt("arrays", "valid", KeyError), ValueError, "arrays: expected the keys"),
    (corrupt("arrays", "valid", lambda x: ~x), ValueError, "arrays"),
    (corrupt("counters", "num_valid", 3), ValueError, "num_valid"),
    (corrupt("counters", "next", 40), ValueError, "next"),
    (corrupt("meta", "format", 99), ValueError, "format"),
    (corrupt("meta", "rng", {"bit_generator": "Nope"}), ValueError, "rng"),
    (corrupt("meta", "batch_size", 0), ValueError, "batch_size"),
    (corrupt("meta", "episode_open", "yes"), TypeError, "episode_open"),
])
def test_load_state_errors_leave_buffer_intact(cls: type, change: Any, error: type,
                                               match: str) -> None:
    arrays, meta = make_filled(cls, 0, 40, 20).state()
    change(arrays, meta)
    buf = make_filled(cls, 0, 40, 3)
    before = snapshot(buf)
    with pytest.raises(error, match=match):
        buf.load_state(arrays, meta)
    assert_same(before, snapshot(buf))


@pytest.mark.parametrize("bad, match", [(-1.0, "priorities"), (np.nan, "priorities"),
                                        (1e9, "max_priority")])
def test_load_state_rejects_bad_priorities(bad: float, match: str) -> None:
    arrays, meta = per_buffer().state()
    arrays["priorities"][2] = bad
    buf = per_buffer(num_steps=3)
    before = snapshot(buf)
    with pytest.raises(ValueError, match=match):
        buf.load_state(arrays, meta)
    assert_same(before, snapshot(buf))
    with pytest.raises(ValueError, match="priorities"):  # a uniform buffer's state
        buf.load_state(*ExperienceReplayBuffer(discrete_env(), 16).state())
