"""Atari ids, make_atari, the native and Gymnasium vector envs, and rollouts of image observations."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from plugrl.samplers import RolloutSampler, make_vector_env
from plugrl.samplers.atari import ALE_SEED_LIMIT, ale_seed, atari_game, make_atari, make_atari_vector_env

ale_py = pytest.importorskip("ale_py")
pytest.importorskip("cv2")  # Gymnasium's AtariPreprocessing resizes with OpenCV

STACK = (4, 84, 84)


def _random_actions(n: int, num_envs: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 6, size=(n, num_envs))


def _zeros(S: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return np.zeros(len(S), np.int64), {}


# ---------------------------------------------------------------------------------- atari_game
@pytest.mark.parametrize(("env_id", "ale_id", "rom", "sticky"), [
    ("ALE/Pong-v5", "ALE/Pong-v5", "pong", 0.25),
    ("PongDeterministic-v4", "ALE/Pong-v5", "pong", 0.0),
    ("PongNoFrameskip-v4", "ALE/Pong-v5", "pong", 0.0),
    ("Pong-v0", "ALE/Pong-v5", "pong", 0.25),
    ("SpaceInvadersDeterministic-v4", "ALE/SpaceInvaders-v5", "space_invaders", 0.0),
    ("ALE/SpaceInvaders-v5", "ALE/SpaceInvaders-v5", "space_invaders", 0.25),
    ("MontezumaRevengeNoFrameskip-v4", "ALE/MontezumaRevenge-v5", "montezuma_revenge", 0.0),
])
def test_atari_game_parses_new_and_old_ids(env_id: str, ale_id: str, rom: str, sticky: float) -> None:
    game = atari_game(env_id)
    assert game is not None
    assert (game.env_id, game.ale_id, game.rom, game.repeat_action_probability) == (
        env_id, ale_id, rom, sticky)
    assert rom in ale_py.roms.get_all_rom_ids()


def _ale_py_ids() -> list[tuple[str, str]]:
    """Every id ale-py registers (new and old), with the ROM it plays."""
    gym.register_envs(ale_py)
    return [(env_id, spec.kwargs["game"]) for env_id, spec in gym.registry.items()
            if spec.entry_point == "ale_py.env:AtariEnv"]


def test_atari_game_knows_every_game_of_ale_py() -> None:
    """ale-py names its ids after ROMs with ``str.title``: "tic_tac_toe_3d" is "TicTacToe3D"."""
    ids = _ale_py_ids()
    assert ("ALE/TicTacToe3D-v5", "tic_tac_toe_3d") in ids and len(ids) > 300
    wrong = [(env_id, rom, atari_game(env_id)) for env_id, rom in ids
             if getattr(atari_game(env_id), "rom", None) != rom]
    assert wrong == []


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "MountainCarContinuous-v0", 3, None])
def test_atari_game_is_none_for_other_envs(env_id: Any) -> None:
    assert atari_game(env_id) is None


def test_atari_game_rejects_unknown_ale_games() -> None:
    with pytest.raises(ValueError, match=r"env: .*'ALE/NoSuchGame-v5' \(no ROM for 'NoSuchGame'"):
        atari_game("ALE/NoSuchGame-v5")
    with pytest.raises(ValueError, match="NoSuchGameDeterministic-v4"):
        atari_game("NoSuchGameDeterministic-v4")


@pytest.mark.parametrize("env_id", ["ALE/Pong-v5", "PongDeterministic-v4", "PongNoFrameskip-v4"])
def test_without_ale_py_atari_ids_name_the_extra(monkeypatch: pytest.MonkeyPatch, env_id: str) -> None:
    monkeypatch.setitem(sys.modules, "ale_py", None)  # `import ale_py` now raises ImportError
    with pytest.raises(ModuleNotFoundError, match=r"plugrl\[atari\]") as error:
        atari_game(env_id)
    assert env_id in str(error.value)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pong-v0"])
def test_without_ale_py_ambiguous_ids_are_not_atari(monkeypatch: pytest.MonkeyPatch, env_id: str) -> None:
    """``<Name>-v0`` could be any Gymnasium env: without ale-py it is not taken for a game."""
    monkeypatch.setitem(sys.modules, "ale_py", None)
    assert atari_game(env_id) is None


# ---------------------------------------------------------------------------------- make_atari
def test_make_atari_preprocessed_observations() -> None:
    env = make_atari("ALE/Pong-v5")
    assert env.observation_space.shape == STACK and env.observation_space.dtype == np.uint8
    s, _ = env.reset(seed=0)
    for a in _random_actions(5, 1)[:, 0]:
        s, *_ = env.step(int(a))
    assert s.shape == STACK and s.dtype == np.uint8 and s in env.observation_space
    assert len({frame.tobytes() for frame in s}) > 1  # four frames, not one repeated
    env.close()


def test_make_atari_raw_frames_for_keras_gym_wrappers() -> None:
    env = make_atari("ALE/Pong-v5", preprocessing=False)
    s, _ = env.reset(seed=0)
    assert s.shape == (210, 160, 3) and s.dtype == np.uint8
    assert env.unwrapped._frameskip == 4  # each action held for 4 frames, as keras-gym's
    env.close()


def _space_invaders_rewards(clip_rewards: bool) -> list[float]:
    """The nonzero rewards of 200 steps of firing and moving (aliens are worth 5 to 30)."""
    env = make_atari("ALE/SpaceInvaders-v5", preprocessing=False, clip_rewards=clip_rewards)
    env.reset(seed=0)
    rewards = [float(env.step(a)[1]) for a in [1, 4, 1, 5] * 50]
    env.close()
    return rewards


def test_clip_rewards_gives_the_sign_of_each_reward() -> None:
    raw, clipped = _space_invaders_rewards(False), _space_invaders_rewards(True)
    assert max(raw) > 1  # else the clipping would not show
    np.testing.assert_array_equal(clipped, np.sign(raw))


def test_make_atari_old_id_warns_which_id_plays_it() -> None:
    with pytest.warns(UserWarning, match=r"'PongDeterministic-v4' is played as 'ALE/Pong-v5'"):
        env = make_atari("PongDeterministic-v4")
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.0
    env.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new id does not warn
        make_atari("ALE/Pong-v5").close()


def test_make_atari_rejects_non_atari_ids() -> None:
    with pytest.raises(ValueError, match=r"env_id: expected an Atari id .* got 'CartPole-v1'"):
        make_atari("CartPole-v1")


# ---------------------------------------------------------------------------------- vector envs
def test_native_vector_env() -> None:
    envs = make_vector_env("ALE/Pong-v5", 2, seed=0)
    assert isinstance(envs, ale_py.vector_env.AtariVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert envs.frame_stack_axis == 0
    assert envs.single_observation_space.shape == STACK
    S, *_ = envs.step(np.zeros(2, np.int64))
    assert S.shape == (2, *STACK) and S.dtype == np.uint8
    envs.close()


def test_make_atari_vector_env_directly() -> None:
    envs = make_atari_vector_env("ALE/Pong-v5", 3)
    S, _ = envs.reset(seed=0)
    assert S.shape == (3, *STACK) and envs.frame_stack_axis == 0
    envs.close()


def _observations(seed: int, num_steps: int = 50) -> np.ndarray:
    envs = make_vector_env("ALE/Pong-v5", 2, seed=seed)
    S = [envs.reset()[0]]  # continues the seeded generators
    S += [envs.step(a)[0] for a in _random_actions(num_steps, 2)]
    envs.close()
    return np.stack(S)


def test_native_vector_env_is_reproducible() -> None:
    first = _observations(seed=0)
    np.testing.assert_array_equal(first, _observations(seed=0))
    assert not np.array_equal(first, _observations(seed=1))  # the seed matters


@pytest.mark.parametrize("seed", [2**31 - 1, 2**32 + 5, np.uint32(4_000_000_000), np.int64(3)])
def test_native_vector_env_takes_any_seed_as_gymnasium_does(seed: Any) -> None:
    """ale-py's reset takes 32-bit seeds only (a TypeError otherwise, which broke restoring a
    checkpoint whenever its derived seed was 2**31 or more)."""
    envs = make_atari_vector_env("ALE/Pong-v5", 2)
    S, _ = envs.reset(seed=seed)
    assert S.shape == (2, *STACK)
    wrapped = ale_seed(seed, 2)
    assert 0 <= wrapped <= ALE_SEED_LIMIT - 2
    np.testing.assert_array_equal(S, envs.reset(seed=wrapped)[0])
    envs.close()


def test_ale_seed_keeps_the_seeds_ale_py_takes() -> None:
    assert ale_seed(None, 4) is None
    assert [ale_seed(s, 4) for s in (0, 7, 2**31 - 4, 2**31 - 3)] == [0, 7, 2**31 - 4, 0]
    assert ale_seed(2**40, 1) == 2**40 % 2**31
    seeds = np.arange(3)
    assert ale_seed(seeds, 3) is seeds
    with pytest.raises(ValueError, match="seed: expected None or an int >= 0, got -1"):
        ale_seed(-1, 2)
    with pytest.raises(TypeError, match="seed: expected None or an int >= 0, got float 1.5"):
        ale_seed(1.5, 2)


def test_sync_vectorization_gives_gymnasium_envs_of_make_atari() -> None:
    envs = make_vector_env("ALE/Pong-v5", 2, vectorization="sync", seed=0)
    assert isinstance(envs, SyncVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert envs.single_observation_space.shape == STACK
    S, *_ = envs.step(np.zeros(2, np.int64))
    assert S.shape == (2, *STACK) and S.dtype == np.uint8
    envs.close()


def test_native_vectorization_needs_an_atari_id() -> None:
    with pytest.raises(ValueError, match=r"vectorization: expected 'native' only .*CartPole-v1"):
        make_vector_env("CartPole-v1", 2, vectorization="native")


# ---------------------------------------------------------------------------------- rollouts
def test_final_observation_of_the_native_env_is_patched_into_S_next() -> None:
    """ale-py gives ``info["final_obs"]`` without Gymnasium's ``_final_obs`` mask; 200 frames
    are 50 steps of 4 frames, so both episodes are truncated at step 49."""
    from ale_py.vector_env import AtariVectorEnv

    envs = AtariVectorEnv("pong", 2, autoreset_mode=AutoresetMode.SAME_STEP,
                          max_num_frames_per_episode=200, use_fire_reset=False)
    infos: list[dict[str, Any]] = []
    step = envs.step

    def recorded_step(A: np.ndarray) -> Any:
        out = step(A)
        infos.append(out[4])
        return out

    envs.step = recorded_step  # type: ignore[method-assign]
    rollout = RolloutSampler(envs, 60, seed=0).collect(_zeros)
    ended = rollout.terminated | rollout.truncated
    assert ended.any() and "_final_obs" not in infos[int(np.flatnonzero(ended.any(1))[0])]
    for t, i in zip(*np.nonzero(ended)):
        np.testing.assert_array_equal(rollout.S_next[t, i], infos[t]["final_obs"][i])
        assert not np.array_equal(rollout.S_next[t, i], rollout.S[t + 1, i])  # not the reset obs
        np.testing.assert_array_equal(rollout.S_next[t, i][:3], rollout.S[t, i][1:])  # one step on
    continuing = ~ended[:-1]
    np.testing.assert_array_equal(rollout.S_next[:-1][continuing], rollout.S[1:][continuing])
    envs.close()


def test_rollouts_keep_image_observations_as_bytes() -> None:
    sampler = RolloutSampler(make_vector_env("ALE/Pong-v5", 2, seed=0), 4, seed=0)
    rollout = sampler.collect(_zeros)
    assert rollout.S.shape == (4, 2, *STACK)
    assert rollout.S.dtype == rollout.S_next.dtype == rollout.S_last.dtype == np.uint8
    sampler.close()


def test_rollouts_of_other_observations_are_float32() -> None:
    def make() -> gym.Env:
        return gym.wrappers.DtypeObservation(gym.make("CartPole-v1"), np.float64)

    envs = make_vector_env(make, 2, seed=0)
    assert envs.single_observation_space.dtype == np.float64
    rollout = RolloutSampler(envs, 4, seed=0).collect(_zeros)
    assert rollout.S.dtype == rollout.S_next.dtype == np.float32
    envs.close()
