from __future__ import annotations

import logging
import math

import gymnasium as gym
import numpy as np
import pytest

from plugrl.wrappers import TrainMonitor

LOGGER = "plugrl.TrainMonitor"


def _run_episodes(env: gym.Env, n: int, seed: int = 0, losses=None) -> tuple[list[float], int]:
    """Play n random episodes; return the episode returns and total steps, tracked here."""
    env.action_space.seed(seed)
    returns, steps = [], 0
    for i in range(n):
        env.reset(seed=seed + i)
        G, done = 0.0, False
        while not done:
            _, r, terminated, truncated, _ = env.step(env.action_space.sample())
            G += r
            steps += 1
            done = terminated or truncated
            if losses is not None:
                env.record_losses(losses(steps))
        returns.append(G)
    return returns, steps


def _monitor_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_counters_and_log_lines(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    env = TrainMonitor(gym.make("CartPole-v1"))
    assert (env.T, env.ep, env.t) == (0, 0, 0) and math.isnan(env.avg_G)
    returns, steps = _run_episodes(env, 4)
    assert env.T == steps and env.ep == 4
    assert env.t == returns[-1] and env.G == returns[-1]  # CartPole pays 1 per step
    assert env.avg_G == pytest.approx(np.mean(returns))
    assert env.dt_ms > 0
    lines = _monitor_lines(caplog)
    assert len(lines) == 4
    for ep, (line, G) in enumerate(zip(lines, returns), start=1):
        assert line.startswith(f"ep: {ep}, T: ")
        assert f"G: {G:g}, avg_G: {np.mean(returns[:ep]):.6g}, t: {int(G)}, dt: " in line
    assert f"T: {steps:,d}," in lines[-1]


def test_avg_g_window_and_new_episode_counters():
    env = TrainMonitor(gym.make("CartPole-v1"), avg_window=2)
    returns, _ = _run_episodes(env, 3, seed=5)
    assert env.avg_G == pytest.approx(np.mean(returns[-2:]))
    T = env.T
    env.reset(seed=0)
    assert (env.ep, env.t, env.G, env.T) == (4, 0, 0.0, T)  # T is not reset by reset()
    assert math.isnan(env.dt_ms)
    with pytest.raises(ValueError, match="avg_window: expected an int >= 1"):
        TrainMonitor(gym.make("CartPole-v1"), avg_window=0)


def test_step_passes_through_unchanged():
    raw, env = gym.make("CartPole-v1"), TrainMonitor(gym.make("CartPole-v1"))
    np.testing.assert_array_equal(raw.reset(seed=3)[0], env.reset(seed=3)[0])
    for a in [0, 1, 1, 0, 1]:
        expected, got = raw.step(a), env.step(a)
        np.testing.assert_array_equal(expected[0], got[0])
        assert expected[1:] == got[1:]


def test_record_losses_means_in_log_line(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    env = TrainMonitor(gym.make("CartPole-v1"))
    env.reset(seed=0)
    env.record_losses({"loss": 1.0, "entropy": np.float32(0.5)})
    env.record_losses({"loss": 3.0})
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(0)
        done = terminated or truncated
    env.record_losses({"late": 7.0})  # after the episode ended: belongs to the next one
    env.reset(seed=1)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(1)
        done = terminated or truncated
    first, second = _monitor_lines(caplog)
    assert first.endswith(", loss: 2, entropy: 0.5")
    assert second.endswith(", late: 7")
    with pytest.raises(TypeError, match="losses"):
        env.record_losses([("loss", 1.0)])


def test_reset_global_zeroes_counters():
    env = TrainMonitor(gym.make("CartPole-v1"))
    _run_episodes(env, 2)
    env.record_losses({"loss": 1.0})
    env.reset_global()
    assert (env.T, env.ep, env.t, env.G) == (0, 0, 0, 0.0)
    assert math.isnan(env.avg_G) and math.isnan(env.dt_ms)
    returns, steps = _run_episodes(env, 1, seed=9)
    assert (env.T, env.ep, env.avg_G) == (steps, 1, returns[0])


def test_tensorboard_event_files(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    env = TrainMonitor(gym.make("CartPole-v1"), tensorboard_dir=tmp_path)
    returns, _ = _run_episodes(env, 3, seed=2, losses=lambda T: {"loss/td": float(T)})
    env.close()
    assert env.tensorboard is None
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"TrainMonitor/G", "TrainMonitor/avg_G", "TrainMonitor/t", "TrainMonitor/dt_ms"} <= tags
    G_events = acc.Scalars("TrainMonitor/G")
    assert [e.value for e in G_events] == pytest.approx(returns)
    ends = np.cumsum(returns).astype(int)  # CartPole: return == episode length
    assert [e.step for e in G_events] == ends.tolist()
    avg = [e.value for e in acc.Scalars("TrainMonitor/avg_G")]
    assert avg == pytest.approx([np.mean(returns[: i + 1]) for i in range(3)])
    # the loss recorded after global step T is T; the one recorded after an episode's last
    # step counts towards the next episode, so episode k averages T over [start_k, end_k - 1]
    starts = np.concatenate([[1], ends[:-1]])
    loss = [e.value for e in acc.Scalars("loss/td")]
    assert loss == pytest.approx([(a + b - 1) / 2 for a, b in zip(starts, ends)])


def test_close_closes_env():
    class _Closable(gym.Wrapper):
        closed = False

        def close(self):
            self.closed = True
            super().close()

    inner = _Closable(gym.make("CartPole-v1"))
    TrainMonitor(inner).close()
    assert inner.closed
