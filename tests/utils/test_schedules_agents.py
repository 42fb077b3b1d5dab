"""Every agent takes pyrado's ``lr_scheduler`` / ``lr_scheduler_hparam`` (seed 004): the learning
rate of its k-th update is the scheduler's value after k steps, on the ordinary and the fast path."""

import numpy as np
import pytest

from plugrl.agents import A2C, DQN, PPO, PPO2, REINFORCE, SAC

ON_POLICY = dict(n_steps=16, num_envs=1, batch_size=16, num_epoch=1, hidden_sizes=(8,))
AGENTS = [
    (REINFORCE, "CartPole-v1", ON_POLICY, 64),
    (A2C, "CartPole-v1", ON_POLICY, 64),
    (PPO, "CartPole-v1", ON_POLICY, 64),
    (PPO2, "CartPole-v1", ON_POLICY, 64),
    (DQN, "CartPole-v1", dict(hidden_sizes=(8,), batch_size=8, memory_size=100, train_freq=4,
                              num_init_memory_steps=16), 48),
    (SAC, "Pendulum-v1", dict(hidden_sizes=(8,), batch_size=8, memory_size=100, train_freq=4,
                              num_init_memory_steps=16), 48),
]


def _final_lr(agent):
    state = agent.learner.state
    state = getattr(state, "actor", state)  # SAC: one learning rate for its three optimizers
    return float(state.opt_state.hyperparams["learning_rate"])


@pytest.mark.parametrize("agent_class, env_id, config, steps", AGENTS, ids=[a[0].__name__ for a in AGENTS])
def test_each_update_uses_the_schedulers_learning_rate(agent_class, env_id, config, steps):
    agent = agent_class(env_id, seed=0, lr=0.01, lr_scheduler="StepLR",
                        lr_scheduler_hparam={"step_size": 2, "gamma": 0.5}, **config)
    assert agent.config.lr == 'StepLR:{"gamma": 0.5, "lr": 0.01, "step_size": 2}'
    used, update = [], agent.learner.update

    def recording_update(batch, lr, *args):
        used.append(float(getattr(lr, "lr", lr)))  # on-policy learners take Coefficients
        return update(batch, lr, *args)

    agent.learner.update = recording_update
    agent.fit(steps)
    expected = [0.01 * 0.5 ** (k // 2) for k in range(len(used))]
    assert len(used) >= 4
    np.testing.assert_allclose(used, expected, rtol=1e-6)
    assert _final_lr(agent) == pytest.approx(expected[-1], rel=1e-6)


def test_the_fast_path_steps_the_scheduler_once_per_update():
    import plugrl

    agent = PPO(plugrl.envs.jax.make("CartPole-v1"), seed=0, lr=0.01, lr_scheduler="ExponentialLR",
                lr_scheduler_hparam={"gamma": 0.5}, **ON_POLICY).fit(80)
    assert agent.num_steps == 80
    assert _final_lr(agent) == pytest.approx(0.01 * 0.5 ** 4, rel=1e-6)  # the 5th update's


def test_a_scheduled_agent_saves_and_loads(tmp_path):
    agent = DQN("CartPole-v1", seed=0, lr_scheduler="ExponentialLR", lr_scheduler_hparam={"gamma": 0.9},
                **AGENTS[4][2]).fit(48)
    agent.save(tmp_path / "agent")
    loaded = DQN.load(tmp_path / "agent")
    assert loaded.config.lr == agent.config.lr
    assert loaded.num_update_rounds == agent.num_update_rounds == 9  # at steps 16, 20, ..., 48
