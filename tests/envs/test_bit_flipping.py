"""BitFlippingEnv: Gymnasium's checker, both goal conventions, rewards and episode ends, and
DeepChem's apply_hindsight (relabelling and shortening)."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import plugrl  # noqa: F401  (registers BitFlipping-v0)
from plugrl.envs import BitFlippingEnv


@pytest.mark.parametrize("flat", [False, True])
def test_passes_gymnasiums_checker(flat):
    check_env(BitFlippingEnv(n_bits=5, flat=flat), skip_render_check=True)


def test_registered_with_its_arguments():
    env = gym.make("BitFlipping-v0", n_bits=3)
    assert env.observation_space["desired_goal"].n == 3 and env.action_space.n == 3


def test_same_seed_same_episodes():
    a, b = BitFlippingEnv(n_bits=12), BitFlippingEnv(n_bits=12)
    for seed in (0, 1):
        oa, ob = a.reset(seed=seed)[0], b.reset(seed=seed)[0]
        assert all(np.array_equal(oa[k], ob[k]) for k in oa)
    assert not np.array_equal(a.reset(seed=0)[0]["desired_goal"], a.reset(seed=1)[0]["desired_goal"])


def test_flipping_to_the_goal_terminates_with_reward_0_and_else_minus_1():
    env = BitFlippingEnv(n_bits=6)
    obs, _ = env.reset(seed=3)
    wrong = np.flatnonzero(obs["achieved_goal"] != obs["desired_goal"])
    assert wrong.size > 1
    for i, bit in enumerate(wrong):
        obs, r, terminated, truncated, info = env.step(int(bit))
        last = i == wrong.size - 1
        assert (r, terminated, truncated, info["is_success"]) == ((0.0, True, False, True) if last
                                                                  else (-1.0, False, False, False))
    assert np.array_equal(obs["achieved_goal"], obs["desired_goal"])


def test_truncated_after_max_episode_steps_by_default_n_bits():
    env = BitFlippingEnv(n_bits=4)
    obs, _ = env.reset(seed=0)
    bit = int(np.flatnonzero(obs["achieved_goal"] == obs["desired_goal"])[0])
    ends = [env.step(bit)[2:4] for _ in range(4)]  # flip one right bit back and forth
    assert ends == [(False, False)] * 3 + [(False, True)]
    assert BitFlippingEnv(n_bits=4, max_episode_steps=9).max_episode_steps == 9


def test_compute_reward_is_vectorised_as_her_buffers_call_it():
    env = BitFlippingEnv(n_bits=3)
    achieved = np.array([[0, 1, 1], [1, 1, 1], [0, 0, 0]], np.int8)
    desired = np.array([[0, 1, 1], [1, 0, 1], [0, 0, 0]], np.int8)
    np.testing.assert_array_equal(env.compute_reward(achieved, desired, [{}] * 3), [0.0, -1.0, 0.0])
    np.testing.assert_array_equal(env.compute_terminated(achieved, desired, None), [True, False, True])
    assert env.compute_reward(achieved[0], desired[1], {}).shape == ()
    with pytest.raises(ValueError, match=r"achieved_goal, desired_goal: expected shapes \[..., 3\]"):
        env.compute_reward(np.zeros((2, 4)), np.zeros((2, 4)))


def test_flat_state_is_bits_then_goal():
    env = BitFlippingEnv(n_bits=4, flat=True)
    s, _ = env.reset(seed=2)
    assert s.shape == (8,) and np.array_equal(s[:4], env.state) and np.array_equal(s[4:], env.goal)


def test_apply_hindsight_relabels_and_stops_where_the_new_goal_is_first_reached():
    env = BitFlippingEnv(n_bits=3, flat=True)
    goal0 = [1, 1, 1]
    states = np.array([[0, 0, 0, *goal0], [1, 0, 0, *goal0], [1, 1, 0, *goal0], [1, 0, 0, *goal0]])
    actions = [0, 1, 1, 2]
    # the final state [1, 0, 1]; [1, 0, 0] -> flip 2 reaches it only at the last step
    new_states, rewards = env.apply_hindsight(states, actions, [1, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(new_states[:, 3:], [[1, 0, 1]] * 4)
    np.testing.assert_array_equal(new_states[:, :3], states[:, :3])
    np.testing.assert_array_equal(rewards, [-1, -1, -1, 0])
    # the goal [1, 1, 0] is reached after the second step: the relabelled rollout is shorter
    new_states, rewards = env.apply_hindsight(states, actions, [1, 1, 0, 9, 9, 9])
    assert len(new_states) == 2
    np.testing.assert_array_equal(rewards, [-1, 0])
    np.testing.assert_array_equal(new_states[:, 3:], [[1, 1, 0]] * 2)


def test_apply_hindsight_on_the_dict_envs_flattened_states():
    env = BitFlippingEnv(n_bits=3)
    obs, _ = env.reset(seed=0)
    s = gym.spaces.flatten(env.observation_space, obs)
    achieved, desired = env.goal_slices()
    np.testing.assert_array_equal(s[achieved], obs["achieved_goal"])
    np.testing.assert_array_equal(s[desired], obs["desired_goal"])
    new_states, rewards = env.apply_hindsight(s[None], [0], s)
    np.testing.assert_array_equal(new_states[0, desired], obs["achieved_goal"])
    assert rewards.tolist() == [-1.0]  # flipping bit 0 leaves the start, which is the new goal


def test_renders_text_and_images():
    env = BitFlippingEnv(n_bits=3, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (48, 48, 3) and frame.dtype == np.uint8
    np.testing.assert_array_equal(frame[0, ::16, 0] == 40, env.state == 1)
    text = BitFlippingEnv(n_bits=3, render_mode="ansi")
    text.reset(seed=0)
    assert text.render() == f"bits {''.join(map(str, text.state))}  goal {''.join(map(str, text.goal))}"


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_bits: expected"):
        BitFlippingEnv(n_bits=0)
    env = BitFlippingEnv(n_bits=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action: expected an int in \[0, 3\), got 3"):
        env.step(3)
