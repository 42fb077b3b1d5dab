"""The Ray sampler on a local Ray cluster (2 CPUs, started once per session; see conftest)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ray")

from envs.test_deepchem_env import Corridor  # noqa: E402

from plugrl.agents import DQN, PPO  # noqa: E402
from plugrl.samplers import make_vector_env  # noqa: E402
from plugrl.samplers.ray_sampler import RayStreamSampler  # noqa: E402
from plugrl.samplers.ray_supervisor import RayWorkerError  # noqa: E402
from plugrl.samplers.ray_workers import RayOptions  # noqa: E402
from samplers.ray_envs import cartpole, sabotaged  # noqa: E402

PPO_SMALL = dict(n_steps=16, batch_size=32, num_epoch=2, hidden_sizes=(16,))
FIELDS = ("S", "A", "R", "terminated", "truncated", "S_next", "S_last")


def train_side_by_side(env_local, env_ray, iterations: int = 3, **ray_config):
    """PPO on the sync vector env and on Ray, same seed: the rollouts of every iteration."""
    local = PPO(env_local, seed=5, num_envs=4, vectorization="sync", **PPO_SMALL)
    remote = PPO(env_ray, seed=5, num_envs=4, vectorization="ray", envs_per_worker=2,
                 **PPO_SMALL, **ray_config)
    pairs = []
    for _ in range(iterations):
        local.fit(64)
        remote.fit(64)
        pairs.append((local.last_rollout, remote.last_rollout))
    return local, remote, pairs


def assert_same_run(local, remote, pairs):
    for a, b in pairs:
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
        for key in ("logP", "V", "A", "Z"):
            np.testing.assert_array_equal(a.info[key], b.info[key], err_msg=key)
    assert remote.num_steps == local.num_steps == 64 * len(pairs)
    assert remote.sampler.total_steps == local.sampler.total_steps
    assert remote.sampler.episode_returns == local.sampler.episode_returns
    for w_local, w_remote in zip(local.learner.get_weights(), remote.learner.get_weights(), strict=True):
        np.testing.assert_array_equal(w_local, w_remote)


def test_ray_rollouts_equal_the_local_sampler_bit_for_bit(ray_cluster):
    local, remote, pairs = train_side_by_side("CartPole-v1", "CartPole-v1")
    assert remote.envs.num_workers == 2
    assert_same_run(local, remote, pairs)
    assert remote.envs.supervisor.restarts == 0
    remote.close()


def test_a_deepchem_environment_crosses_to_the_actors(ray_cluster):
    local, remote, pairs = train_side_by_side(Corridor(), Corridor(), iterations=2)
    assert_same_run(local, remote, pairs)
    assert remote.sampler.episode_returns  # the corridor's episodes end
    remote.close()


def test_a_killed_worker_is_replaced_and_its_segment_collected_again(ray_cluster, tmp_path):
    # Env 3 (seed 5 + 3, the second worker's) kills its process at its 20th step, mid-rollout.
    crashing = sabotaged("exit", victim_seed=8, at_step=20, flag=str(tmp_path / "exited"))
    local, remote, pairs = train_side_by_side(cartpole, crashing)
    assert (tmp_path / "exited").exists()
    assert remote.envs.supervisor.restarts == 1
    assert "worker 1" in remote.envs.supervisor.failures[0]
    assert_same_run(local, remote, pairs)  # nothing lost, nothing counted twice
    remote.close()


def test_a_hung_worker_is_timed_out_and_replaced(ray_cluster, tmp_path):
    hanging = sabotaged("hang", victim_seed=6, at_step=40, flag=str(tmp_path / "hung"))
    local, remote, pairs = train_side_by_side(cartpole, hanging, iterations=3, worker_timeout=8.0)
    assert remote.envs.supervisor.restarts == 1
    assert "worker_timeout" in remote.envs.supervisor.failures[0]
    assert_same_run(local, remote, pairs)
    remote.close()


def test_exhausted_restarts_raise_a_clear_error(ray_cluster):
    always_failing = sabotaged("raise", victim_seed=5, at_step=5)  # no flag: every replacement too
    agent = PPO(always_failing, seed=5, num_envs=2, vectorization="ray", max_worker_restarts=1, **PPO_SMALL)
    with pytest.raises(RayWorkerError, match=r"max_worker_restarts=1.*sabotaged at step"):
        agent.fit(32)
    assert agent.envs.supervisor.restarts == 1
    agent.close()


def test_ray_vector_env_is_a_gymnasium_vector_env_and_checkpoints_replay(ray_cluster, tmp_path):
    agent = PPO("CartPole-v1", seed=1, num_envs=2, vectorization="ray", **PPO_SMALL)
    agent.fit(64)
    path = agent.save(str(tmp_path / "ppo"))
    agent.fit(32)
    agent.close()  # its actors hold the cluster's 2 CPUs
    again = PPO.load(path)  # the same configuration: Ray actors again, episodes replayed
    local = PPO.load(path, vectorization="sync")
    for a in (again, local):
        a.fit(32)
        np.testing.assert_array_equal(a.last_rollout.S, agent.last_rollout.S)
        np.testing.assert_array_equal(a.last_rollout.A, agent.last_rollout.A)
    again.close()


def test_more_actors_than_free_cpus_is_a_clear_error(ray_cluster):
    with pytest.raises(ValueError, match="one Ray actor per CPU"):
        make_vector_env("CartPole-v1", 3, "ray")


def test_ray_options_are_checked():
    with pytest.raises(ValueError, match="envs_per_worker"):
        RayOptions(envs_per_worker=0)
    with pytest.raises(ValueError, match="worker_timeout"):
        PPO("CartPole-v1", vectorization="ray", worker_timeout=-1.0)


def test_num_envs_must_be_a_multiple_of_envs_per_worker(ray_cluster):
    with pytest.raises(ValueError, match="multiple of envs_per_worker=2, got 3"):
        make_vector_env("CartPole-v1", 3, "ray", ray_options=RayOptions(envs_per_worker=2))


def test_off_policy_transitions_stream_into_the_replay_buffer(ray_cluster):
    agent = DQN("CartPole-v1", seed=0, num_envs=2, vectorization="ray", train_freq=8,
                num_init_memory_steps=100, memory_size=5000, hidden_sizes=(16,))
    assert isinstance(agent.sampler, RayStreamSampler)
    agent.fit(400)
    agent.fit(200)  # fit(N) is N more steps, also on the stream
    streams = agent.buffer.buffers  # one per env, each fed by its actor's segments as they arrive
    stored = sum(len(stream) for stream in streams)
    assert agent.num_steps == agent.sampler.total_steps == stored >= 600
    assert agent.num_steps % 8 == 0 and agent.sampler.in_flight_steps() == 0  # whole segments, none pending
    ongoing = sum(agent.sampler.state()["lengths"])
    assert sum(agent.sampler.episode_lengths) + ongoing == agent.num_steps  # nothing lost or doubled
    assert any(record.get("DQN/loss") is not None for record in agent.history)  # it learned from them
    agent.close()
