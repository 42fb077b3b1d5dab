"""make_vector_env: inputs it accepts, same-step autoreset, seeding and its errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.classic_control import CartPoleEnv
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from plugrl.samplers import make_vector_env


class UncopyableRecreatable(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """A wrapper that deepcopy cannot copy but that ``gymnasium.make(spec)`` can recreate."""

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)

    def __deepcopy__(self, memo: dict) -> None:
        raise RuntimeError("no copies")


def test_from_id_sync() -> None:
    envs = make_vector_env("CartPole-v1", num_envs=3)
    assert isinstance(envs, SyncVectorEnv) and envs.num_envs == 3
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    envs.close()


def test_async_gives_same_step_autoreset() -> None:
    envs = make_vector_env("CartPole-v1", num_envs=2, vectorization="async", seed=0)
    assert isinstance(envs, gym.vector.AsyncVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    for _ in range(30):  # a fixed action ends every CartPole episode within 30 steps
        obs, _, terminated, truncated, info = envs.step(np.zeros(2, np.int64))
        if (terminated | truncated).any():
            break
    ended = terminated | truncated
    assert ended.any()
    np.testing.assert_array_equal(info["_final_obs"], ended)
    for i in np.flatnonzero(ended):  # the final obs is out of bounds, the reset obs is not
        assert not np.array_equal(info["final_obs"][i], obs[i])
        assert np.all(np.abs(obs[i]) <= 0.05)
    envs.close()


def test_from_instance() -> None:
    env = gym.make("CartPole-v1", max_episode_steps=5)
    envs = make_vector_env(env)
    assert envs.envs[0].env is env  # used as is, inside the episode recorder
    envs = make_vector_env(env, num_envs=3)  # the others are deep copies
    assert envs.envs[0].env is env and envs.envs[1].env is not env
    assert [e.spec.max_episode_steps for e in envs.envs] == [5, 5, 5]
    envs.close()


def test_from_factory() -> None:
    envs = make_vector_env(lambda: gym.make("CartPole-v1", max_episode_steps=7), num_envs=2)
    assert envs.envs[0] is not envs.envs[1]
    assert [e.spec.max_episode_steps for e in envs.envs] == [7, 7]
    envs.close()


def test_vector_env_returned_as_is() -> None:
    envs = make_vector_env("CartPole-v1", num_envs=2)
    assert make_vector_env(envs) is envs
    assert make_vector_env(envs, num_envs=2) is envs
    with pytest.raises(ValueError, match="num_envs: expected 1 or the vector env's num_envs=2, got 3"):
        make_vector_env(envs, num_envs=3)
    other = SyncVectorEnv([lambda: gym.make("CartPole-v1")])  # next-step autoreset by default
    with pytest.raises(ValueError, match="autoreset_mode=AutoresetMode.SAME_STEP"):
        make_vector_env(other)


def test_seed_makes_env_reproducible() -> None:
    def first_steps(seed: int) -> np.ndarray:
        envs = make_vector_env("CartPole-v1", num_envs=2, seed=seed)
        envs.reset()  # an unseeded reset continues the seeded generators
        actions = [envs.action_space.sample() for _ in range(5)]
        return np.stack([envs.step(a)[0] for a in actions])

    np.testing.assert_array_equal(first_steps(3), first_steps(3))
    assert not np.array_equal(first_steps(3), first_steps(4))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"vectorization": "threads"}, ValueError,
         r"vectorization: expected one of \['auto', 'sync', 'async', 'native', 'ray'\], got 'threads'"),
        ({"num_envs": 0}, ValueError, "num_envs: expected an int >= 1, got 0"),
        ({"num_envs": 2.0}, TypeError, "num_envs: expected an int >= 1, got float"),
        ({"num_envs": True}, TypeError, "num_envs"),
    ],
)
def test_invalid_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make_vector_env("CartPole-v1", **kwargs)


def test_unknown_id_lists_close_matches() -> None:
    with pytest.raises(ValueError, match=r"'CartPol-v1'.*close matches: \['CartPole-v1'.*pprint_registry"):
        make_vector_env("CartPol-v1")
    with pytest.raises(ValueError, match="no close matches.*gymnasium.envs.registry"):
        make_vector_env("zzzzzz-v0")


def test_instance_without_a_spec_is_copied() -> None:
    env = CartPoleEnv()  # made without gymnasium.make: no spec, but deepcopy copies it
    assert make_vector_env(env).num_envs == 1
    envs = make_vector_env(env, num_envs=2)
    assert envs.envs[1].env is not env and isinstance(envs.envs[1].env, CartPoleEnv)

    made = make_vector_env(UncopyableRecreatable(gym.make("CartPole-v1")), num_envs=2)
    assert made.envs[1].spec.id == "CartPole-v1"  # re-made from its spec

    class Uncopyable(gym.Wrapper):
        def __deepcopy__(self, memo):
            raise RuntimeError("no copies")

    with pytest.raises(ValueError, match="copy failed .*cannot be recreated"):
        make_vector_env(Uncopyable(gym.make("CartPole-v1")), num_envs=2)
    with pytest.raises(TypeError, match="env: expected a Gymnasium id"):
        make_vector_env(42)


def test_an_object_with_as_gymnasium_is_replaced_by_what_it_returns() -> None:
    class Named:
        def as_gymnasium(self) -> str:
            return "CartPole-v1"

    class Built:
        def as_gymnasium(self) -> gym.Env:
            return gym.make("Pendulum-v1")

    envs = make_vector_env(Named(), num_envs=2)
    assert [e.spec.id for e in envs.envs] == ["CartPole-v1"] * 2  # both made from the id
    envs = make_vector_env(Built(), num_envs=2)
    assert envs.envs[0].env is not envs.envs[1].env  # the returned instance, and a copy of it
    assert [e.spec.id for e in envs.envs] == ["Pendulum-v1"] * 2


def test_samplers_do_not_import_the_envs_package() -> None:
    import subprocess
    import sys

    code = "import sys, plugrl.samplers; print('plugrl.envs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # DESIGN: samplers depend only on utils
