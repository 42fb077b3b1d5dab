"""RolloutSampler against a step-by-step replay of the same episodes on single envs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from plugrl.samplers import Rollout, RolloutSampler, make_vector_env

N = 3


def random_act(seed: int):
    """A random CartPole policy that also records some policy info."""
    rng = np.random.default_rng(seed)

    def act(S: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        A = rng.integers(2, size=len(S))
        return A, {"V": 2.0 * S[:, 0], "logits": np.stack([S[:, 1], -S[:, 1]], axis=1)}

    return act


def constant_act(S: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return np.zeros(len(S), np.int64), {}


def replay(rollout: Rollout, seed: int, **make_kwargs: Any) -> tuple[list[float], list[int]]:
    """Redo the rollout's actions on single envs with manual resets; check every field.

    Returns the finished episodes' returns and lengths in order of completion.
    """
    envs = [gym.make("CartPole-v1", **make_kwargs) for _ in range(N)]
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    returns, lengths, finished = np.zeros(N), np.zeros(N, int), []
    for t in range(len(rollout.R)):
        for i, env in enumerate(envs):
            np.testing.assert_array_equal(rollout.S[t, i], obs[i])
            obs[i], r, term, trunc, _ = env.step(int(rollout.A[t, i]))
            assert (rollout.R[t, i], rollout.terminated[t, i], rollout.truncated[t, i]) == (r, term, trunc)
            np.testing.assert_array_equal(rollout.S_next[t, i], obs[i])  # the final obs at an end
            returns[i], lengths[i] = returns[i] + r, lengths[i] + 1
            if term or trunc:
                finished.append((t, i, returns[i], lengths[i]))
                returns[i], lengths[i] = 0.0, 0
                obs[i] = env.reset()[0]
    np.testing.assert_array_equal(rollout.S_last, np.stack(obs))
    return [f[2] for f in finished], [f[3] for f in finished]


@pytest.fixture(params=["sync", "async"])
def sampler(request: pytest.FixtureRequest) -> RolloutSampler:
    sampler = RolloutSampler(make_vector_env("CartPole-v1", N, request.param), 200, seed=7)
    yield sampler
    sampler.close()


def test_shapes_dtypes_and_info(sampler: RolloutSampler) -> None:
    rollout = sampler.collect(random_act(0))
    assert rollout.S.shape == rollout.S_next.shape == (200, N, 4)
    assert rollout.S.dtype == rollout.S_next.dtype == rollout.S_last.dtype == np.float32
    assert rollout.A.shape == (200, N) and rollout.A.dtype == np.int64
    assert rollout.R.shape == (200, N) and rollout.R.dtype == np.float32
    assert rollout.terminated.dtype == rollout.truncated.dtype == np.bool_
    assert rollout.S_last.shape == (N, 4)
    assert set(rollout.info) == {"V", "logits"}
    np.testing.assert_array_equal(rollout.info["V"], 2.0 * rollout.S[..., 0])
    assert rollout.info["logits"].shape == (200, N, 2)
    np.testing.assert_array_equal(rollout.info["logits"][..., 1], -rollout.S[..., 1])
    assert sampler.total_steps == 200 * N


def test_matches_replay_and_episode_statistics(sampler: RolloutSampler) -> None:
    rollout = sampler.collect(constant_act)  # pushing left ends an episode every ~10 steps
    assert rollout.terminated.sum() > 30 and not rollout.truncated.any()
    returns, lengths = replay(rollout, seed=7)
    assert sampler.episode_returns == returns and sampler.episode_lengths == lengths
    assert sum(lengths) <= 200 * N and all(r == n for r, n in zip(returns, lengths))
    # Within episodes the next observation is the next row; at their ends it is not.
    ended = rollout.terminated[:-1] | rollout.truncated[:-1]
    same = np.all(rollout.S_next[:-1] == rollout.S[1:], axis=-1)
    np.testing.assert_array_equal(same, ~ended)


def test_truncation_gives_final_obs() -> None:
    env = gym.make("CartPole-v1", max_episode_steps=5)
    sampler = RolloutSampler(make_vector_env(env, num_envs=N), 23, seed=1)
    rollout = sampler.collect(random_act(1))
    assert rollout.truncated.sum() >= 3 * N and not rollout.terminated.any()
    np.testing.assert_array_equal(np.flatnonzero(rollout.truncated[:, 0]), [4, 9, 14, 19])
    returns, lengths = replay(rollout, seed=1, max_episode_steps=5)
    assert sampler.episode_lengths == lengths == [5] * 4 * N
    assert sampler.episode_returns == returns
    ended = rollout.truncated[:-1]
    assert not np.all(rollout.S_next[:-1] == rollout.S[1:], axis=-1)[ended].any()


def test_successive_rollouts_continue() -> None:
    sampler = RolloutSampler(make_vector_env("CartPole-v1", N), 7, seed=2)
    first = sampler.collect(constant_act)
    second = sampler.collect(constant_act)
    np.testing.assert_array_equal(second.S[0], first.S_last)
    both = Rollout(*(np.concatenate([a, b]) for a, b in zip(first[:6], second[:6])), {}, second.S_last)
    assert replay(both, seed=2)[1] == sampler.episode_lengths  # lengths span the two calls
    assert sampler.total_steps == 2 * 7 * N


def test_determinism_with_seed() -> None:
    def run(seed: int, vectorization: str = "sync") -> Rollout:
        sampler = RolloutSampler(make_vector_env("CartPole-v1", N, vectorization), 50, seed=seed)
        rollout = sampler.collect(random_act(0))
        sampler.close()
        return rollout

    a, b = run(5), run(5)
    for x, y in zip(a[:6], b[:6]):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.S[0], run(6).S[0])


class NaNRewardEnv(gym.Wrapper):
    """Returns a NaN reward from its third step on."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.count = 0

    def step(self, action: Any) -> tuple:
        obs, r, term, trunc, info = self.env.step(action)
        self.count += 1
        return obs, (np.nan if self.count >= 3 else r), term, trunc, info


def test_nan_reward_names_env_and_step() -> None:
    fns = [lambda: gym.make("CartPole-v1"), lambda: NaNRewardEnv(gym.make("CartPole-v1"))]
    envs = SyncVectorEnv(fns, autoreset_mode=AutoresetMode.SAME_STEP)
    with pytest.raises(ValueError, match="reward: expected finite rewards, got nan from env 1 at step 2"):
        RolloutSampler(envs, 10, seed=0).collect(random_act(0))


def test_invalid_arguments() -> None:
    envs = make_vector_env("CartPole-v1", N)
    with pytest.raises(ValueError, match="num_steps: expected an int >= 1, got 0"):
        RolloutSampler(envs, 0)
    with pytest.raises(TypeError, match="vector_env: expected a gymnasium.vector.VectorEnv"):
        RolloutSampler(gym.make("CartPole-v1"), 10)
    with pytest.raises(ValueError, match="vector_env: expected autoreset_mode"):
        RolloutSampler(SyncVectorEnv([lambda: gym.make("CartPole-v1")]), 10)
    sampler = RolloutSampler(envs, 4)
    expected = r"act: expected A with a leading axis of size num_envs=3, got shape \(2,\)"
    with pytest.raises(ValueError, match=expected):
        sampler.collect(lambda S: (np.zeros(2, np.int64), {}))
    with pytest.raises(ValueError, match=r"act: expected info\['V'\] with a leading axis"):
        sampler.collect(lambda S: (np.zeros(N, np.int64), {"V": np.zeros(1)}))
    with pytest.raises(TypeError, match="act: expected to return a pair"):
        sampler.collect(lambda S: np.zeros(N, np.int64))
