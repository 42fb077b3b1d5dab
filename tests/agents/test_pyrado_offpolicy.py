"""pyrado's off-policy interface (seed 004): DQL, SAC's tau under its own name, the ``None``
settings of ``num_init_memory_steps`` and ``num_updates_per_step``, the refill after ``reset``."""

import gymnasium as gym
import keras
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import plugrl
from plugrl.agents import AGENTS, DQL, DQN, SAC
from plugrl.agents.presets import list_presets, load_preset

TINY = dict(hidden_sizes=(8,), batch_size=8, memory_size=200, num_init_memory_steps=8, train_freq=1)


def _online_equals_target(agent):
    state = agent.learner.state
    return np.array_equal(np.asarray(ravel_pytree(state.params)[0]), np.asarray(state.target_params))


# ---------------------------------------------------------------------- DQL
def test_dql_is_registered_with_pyrados_name_and_defaults():
    agent = DQL("CartPole-v1", seed=0)
    assert AGENTS["DQL"] is DQL and agent.name == "dql"  # pyrado's name (RunControl.name)
    cfg = agent.config
    assert (cfg.batch_size, cfg.lr, cfg.max_grad_norm, cfg.target_update_intvl) == (256, 5e-4, 0.5, 5)
    assert cfg.num_init_memory_steps is None and cfg.num_updates_per_step is None
    assert cfg.loss == "huber"


@pytest.mark.parametrize("steps, copied_last", [(10, False), (11, True)])
def test_dql_copies_the_target_every_target_update_intvl_gradient_steps(steps, copied_last):
    # Rounds from step 9 on (8 transitions sampleable), 3 gradient steps each: indices 0-2, 3-5,
    # 6-8; copies after 0, 4 and 8.
    agent = DQL("CartPole-v1", seed=0, num_updates_per_step=3, target_update_intvl=4, **TINY).fit(steps)
    assert agent.num_update_rounds == steps - 8
    assert [r["DQN/target_updates"] for r in agent.history[-(steps - 8):]] == [1] * (steps - 8)
    assert _online_equals_target(agent) == copied_last


def test_dql_decays_epsilon_per_iteration():
    agent = DQL("CartPole-v1", seed=0, eps_init=0.8, eps_final=0.0, eps_schedule_gamma=0.5, **TINY)
    assert agent._exploration(10_000) == 0.8
    agent.fit(12)  # rounds at steps 9 to 12
    assert agent.num_update_rounds == 4 and agent._exploration(10_000) == pytest.approx(0.8 * 0.5 ** 4)


def test_dql_trains_the_users_q_function():
    class Body(plugrl.FunctionApproximator):
        def body(self, S):
            return keras.layers.Dense(5, activation="tanh")(S)

    env = gym.make("CartPole-v1")
    q = plugrl.QTypeII(Body(env, random_seed=0))
    s = np.ones(4, np.float32)
    before = np.asarray(q(s))
    agent = DQL(env, policy=q, seed=0, **TINY).fit(40)
    assert agent.learner.func is q.function_approximator
    assert [p.shape for p in agent.learner.state.params] == [(4, 5), (5,), (5, 2), (2,)]
    agent.learner.keras_models()  # writes the trained weights back to the user's objects
    assert not np.allclose(np.asarray(q(s)), before)
    with pytest.raises(TypeError, match="policy: expected a plugrl.QTypeII"):
        DQL(env, policy="mlp")


# ---------------------------------------------------------------------- tau
@pytest.mark.parametrize("agent_class, env_id", [(SAC, "Pendulum-v1"), (DQN, "CartPole-v1")])
def test_pyrados_tau_cannot_silently_invert(agent_class, env_id):
    with pytest.raises(ValueError, match=r"tau: .*0\.995.*ambiguous.*pyrado.*tau_target=0\.995"):
        agent_class(env_id, tau=0.995)
    agent = agent_class(env_id, tau_target=0.995)
    assert agent.config.tau == pytest.approx(0.005) and agent.learner.config.tau == agent.config.tau
    with pytest.raises(TypeError, match="got both"):
        agent_class(env_id, tau=0.005, tau_target=0.995)
    assert agent_class(env_id, tau=1.0).config.tau == 1.0  # a hard copy is unambiguous


@pytest.mark.filterwarnings("ignore:num_init_memory_steps")  # one round of updates is the point
def test_sac_moves_its_targets_by_plugrl_tau():
    agent = SAC("Pendulum-v1", seed=0, tau_target=0.75, **TINY)
    critic = agent.learner.state.critic
    target0 = np.asarray(critic.target_params)
    agent.fit(8)  # one gradient step, then one target update with weight 1 - 0.75
    critic = agent.learner.state.critic
    online = np.asarray(ravel_pytree(critic.params)[0])
    np.testing.assert_allclose(np.asarray(critic.target_params), 0.75 * target0 + 0.25 * online, rtol=1e-5,
                               atol=1e-6)


# ---------------------------------------------------------------------- None settings, refill
def test_num_init_memory_steps_none_fills_the_buffer_completely():
    agent = DQL("CartPole-v1", seed=0, hidden_sizes=(8,), batch_size=8, memory_size=30)
    acted, act = [], agent.learner.act
    agent.learner.act = lambda *args: acted.append(agent.num_steps) or act(*args)
    agent.fit(40)
    assert acted[0] == 30 and agent.num_update_rounds == 11  # random for 30 steps, then learning
    with pytest.warns(UserWarning, match="initial fill of memory_size = 1000000 random steps"):
        DQN("CartPole-v1", num_init_memory_steps=None).fit(2)


def test_num_updates_per_step_none_is_one_update_per_episode_of_steps():
    # CartPole's time limit is 500: ceil(1200 / 500) = 3 gradient steps per round.
    agent = DQN("CartPole-v1", seed=0, num_updates_per_step=None, **{**TINY, "train_freq": 1200})
    assert agent.num_updates_per_step == 3
    sizes, update = [], agent.learner.update
    agent.learner.update = lambda batch, *args: sizes.append(batch["Rn"].shape[0]) or update(batch, *args)
    agent.fit(1200)
    assert sizes == [3]
    assert DQN("CartPole-v1", num_updates_per_step=None, train_freq=4).num_updates_per_step == 1


@pytest.mark.parametrize("use_trained", [False, True])
def test_use_trained_policy_for_refill(use_trained):
    agent = DQN("CartPole-v1", seed=0, use_trained_policy_for_refill=use_trained, **TINY).fit(10)
    acted, act = [], agent.learner.act
    agent.learner.act = lambda *args: acted.append(agent.num_steps) or act(*args)
    agent.reset()  # the step count starts again too
    assert len(agent.buffer) == 0 and agent.num_update_rounds == agent.num_steps == 0
    agent.fit(10)
    # The refill takes 8 steps: the trained policy's, or random actions.
    assert acted == (list(range(10)) if use_trained else [8, 9])
    # Updates only after the refill: at most at steps 9 and 10 (and at 8 when the trained policy's
    # refill ends no episode, so that its 8 transitions are sampleable at once).
    assert 2 <= agent.num_update_rounds <= 3


# ---------------------------------------------------------------------- SAC's networks
def test_sac_trains_the_users_policy_and_twin_critics():
    class Actor(plugrl.FunctionApproximator):
        def body(self, S):
            return keras.layers.Dense(6, activation="tanh")(S)

    class Critic(plugrl.FunctionApproximator):
        def body_q1(self, S, A):
            return keras.layers.Dense(7, activation="tanh")(keras.layers.Concatenate()([S, A]))

    env = gym.make("Pendulum-v1")
    policy = Actor(env, random_seed=0)  # a GaussianPolicy needs an unbounded Box; SAC squashes
    q1, q2 = (plugrl.QTypeI(Critic(env, random_seed=i)) for i in (1, 2))
    s, a = np.ones(3, np.float32), np.zeros(1, np.float32)
    before = [np.asarray(q1(s, a)), np.asarray(q2(s, a))]
    agent = SAC(env, policy=policy, qfcn_1=q1, qfcn_2=q2, seed=0, **TINY)
    assert agent.name == "sac" and agent.ent_coeff == pytest.approx(1.0)
    actor_params = [np.asarray(p) for p in agent.learner.state.actor.params]
    assert [p.shape for p in actor_params][:2] == [(3, 6), (6,)]
    assert [p.shape for p in agent.learner.state.critic.params][:2] == [(4, 7), (7,)]
    agent.fit(20)
    assert not np.allclose(np.asarray(agent.learner.state.actor.params[0]), actor_params[0])
    assert agent.ent_coeff != pytest.approx(1.0)  # learned, and read from the state
    agent.learner.keras_models()  # writes the trained weights back to the user's objects
    assert not np.allclose(np.asarray(q1(s, a)), before[0])
    assert not np.allclose(np.asarray(q2(s, a)), before[1])
    with pytest.raises(TypeError, match="qfcn_2: expected a plugrl policy"):
        SAC(env, qfcn_2="mlp")


# ---------------------------------------------------------------------- defaults that learn
class Corridor(gym.Env):
    """8 cells, one-hot observations, start in cell 0; actions left (0) and right (1); reward 1
    on reaching cell 7, which terminates; truncated after 30 steps."""

    observation_space = gym.spaces.Box(0.0, 1.0, (8,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.t = 0, 0
        return np.eye(8, dtype=np.float32)[self.pos], {}

    def step(self, a):
        self.pos, self.t = min(7, max(0, self.pos + (1 if int(a) == 1 else -1))), self.t + 1
        done = self.pos == 7
        return np.eye(8, dtype=np.float32)[self.pos], float(done), done, not done and self.t >= 30, {}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dqn_defaults_learn_a_small_corridor(seed):
    agent = DQN(Corridor(), seed=seed).fit(15_000)
    env = Corridor()
    s, _ = env.reset(seed=0)
    for _ in range(7):  # the shortest path
        s, r, terminated, truncated, _ = env.step(agent.select_action(s, deterministic=True))
    assert terminated and r == 1.0


@pytest.mark.parametrize("env_id", list_presets()["DQN"])
def test_dqn_presets_keep_their_tuned_settings_whatever_the_defaults(env_id):
    config, _ = load_preset("DQN", env_id)
    assert {"lr", "target_update_intvl", "exploration_fraction"} <= set(config)
    agent = DQN.from_preset(env_id)
    assert agent.config.target_update_intvl == config["target_update_intvl"] != DQN.CONFIG.target_update_intvl
