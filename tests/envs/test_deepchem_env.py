"""DeepChem's Environment and GymEnvironment (seed 002), their Gymnasium adapter, copies of env
instances for num_envs > 1, and agents trained on DeepChem environments."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest

from plugrl.agents import A2C, DQN, PPO, PPO2, REINFORCE, SAC
from plugrl.envs import Environment, GymEnvironment
from plugrl.envs.deepchem import to_gymnasium
from plugrl.samplers import make_vector_env


class Corridor(Environment):
    """Walk right from 0 to ``length``: reward 1 at the goal, -0.1 per other step (deterministic)."""

    def __init__(self, length: int = 4) -> None:
        self.length = length  # the subclass initialises itself, then calls the superclass
        super().__init__((2,), n_actions=2)

    def reset(self) -> None:
        self.position = 0
        self._state, self._terminated = self._observe(), False

    def step(self, action: int) -> float:
        self.position = max(0, self.position + (1 if action == 1 else -1))
        self._state = self._observe()
        self._terminated = self.position >= self.length
        return 1.0 if self._terminated else -0.1

    def _observe(self) -> np.ndarray:
        return np.array([self.position / self.length, 1.0], np.float32)


class TwoInputs(Environment):
    """A continuous-action env whose state is a list of two arrays of different dtypes."""

    def __init__(self) -> None:
        super().__init__([(2,), (3,)], action_shape=(2,), state_dtype=[np.float32, np.int32])

    def reset(self) -> None:
        self._state, self._terminated = [np.zeros(2, np.float32), np.arange(3, dtype=np.int32)], False

    def step(self, action: np.ndarray) -> float:
        self._state = [self._state[0] + action, self._state[1] + 1]
        self._terminated = bool(self._state[1][0] >= 3)
        return float(np.sum(action))


class Reach(Environment):
    """Move a point from 1 towards 0 in 10 steps of at most 0.1 (continuous actions)."""

    def __init__(self) -> None:
        super().__init__((2,), action_shape=(1,))

    def reset(self) -> None:
        self.t = 0
        self._state, self._terminated = np.array([1.0, 0.0], np.float32), False

    def step(self, action: np.ndarray) -> float:
        self.t += 1
        x = self._state[0] + 0.1 * float(np.clip(action, -1.0, 1.0)[0])
        self._state, self._terminated = np.array([x, self.t / 10], np.float32), self.t >= 10
        return -abs(x)

    def as_gymnasium(self) -> gym.Env:
        return to_gymnasium(self, action_low=-1.0, action_high=1.0)  # SAC needs bounds


class Uncopyable(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __deepcopy__(self, memo):
        raise RuntimeError("holds a socket")


# ---------------------------------------------------------------------- the seed's interface
def test_environment_properties_and_protocol():
    env = Corridor()
    assert env.state_shape == (2,) and env.state_dtype == np.float32
    assert env.n_actions == 2 and env.action_shape is None
    env.reset()
    np.testing.assert_array_equal(env.state, [0.0, 1.0])
    assert env.terminated is False
    rewards = [env.step(1) for _ in range(4)]
    assert rewards == [-0.1, -0.1, -0.1, 1.0] and env.terminated is True
    copied = pickle.loads(pickle.dumps(copy.deepcopy(env)))
    assert copied.position == 4 and copied.terminated


def test_list_state_defaults_to_float32_per_array_and_checks_the_action_arguments():
    class Plain(Environment):
        def reset(self) -> None: ...
        def step(self, action): return 0.0

    assert Plain([(2,), (3, 1)], n_actions=3).state_dtype == [np.float32, np.float32]
    with pytest.raises(ValueError, match="n_actions, action_shape: expected exactly one"):
        Plain((2,), n_actions=2, action_shape=(1,))
    with pytest.raises(ValueError, match="n_actions, action_shape: expected exactly one"):
        Plain((2,))
    with pytest.raises(ValueError, match="state_dtype: expected one dtype per state array"):
        Plain([(2,), (3,)], n_actions=2, state_dtype=np.float32)
    with pytest.raises(TypeError, match="abstract"):
        Environment((2,), n_actions=2)  # reset and step are the subclass's


def test_gym_environment_in_deepchem_form():
    env = GymEnvironment("CartPole-v1")
    assert env.spec.id == "CartPole-v1" and env.n_actions == 2 and env.state_shape == (4,)
    assert env.state_dtype == np.float32 and env.action_shape is None
    env.reset()
    assert env.state.shape == (4,) and env.terminated is False
    total = 0.0
    while not env.terminated:
        total += env.step(0)
    assert 5 <= total < 30 and not env.truncated  # pushing left makes the pole fall
    assert copy.deepcopy(env).name == pickle.loads(pickle.dumps(env)).name == "CartPole-v1"
    pendulum = GymEnvironment("Pendulum-v1")
    assert pendulum.n_actions is None and pendulum.action_shape == (1,)


def test_gym_environment_reports_a_time_limit_as_truncation():
    env = GymEnvironment("CartPole-v1")
    env.env = gym.wrappers.TimeLimit(env.env.unwrapped, max_episode_steps=3)
    env.reset()
    for _ in range(3):
        env.step(int(env.state[2] > 0))  # balance
    assert env.terminated and env.truncated


# ---------------------------------------------------------------------- the adapter
def test_adapter_spaces_and_steps():
    env = to_gymnasium(Corridor())
    assert env.observation_space == gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    assert env.action_space == gym.spaces.Discrete(2)
    s, info = env.reset(seed=0)
    np.testing.assert_array_equal(s, [0.0, 1.0])
    for _ in range(3):
        assert env.step(np.int64(1))[1:] == (-0.1, False, False, {})
    s, r, terminated, truncated, _ = env.step(1)
    assert (r, terminated, truncated) == (1.0, True, False)  # DeepChem envs never truncate


def test_adapter_flattens_a_list_state_and_bounds_continuous_actions():
    env = to_gymnasium(TwoInputs(), action_low=-1.0, action_high=1.0)
    assert env.observation_space.shape == (5,)
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    s, _ = env.reset(seed=0)
    np.testing.assert_array_equal(s, [0, 0, 0, 1, 2])  # the arrays raveled and concatenated
    s, r, *_ = env.step([0.5, 0.25])
    np.testing.assert_array_equal(s, [0.5, 0.25, 1, 2, 3])
    assert r == 0.75 and env.observation_space.contains(s)
    with pytest.raises(TypeError, match="env: expected a plugrl.envs.Environment"):
        to_gymnasium(gym.make("CartPole-v1"))


def test_adapter_hands_its_generator_to_an_env_that_draws_from_one():
    class Noisy(Corridor):
        np_random: np.random.Generator | None = None

        def reset(self) -> None:
            super().reset()
            self._state = self.np_random.normal(size=2).astype(np.float32)

    env = to_gymnasium(Noisy())
    first, second = env.reset(seed=5)[0], env.reset(seed=5)[0]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, env.reset(seed=6)[0])


# ---------------------------------------------------------------------- copies for num_envs > 1
def test_vector_env_of_copies_of_a_deepchem_env():
    original = Corridor(length=2)
    envs = make_vector_env(original, num_envs=3, seed=0)
    inner = [e.unwrapped.env for e in envs.envs]
    assert inner[0] is original and inner[1] is not original and inner[1] is not inner[2]
    assert all(e.length == 2 for e in inner)
    envs.step(np.array([1, 1, 0]))
    obs, r, terminated, truncated, info = envs.step(np.array([1, 0, 0]))
    np.testing.assert_array_equal(terminated, [True, False, False])  # each copy has its own state
    np.testing.assert_array_equal(obs[0], [0.0, 1.0])  # env 0 reset in the same step
    envs.close()


def test_vector_env_of_copies_of_an_unregistered_gymnasium_env():
    from gymnasium.envs.classic_control import CartPoleEnv

    original = CartPoleEnv()  # made without gymnasium.make: no spec to re-make it from
    original.length = 0.25
    envs = make_vector_env(original, num_envs=2, seed=0)
    assert envs.envs[0].env is original and envs.envs[1].env.length == 0.25
    obs, _ = envs.reset(seed=1)
    assert not np.array_equal(obs[0], obs[1])  # seed + i: the copies' episodes differ
    envs.close()


def test_an_instance_that_cannot_be_copied_is_a_clear_error():
    with pytest.raises(ValueError, match=r"env: expected an env instance that copy.deepcopy can "
                                         r"copy .* got Uncopyable, whose copy failed .*socket"):
        make_vector_env(Uncopyable(), num_envs=2)
    assert make_vector_env(Uncopyable(), num_envs=1).num_envs == 1


# ---------------------------------------------------------------------- agents
def test_dqn_learns_a_deepchem_env_with_copies():
    """DQN on two copies of the corridor walks straight to the goal (return 1 - 0.3)."""
    agent = DQN(Corridor(), seed=0, num_workers=2, hidden_sizes=(16,), batch_size=32,
                memory_size=2000, num_init_memory_steps=200, train_freq=4, lr=3e-3,
                target_update_intvl=100, exploration_fraction=0.3, eps_final=0.02)
    agent.fit(1500)
    env = to_gymnasium(Corridor())
    s, _ = env.reset(seed=0)
    G = 0.0
    for _ in range(20):
        s, r, terminated, *_ = env.step(agent.select_action(s, deterministic=True))
        G += r
        if terminated:
            break
    assert G == pytest.approx(0.7)
    assert agent.evaluate(2) == pytest.approx(0.7)  # on a copy of the instance it was made from


def test_an_agent_on_a_gym_environment_keeps_the_id(tmp_path):
    agent = PPO(GymEnvironment("CartPole-v1"), seed=0, n_steps=32, batch_size=32, num_epoch=1,
                num_workers=2)
    assert agent.env_id == "CartPole-v1" and agent.envs.num_envs == 2
    agent.fit(64)
    assert agent.evaluate(1) > 0
    loaded = PPO.load(agent.save(str(tmp_path / "agent")))
    assert loaded.env_id == "CartPole-v1" and loaded.evaluate(1) == agent.evaluate(1)


ON_POLICY_TINY = dict(n_steps=8, batch_size=16, num_epoch=1, hidden_sizes=(8,))
OFF_POLICY_TINY = dict(hidden_sizes=(8,), batch_size=8, memory_size=200, num_init_memory_steps=16)


@pytest.mark.parametrize("agent_class, env_class, config", [
    (REINFORCE, Corridor, ON_POLICY_TINY), (A2C, Corridor, ON_POLICY_TINY),
    (PPO, Corridor, ON_POLICY_TINY), (PPO2, Corridor, ON_POLICY_TINY),
    (DQN, Corridor, OFF_POLICY_TINY), (SAC, Reach, OFF_POLICY_TINY),
], ids=["reinforce", "a2c", "ppo", "ppo2", "dqn", "sac"])
def test_every_agent_trains_on_copies_of_a_deepchem_env(agent_class, env_class, config):
    original = env_class()
    agent = agent_class(original, seed=0, num_workers=2, **config)
    inner = [e.unwrapped.env for e in agent.envs.envs]
    assert inner[0] is original and type(inner[1]) is env_class and inner[1] is not original
    agent.fit(64)
    assert agent.num_steps >= 64 and any(np.isfinite(r.get("mean_return", np.nan))
                                         for r in agent.history)  # episodes ended, per copy
    s = np.array([0.5, 0.5], np.float32)
    assert agent.action_space.contains(np.asarray(agent.select_action(s), agent.action_space.dtype))


class Zeros(Environment):
    """A state of zeros of ``state_shape`` and ``state_dtype``; a step ends the episode."""

    def reset(self) -> None:
        shapes, dtypes = self.state_shape, self.state_dtype
        if isinstance(shapes, list):
            self._state = [np.zeros(s, d) for s, d in zip(shapes, dtypes)]
        else:
            self._state = np.zeros(shapes, dtypes)
        self._terminated = False

    def step(self, action) -> float:
        self._terminated = True
        return 0.0


INF = np.inf


@pytest.mark.parametrize("arguments, observation_space, action_space", [
    (dict(state_shape=(3,), n_actions=4),
     gym.spaces.Box(-INF, INF, (3,), np.float32), gym.spaces.Discrete(4)),
    (dict(state_shape=(2, 2), state_dtype=np.float64, n_actions=2),
     gym.spaces.Box(-INF, INF, (2, 2), np.float64), gym.spaces.Discrete(2)),
    (dict(state_shape=(1,), state_dtype=np.int8, action_shape=(3,)),
     gym.spaces.Box(-128, 127, (1,), np.int8), gym.spaces.Box(-INF, INF, (3,), np.float32)),
    (dict(state_shape=[(2,), (1, 2)], state_dtype=[np.float32, np.float64], n_actions=2),
     gym.spaces.Box(-INF, INF, (4,), np.float64), gym.spaces.Discrete(2)),
], ids=["n_actions", "state_dtype", "action_shape", "list_state"])
def test_each_constructor_argument_shapes_the_gymnasium_spaces(arguments, observation_space,
                                                               action_space):
    env = to_gymnasium(Zeros(**arguments))
    assert env.observation_space == observation_space and env.action_space == action_space
    s, _ = env.reset(seed=0)
    assert s.shape == observation_space.shape and s.dtype == observation_space.dtype
    assert env.step(env.action_space.sample())[2:4] == (True, False)  # terminated, never truncated
