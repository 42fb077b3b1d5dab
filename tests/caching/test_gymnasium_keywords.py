"""Gymnasium's own keyword: ``add(s, a, r, terminated=..., truncated=..., s_next=...)`` gives the
same batches as the positional ``add(s, a, r, done, truncated=..., s_next=...)`` (``done`` meaning
terminated), and giving both ``done`` and ``terminated`` is a TypeError."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from plugrl.caching import ExperienceReplayBuffer, MonteCarloCache, NStepCache


class DummyEnv:
    observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
    action_space = gym.spaces.Discrete(4)


def gymnasium_steps(seed: int = 0) -> list[dict[str, Any]]:
    """Three episodes: terminated, truncated (time limit), terminated and truncated at once."""
    rng = np.random.default_rng(seed)
    steps = []
    for length, terminated, truncated in ((4, True, False), (5, False, True), (3, True, True)):
        S = rng.normal(size=(length + 1, 3)).astype(np.float32)
        for t in range(length):
            last = t == length - 1
            steps.append({"s": S[t], "a": int(rng.integers(4)), "r": float(rng.normal()),
                          "terminated": terminated and last, "truncated": truncated and last,
                          "s_next": S[t + 1]})
    return steps


def add_all(cache: Any, convention: str, drain: Any) -> list[Any]:
    batches = []
    for step in gymnasium_steps():
        s, a, r, s_next = step["s"], step["a"], step["r"], step["s_next"]
        if convention == "positional":
            cache.add(s, a, r, step["terminated"], truncated=step["truncated"], s_next=s_next)
        else:
            cache.add(s, a, r, terminated=step["terminated"], truncated=step["truncated"],
                      s_next=s_next)
        batches.extend(drain(cache))
    return batches


def drain_pop(cache: Any) -> list[Any]:
    out = []
    while cache:
        out.append(cache.pop())
    return out


def drain_replay(buf: Any) -> list[Any]:
    return [buf.sample()] if len(buf) >= buf.batch_size else []


def assert_same_batches(first: list[Any], second: list[Any]) -> None:
    assert len(first) == len(second) > 0
    for x, y in zip(first, second):
        for u, v in zip(x, y):
            np.testing.assert_array_equal(u, v)


CACHES = {
    "NStepCache": (lambda: NStepCache(DummyEnv(), n=2, gamma=0.9), drain_pop),
    "MonteCarloCache": (lambda: MonteCarloCache(DummyEnv(), gamma=0.9), drain_pop),
    "ExperienceReplayBuffer": (
        lambda: ExperienceReplayBuffer(DummyEnv(), 50, batch_size=4, bootstrap_n=2, gamma=0.9,
                                       random_seed=1),
        drain_replay),
}


@pytest.mark.parametrize("name", list(CACHES))
def test_both_conventions_give_the_same_batches(name):
    make, drain = CACHES[name]
    assert_same_batches(add_all(make(), "positional", drain), add_all(make(), "keyword", drain))


def test_truncation_by_keyword_bootstraps():
    """The mistake the keyword prevents: a truncated step keeps In = gamma**m, not 0."""
    cache = NStepCache(DummyEnv(), n=1, gamma=0.9)
    s = np.zeros(3, np.float32)
    cache.add(s, 0, 1.0, terminated=False, truncated=True, s_next=s + 1)
    _, _, Rn, In, S_next, _ = cache.pop()
    assert Rn[0] == 1.0 and In[0] == pytest.approx(0.9)
    np.testing.assert_array_equal(S_next[0], s + 1)


@pytest.mark.parametrize("name", list(CACHES))
def test_done_and_terminated_together_raise(name):
    cache = CACHES[name][0]()
    s = np.zeros(3, np.float32)
    with pytest.raises(TypeError, match="done, terminated: expected one of them"):
        cache.add(s, 0, 1.0, False, terminated=False)
    with pytest.raises(TypeError, match="done: expected whether the episode terminated"):
        cache.add(s, 0, 1.0, truncated=False)
    with pytest.raises(TypeError, match="terminated: expected a bool, got str"):
        cache.add(s, 0, 1.0, terminated="no")
    assert len(cache) == 0
