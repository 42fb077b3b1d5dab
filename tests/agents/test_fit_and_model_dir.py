"""``fit(N)`` performs N more steps; checkpoints live in the agent's ``model_dir`` and belong to
one run; DeepChem's ``restore`` and pyrado's ``max_iter``, ``eval_intvl`` and ``train``."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from plugrl.agents import DQN, PPO, SAC
from plugrl.agents.persistence import run_checkpoints, save_agent
from plugrl.utils.checkpoints import CheckpointError, list_checkpoints

PPO_TINY = dict(num_envs=2, n_steps=16, batch_size=16, num_epoch=2, hidden_sizes=(16,))
DQN_TINY = dict(hidden_sizes=(16,), batch_size=16, memory_size=500, train_freq=8,
                num_updates_per_step=2, num_init_memory_steps=64, target_update_intvl=40,
                eps_schedule_gamma=0.99)
SAC_TINY = dict(hidden_sizes=(16,), batch_size=16, memory_size=500, train_freq=2,
                num_init_memory_steps=40)
AGENTS = {"ppo": (PPO, "CartPole-v1", PPO_TINY), "dqn": (DQN, "CartPole-v1", DQN_TINY),
          "sac": (SAC, "Pendulum-v1", SAC_TINY)}


def _same_run(a, b):
    for x, y in zip(keras.tree.flatten(a.learner.state), keras.tree.flatten(b.learner.state), strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_equal(a.history, b.history)  # NaN: no episode ended yet
    assert a.num_steps == b.num_steps


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_fit_twice_equals_fit_of_the_sum(name):
    agent_class, env_id, config = AGENTS[name]
    twice = agent_class(env_id, seed=1, **config).fit(160).fit(160)
    once = agent_class(env_id, seed=1, **config).fit(320)
    assert twice.num_steps == 320
    _same_run(twice, once)


@pytest.mark.parametrize("name", ["ppo", "dqn"])
def test_resumed_fit_equals_uninterrupted_fit(tmp_path, name):
    agent_class, env_id, config = AGENTS[name]
    agent_class(env_id, seed=2, model_dir=tmp_path, **config).fit(160)
    resumed = agent_class(env_id, seed=2, model_dir=tmp_path, **config).fit(160, restore=True)
    _same_run(resumed, agent_class(env_id, seed=2, **config).fit(320))


def test_restore_without_a_checkpoint_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint in model_dir"):
        PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).fit(32, restore=True)
    with pytest.raises(FileNotFoundError, match="expected a model_dir"):
        PPO("CartPole-v1", seed=0, **PPO_TINY).fit(32, restore=True)
    assert list_checkpoints(tmp_path) == []


def test_save_dir_is_model_dir_and_both_is_an_error(tmp_path):
    agent = PPO("CartPole-v1", seed=0, save_dir=tmp_path, **PPO_TINY).fit(32)
    assert agent.model_dir == str(tmp_path) and len(list_checkpoints(tmp_path)) == 1
    with pytest.raises(TypeError, match="model_dir: got both"):
        PPO("CartPole-v1", model_dir=tmp_path, save_dir=tmp_path, **PPO_TINY)


def test_a_new_run_never_writes_among_another_runs_checkpoints(tmp_path):
    """Restarting without restore used to have every new checkpoint pruned at once by the older
    run's higher step counts, and a later restore resumed the older run."""
    old = PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).fit(128, checkpoint_interval=32)
    before = {p.name: (p / "arrays.npz").read_bytes() for p in list_checkpoints(tmp_path)}
    fresh = PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY)
    with pytest.raises(FileExistsError, match="holds checkpoints of another run"):
        fresh.fit(32, checkpoint_interval=32)
    assert fresh.num_steps == 0
    assert {p.name: (p / "arrays.npz").read_bytes() for p in list_checkpoints(tmp_path)} == before
    # restore=True continues the older run; its checkpoints stay its own.
    continued = PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).fit(32, restore=True)
    assert continued.num_steps == 160 and continued.run_id == old.run_id
    # overwrite=True starts a new run, and "latest" is then the newest of the new run.
    new = PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).fit(32, overwrite=True)
    assert list(run_checkpoints(tmp_path)) == [new.run_id]
    assert PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).restore().num_steps == 32


def test_a_run_prunes_only_its_own_checkpoints(tmp_path):
    other = PPO("CartPole-v1", seed=0, **PPO_TINY).fit(160)
    save_agent(other, tmp_path)  # a checkpoint of another run, at a higher step count
    agent = PPO("CartPole-v1", seed=1, **PPO_TINY)
    for _ in range(4):
        save_agent(agent.fit(16), tmp_path, keep_last=2)
    runs = run_checkpoints(tmp_path)
    assert [p.name for p in runs[agent.run_id]] == ["ckpt-000000000096", "ckpt-000000000128"]
    assert [p.name for p in runs[other.run_id]] == ["ckpt-000000000160"]


def test_max_checkpoints_to_keep(tmp_path):
    PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).fit(
        160, max_checkpoints_to_keep=2, checkpoint_interval=32)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-000000000128", "ckpt-000000000160"]


def test_checkpoint_interval_counts_steps_and_warns_when_it_looks_like_seconds(tmp_path):
    with pytest.warns(UserWarning, match="counts environment steps in plugrl"):
        PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).fit(64, checkpoint_interval=600)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-000000000064"]  # the final one only


def test_checkpoint_seconds_and_a_temporary_model_dir():
    agent = PPO("CartPole-v1", seed=0, **PPO_TINY).fit(96, checkpoint_seconds=1e-9)
    assert agent.model_dir is not None  # DeepChem: a temporary directory when none is given
    assert [p.name for p in list_checkpoints(agent.model_dir)] == \
        [f"ckpt-{steps:012d}" for steps in (32, 64, 96)]


def test_max_iter_eval_intvl_and_train(tmp_path):
    agent = PPO("CartPole-v1", seed=0, max_iter=5, eval_intvl=2, save_dir=tmp_path,
                eval_episodes=1, **PPO_TINY)
    agent.train(snapshot_mode="latest")
    assert agent.num_steps == 5 * 32 and len(agent.history) == 5
    assert ["eval_return" in record for record in agent.history] == [False, True, False, True, False]
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-000000000160"]
    with pytest.raises(ValueError, match="seed: plugrl seeds an agent at construction"):
        agent.train(seed=1)
    with pytest.raises(ValueError, match="total_steps: expected an int > 0, or max_iter"):
        PPO("CartPole-v1", seed=0, **PPO_TINY).fit()
    best = PPO("CartPole-v1", seed=0, max_iter=2, save_dir=tmp_path / "b", **PPO_TINY)
    best.train(snapshot_mode="best")
    assert (tmp_path / "b" / "best" / "checkpoint.json").is_file()


def test_pyrado_reset_keeps_the_weights_and_restarts_the_counts(tmp_path):
    agent = PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).fit(64)
    assert (agent.name, agent.curr_iter) == ("ppo", 2)
    weights, old_run = agent.learner.get_weights(), agent.run_id
    agent.reset(seed=7)
    assert (agent.num_steps, agent.curr_iter, agent.history, agent.seed) == (0, 0, [], 7)
    assert agent.run_id != old_run
    for a, b in zip(weights, agent.learner.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The same as an agent with these weights made with seed 7: the environments restart.
    fresh = PPO("CartPole-v1", seed=7, **PPO_TINY)
    fresh.learner.load_state(agent.learner.state)
    _same_run(agent.fit(64, overwrite=True), fresh.fit(64))
    assert PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).restore().curr_iter == 2


def test_pyrado_logger_and_argument_order(tmp_path):
    class StepLogger:  # pyrado's protocol
        def __init__(self):
            self.steps, self.values = [], {}

        def add_value(self, name, value):
            self.values[name] = value

        def record_step(self):
            self.steps.append(dict(self.values))

    logger, records = StepLogger(), []
    PPO("CartPole-v1", seed=0, logger=logger, **PPO_TINY).fit(64)
    PPO("CartPole-v1", seed=0, logger=records.append, **PPO_TINY).fit(64)
    assert [step["steps"] for step in logger.steps] == [r["steps"] for r in records] == [32.0, 64.0]
    with pytest.raises(TypeError, match="logger: expected None, a callable"):
        PPO("CartPole-v1", logger="tensorboard", **PPO_TINY)
    with pytest.raises(TypeError, match="pyrado's order"):
        PPO(tmp_path)


def test_restoring_into_an_agent_built_from_other_objects_is_a_clear_error(tmp_path):
    import gymnasium as gym

    import plugrl

    class Body(plugrl.FunctionApproximator):
        def body(self, S):
            return keras.layers.Dense(8, activation="tanh")(S)

    PPO("CartPole-v1", seed=0, model_dir=tmp_path, **PPO_TINY).fit(32)
    other = PPO("CartPole-v1", seed=0, model_dir=tmp_path,
                function_approximator=Body(gym.make("CartPole-v1")), **PPO_TINY)
    with pytest.raises(CheckpointError, match="expected a learner of .* build the agent from the same"):
        other.restore()
