"""PPO on Pong: the Atari network shared by actor and critic, determinism of the native vector
env, checkpoints (episodes restarted on the native env, replayed exactly on Gymnasium's), and the
evaluation env.

Pong's first point comes after about 60 steps of random play, so a run of 2 x 64 steps is the
shortest whose second update sees a reward (before it, every gradient is zero: the heads start
at zero and the returns are zero). Each agent compiles a convolutional network; JAX's
persistent cache makes the later ones cheaper.
"""

from __future__ import annotations

import pathlib
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from plugrl.agents import PPO
from plugrl.predefined import AtariFunctionApproximator
from plugrl.samplers import make_evaluation_env
from plugrl.utils.checkpoints import checkpoint_state, list_checkpoints

ale_py = pytest.importorskip("ale_py")
pytest.importorskip("cv2")

CONFIG = {"num_envs": 2, "n_steps": 32, "batch_size": 64, "n_epochs": 1}
ITERATION = CONFIG["num_envs"] * CONFIG["n_steps"]  # env steps per rollout


def _ppo(**overrides: Any) -> PPO:
    return PPO("ALE/Pong-v5", seed=0, **{**CONFIG, **overrides})


def _assert_same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def twins() -> dict[str, Any]:
    """Two PPO agents with the same seed, each trained for two rollouts on the native env."""
    agents = [_ppo(), _ppo()]
    initial = agents[0].learner.get_weights()
    for agent in agents:
        agent.fit(2 * ITERATION)
    yield {"agents": agents, "initial": initial}
    for agent in agents:
        agent.close()


def test_pong_trains_on_the_native_env(twins: dict[str, Any]) -> None:
    agent = twins["agents"][0]
    assert isinstance(agent.envs, ale_py.vector_env.AtariVectorEnv)
    assert agent.num_steps == 2 * ITERATION and len(agent.history) == 2
    assert agent.history[-1]["OnPolicyLearner/grad_norm"] > 0  # the reward reached the gradient
    assert any(not np.array_equal(w, w0) for w, w0 in zip(agent.learner.get_weights(), twins["initial"]))


def test_actor_and_critic_share_one_atari_network(twins: dict[str, Any]) -> None:
    learner = twins["agents"][0].learner
    func = learner.policy.function_approximator
    assert isinstance(func, AtariFunctionApproximator) and func.channels_first
    assert learner.v_func.function_approximator is func
    assert twins["agents"][0].last_rollout.S.dtype == np.uint8  # rollouts keep the bytes


def test_same_seed_same_run(twins: dict[str, Any]) -> None:
    first, second = twins["agents"]
    np.testing.assert_equal(first.history, second.history)  # NaN equals NaN
    _assert_same_weights(first.learner.get_weights(), second.learner.get_weights())


def test_native_checkpoint_restarts_episodes_reproducibly(twins: dict[str, Any],
                                                          tmp_path: pathlib.Path) -> None:
    first, second = twins["agents"]
    path = first.save(str(tmp_path / "pong"))
    assert checkpoint_state(path)["episodes_replayed"] is False

    restored = PPO.load(path)
    assert restored.num_steps == first.num_steps
    np.testing.assert_equal(restored.history, first.history)
    _assert_same_weights(restored.learner.get_weights(), first.learner.get_weights())
    assert restored.sampler.state()["lengths"] == [0, 0]  # new episodes
    restored.fit(ITERATION)
    assert restored.num_steps == 3 * ITERATION and len(restored.history) == 3

    second.restore(path)  # the second restore of the same checkpoint trains alike
    second.fit(ITERATION)
    np.testing.assert_equal(second.history, restored.history)
    _assert_same_weights(second.learner.get_weights(), restored.learner.get_weights())
    restored.close()


def test_gymnasium_vector_env_checkpoint_continues_exactly(tmp_path: pathlib.Path) -> None:
    """With vectorization="sync" the checkpoint replays the ongoing episodes: a run restored
    after its first rollout ends exactly as the uninterrupted run."""
    agent = _ppo(vectorization="sync", model_dir=str(tmp_path))
    agent.fit(ITERATION, checkpoint_interval=ITERATION)
    agent.fit(ITERATION)
    assert agent.history[-1]["OnPolicyLearner/grad_norm"] > 0  # else the runs could not differ
    first = list_checkpoints(tmp_path)[0]
    assert checkpoint_state(first)["num_steps"] == ITERATION
    assert checkpoint_state(first)["episodes_replayed"] is True

    resumed = PPO.load(str(first))
    assert resumed.config.vectorization == "sync"
    resumed.fit(ITERATION)
    np.testing.assert_equal(resumed.history, agent.history)
    _assert_same_weights(resumed.learner.get_weights(), agent.learner.get_weights())
    for a in (agent, resumed):
        a.close()


def test_evaluation_env_scores_unclipped_pong(twins: dict[str, Any]) -> None:
    env = twins["agents"][0].evaluation_env()
    s, _ = env.reset(seed=0)
    assert s.shape == (4, 84, 84) and s.dtype == np.uint8
    wrapper, wrappers = env, []
    while isinstance(wrapper, gym.Wrapper):
        wrappers.append(type(wrapper))
        wrapper = wrapper.env
    assert gym.wrappers.FrameStackObservation in wrappers
    assert gym.wrappers.TransformReward not in wrappers
    env.close()


def test_evaluation_env_rewards_are_the_game_score() -> None:
    """Space Invaders' aliens are worth 5 to 30 points: evaluation sees them unclipped."""
    env = make_evaluation_env("ALE/SpaceInvaders-v5")
    env.reset(seed=0)
    rewards = [float(env.step(a)[1]) for a in [1, 4, 1, 5] * 50]
    assert max(rewards) > 1
    env.close()
