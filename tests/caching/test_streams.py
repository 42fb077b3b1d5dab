"""ReplayStreams: several buffers (one per environment) sampled as one."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from plugrl.caching import ExperienceReplayBuffer, PrioritizedReplayBuffer, ReplayStreams


class Spaces:
    observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)


def streams(sizes, prioritized=False, **options):
    cls = PrioritizedReplayBuffer if prioritized else ExperienceReplayBuffer
    buffers = [cls(Spaces(), 100, batch_size=10, bootstrap_n=2, gamma=0.5, random_seed=j, **options)
               for j in range(len(sizes))]
    memory = ReplayStreams(buffers, random_seed=0)
    for j, size in enumerate(sizes):  # observation [stream, step], one endless episode per stream
        for t in range(size):
            memory.add(j, np.array([j, t], np.float32), t % 2, float(j + 1), False)
    return memory


def test_every_transition_is_equally_likely_across_streams_of_different_sizes():
    memory = streams([12, 52])  # 10 and 50 sampleable (n = 2 needs two more steps)
    assert memory.num_valid == 60 and len(memory) == 64
    S, A, Rn, In, S_next, A_next = memory.sample(num_batches=300)
    S, Rn, S_next = S.reshape(-1, 2), Rn.reshape(-1), S_next.reshape(-1, 2)
    assert np.mean(S[:, 0] == 0) == pytest.approx(10 / 60, abs=0.02)
    np.testing.assert_array_equal(Rn, (S[:, 0] + 1) * 1.5)  # r + 0.5 r, of one stream only
    np.testing.assert_array_equal(S_next, S + [0, 2])


def test_prioritized_streams_sample_by_priority_with_the_single_buffer_weights():
    memory = streams([12, 12], prioritized=True, alpha=1.0, beta=0.5)
    memory.update_priorities(np.array([0, 100 + 0]), np.array([9.0, 29.0]))  # slot 0 of each
    *fields, W, idx = memory.sample(num_batches=200)
    idx, W = idx.reshape(-1), W.reshape(200, 10)
    p = np.where(idx % 100 == 0, np.where(idx < 100, 9.0, 29.0), 1.0) + 1e-6
    total = 9 + 29 + 18 * 1.0 + 20e-6
    np.testing.assert_allclose(np.mean(idx == 100), 29 / total, atol=0.02)
    w = (20 * p.reshape(200, 10) / total) ** -0.5
    np.testing.assert_allclose(W, w / w.max(axis=1, keepdims=True), rtol=1e-5)
    S = fields[0].reshape(-1, 2)
    np.testing.assert_array_equal(S[:, 0], idx // 100)  # the slots are numbered across streams


def test_state_round_trip_continues_identically_and_bad_states_change_nothing():
    memory, copy = streams([12, 30], prioritized=True), streams([3, 3], prioritized=True)
    arrays, meta = memory.state()
    copy.load_state(arrays, meta)
    for a, b in zip(memory.sample(num_batches=3), copy.sample(num_batches=3), strict=True):
        np.testing.assert_array_equal(a, b)
    snapshot = copy.state()
    with pytest.raises(ValueError, match="meta\\['streams'\\]: expected the states of 2 streams"):
        copy.load_state(arrays, {"streams": meta["streams"][:1], "rng": meta["rng"]})
    broken = {name: x[:-1] if name.startswith("1/") else x for name, x in arrays.items()}
    with pytest.raises(ValueError, match="arrays"):
        copy.load_state(broken, meta)  # stream 0 is valid but must not be loaded alone
    after = copy.state()
    assert after[1] == snapshot[1]
    for name, x in snapshot[0].items():
        np.testing.assert_array_equal(after[0][name], x)


def test_bad_buffers_are_rejected():
    with pytest.raises(TypeError, match="buffers: expected one or more replay buffers of one class"):
        ReplayStreams([])
    a = ExperienceReplayBuffer(Spaces(), 10, batch_size=2)
    with pytest.raises(ValueError, match="buffers: expected one batch_size"):
        ReplayStreams([a, ExperienceReplayBuffer(Spaces(), 10, batch_size=3)])
    with pytest.raises(ValueError, match="batch_size: expected at most the number of sampleable"):
        ReplayStreams([a]).sample()
