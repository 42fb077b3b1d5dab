"""HerReplayBuffer: relabelling against a slow per-transition reference for each strategy,
episode bookkeeping (only ended episodes, ring overwrites), episode ends of relabelled data,
Dict and flat adds, and checkpoints."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from plugrl.caching import HerReplayBuffer
from plugrl.caching.her import goal_layout
from plugrl.envs import BitFlippingEnv

GAMMA = 0.9


class GoalEnv(gym.Env):
    """Observation [episode, t]; the achieved goal after step t of episode k is 100 k + t + 1,
    unique, so that every goal names the step it came from."""

    def __init__(self, terminates=True):
        self.observation_space = spaces.Dict({
            "observation": spaces.Box(-1e6, 1e6, (2,)), "achieved_goal": spaces.Box(-1e6, 1e6, (1,)),
            "desired_goal": spaces.Box(-1e6, 1e6, (1,))})
        self.action_space = spaces.Discrete(3)
        if not terminates:
            self.compute_terminated = None

    def compute_reward(self, achieved_goal, desired_goal, info):
        return -(np.abs(achieved_goal - desired_goal).sum(-1) > 0).astype(np.float32)

    def compute_terminated(self, achieved_goal, desired_goal, info):
        return np.all(achieved_goal == desired_goal, axis=-1)


def obs(k, t):
    """The flat observation (achieved, desired, observation) before step t of episode k."""
    return np.array([100 * k + t, -1.0, k, t], np.float32)


def fill(buffer, episodes, env_index=0):
    """Add episodes given as (k, length, end) with end 'terminated', 'truncated' or 'open'."""
    for k, length, end in episodes:
        for t in range(length):
            last = t == length - 1
            buffer.add(obs(k, t), (k + t) % 3, -1.0, last and end == "terminated",
                       truncated=last and end == "truncated", s_next=obs(k, t + 1), env_index=env_index)


EPISODES = {0: [(1, 5, "terminated"), (2, 3, "truncated"), (3, 4, "open")],
            1: [(4, 2, "truncated"), (5, 6, "terminated"), (6, 1, "terminated")]}


def reference_batch(env, episodes, seed_state, batch_size, num_batches, k, strategy):
    """Per transition, from the episode lists: the same uniform draws, no ring arithmetic."""
    rng = np.random.default_rng()
    rng.bit_generator.state = seed_state
    steps = [(e, k_, t, length, end) for e in sorted(episodes) for k_, length, end in episodes[e]
             if end != "open" for t in range(length)]  # storage order: env, then slot
    n = batch_size * num_batches
    picks = [steps[i] for i in rng.integers(len(steps), size=n)]
    u = rng.random(n)
    rows = []
    for i, (_, ep, t, length, end) in enumerate(picks):
        s, s_next = obs(ep, t), obs(ep, t + 1)
        terminated = end == "terminated" and t == length - 1
        r = -1.0
        if i % batch_size < int((1 - 1 / (k + 1)) * batch_size):
            j = {"future": t + int(np.floor(u[i] * (length - t))), "final": length - 1,
                 "episode": int(np.floor(u[i] * length))}[strategy]
            goal = obs(ep, j + 1)[0]
            s[1] = s_next[1] = goal
            r = float(env.compute_reward(s_next[:1], s_next[1:2], {}))
            if env.compute_terminated is not None:
                terminated = bool(env.compute_terminated(s_next[:1], s_next[1:2], {}))
        rows.append((s, (ep + t) % 3, r, 0.0 if terminated else GAMMA, s_next))
    S, A, R, In, S_next = (np.array(column) for column in zip(*rows))
    return S, A, R.astype(np.float32), In.astype(np.float32), S_next


@pytest.mark.parametrize("terminates", [True, False], ids=["compute_terminated", "stored_flag"])
@pytest.mark.parametrize("strategy", ["future", "final", "episode"])
def test_relabelling_matches_a_per_transition_reference(strategy, terminates):
    env = GoalEnv(terminates)
    buffer = HerReplayBuffer(env, 100, batch_size=16, gamma=GAMMA, random_seed=3, n_sampled_goal=3,
                             goal_selection_strategy=strategy, num_envs=2)
    for e, episodes in EPISODES.items():
        fill(buffer, episodes, env_index=e)
    state = buffer.state()[1]["rng"]
    S, A, Rn, In, S_next, A_next = (x.reshape(64, *x.shape[2:]) for x in buffer.sample(num_batches=4))
    ref = reference_batch(env, EPISODES, state, 16, 4, 3, strategy)
    for got, want in zip((S, A, Rn, In, S_next), ref):
        np.testing.assert_array_equal(got, want)
    assert (A_next == -1).all()
    real = np.arange(64) % 16 >= 12  # 3 of 4 relabelled; some reach their goal
    assert (Rn[real] == -1).all() and (Rn[~real] == 0).any()


def test_only_ended_episodes_are_sampled_and_sampling_needs_a_batch_of_them():
    buffer = HerReplayBuffer(GoalEnv(), 100, batch_size=4, random_seed=0)
    fill(buffer, [(1, 3, "open")])
    assert (len(buffer), buffer.num_valid) == (3, 0)
    with pytest.raises(ValueError, match="batch_size: expected at most the number of sampleable"):
        buffer.sample()
    buffer.end_episode()  # the open episode is abandoned: never sampleable
    fill(buffer, [(2, 4, "truncated")])
    assert buffer.num_valid == 4
    S = buffer.sample(num_batches=50)[0]
    assert S.shape == (50, 4, 4) and set(S[..., 2].ravel()) == {2.0}


def test_the_ring_drops_the_oldest_episode_whole_and_wraps_episodes():
    buffer = HerReplayBuffer(GoalEnv(), 10, batch_size=2, random_seed=0, goal_selection_strategy="episode")
    fill(buffer, [(1, 4, "terminated"), (2, 4, "terminated")])
    assert buffer.num_valid == 8
    fill(buffer, [(3, 4, "truncated")])  # slots 8, 9, 0, 1: episode 1 goes entirely
    assert buffer.num_valid == 8
    S, _, _, _, S_next = buffer.sample(num_batches=200)[:5]
    episode, goal = S[..., 2].ravel(), S[..., 1].ravel()
    assert set(episode) == {2.0, 3.0}
    relabelled = goal != -1
    assert (goal[relabelled] // 100 == episode[relabelled]).all()  # goals from the same episode
    assert set(goal[relabelled & (episode == 3)]) == {301, 302, 303, 304}


def test_an_episode_longer_than_the_buffer_is_an_error():
    buffer = HerReplayBuffer(GoalEnv(), 3, batch_size=1)
    with pytest.raises(ValueError, match="capacity: expected room for a whole episode"):
        fill(buffer, [(1, 4, "truncated")])


def test_relabelled_goal_reached_terminates_and_truncation_bootstraps():
    env = GoalEnv()
    buffer = HerReplayBuffer(env, 50, batch_size=2, gamma=GAMMA, random_seed=1,
                             goal_selection_strategy="final", n_sampled_goal=1)
    fill(buffer, [(1, 3, "truncated")])
    S, _, Rn, In, S_next, _ = (x.reshape(1000, -1).squeeze(1) if x.ndim == 2 else x.reshape(1000, -1)
                               for x in buffer.sample(num_batches=500))
    relabelled = np.arange(1000) % 2 == 0
    last = S[:, 3] == 2
    # relabelled with the final goal: the last step reaches it, terminates, earns 0
    assert (Rn[relabelled & last] == 0).all() and (In[relabelled & last] == 0).all()
    assert (Rn[relabelled & ~last] == -1).all() and (In[relabelled & ~last] == GAMMA).all()
    # real: truncated, so the last step bootstraps from its final observation
    assert (In[~relabelled] == GAMMA).all() and (S_next[~relabelled & last, 3] == 3).all()


def test_dict_observations_are_stored_flattened():
    env = BitFlippingEnv(n_bits=4)
    a = HerReplayBuffer(env, 20, batch_size=1, random_seed=0)
    b = HerReplayBuffer(gym.wrappers.FlattenObservation(env), 20, batch_size=1, random_seed=0)
    o, _ = env.reset(seed=0)
    for t in range(4):  # 4 steps flipping bits 0-3 do not reach this seed's goal
        o_next, r, terminated, truncated, _ = env.step(t)
        a.add(o, t, r, terminated, truncated=truncated, s_next=o_next)
        flat = gym.spaces.flatten(env.observation_space, o)
        b.add(flat, t, r, terminated=terminated, truncated=truncated,
              s_next=gym.spaces.flatten(env.observation_space, o_next))
        o = o_next
    assert truncated and a.num_valid == 4
    for x, y in zip(a.sample(num_batches=8), b.sample(num_batches=8)):
        np.testing.assert_array_equal(x, y)
    layout = goal_layout(env.observation_space)
    assert (layout.achieved, layout.desired) == (slice(0, 4), slice(4, 8))


def test_extend_adds_one_step_of_each_env():
    one = HerReplayBuffer(GoalEnv(), 40, batch_size=4, random_seed=0, num_envs=2)
    two = HerReplayBuffer(GoalEnv(), 40, batch_size=4, random_seed=0, num_envs=2)
    for t in range(3):
        S = np.stack([obs(1, t), obs(2, t)])
        S_next = np.stack([obs(1, t + 1), obs(2, t + 1)])
        ends = np.array([t == 2, False])
        one.extend(S, [0, 1], [-1.0, -1.0], ends, [False, t == 2], S_next)
        for e in range(2):
            two.add(S[e], e, -1.0, bool(ends[e]), truncated=e == 1 and t == 2, s_next=S_next[e], env_index=e)
    assert one.num_valid == 6
    for x, y in zip(one.sample(num_batches=5), two.sample(num_batches=5)):
        np.testing.assert_array_equal(x, y)


def test_state_round_trip_samples_the_same_batches():
    buffer = HerReplayBuffer(GoalEnv(), 30, batch_size=16, random_seed=5, num_envs=2)
    for e, episodes in EPISODES.items():
        fill(buffer, episodes, env_index=e)
    arrays, meta = buffer.state()
    other = HerReplayBuffer(GoalEnv(), 30, batch_size=16, random_seed=99, num_envs=2)
    other.load_state(arrays, meta)
    for x, y in zip(buffer.sample(), other.sample()):
        np.testing.assert_array_equal(x, y)
    fill(buffer, [(7, 2, "terminated")], env_index=1)
    fill(other, [(7, 2, "terminated")], env_index=1)  # the open episode carried on too
    assert buffer.num_valid == other.num_valid == 19
    wrong = HerReplayBuffer(GoalEnv(), 30, batch_size=16, num_envs=2, goal_selection_strategy="final")
    with pytest.raises(ValueError, match="meta\\['config'\\]\\['goal_selection_strategy'\\]"):
        wrong.load_state(arrays, meta)


def test_rejects_envs_and_arguments_that_do_not_fit():
    with pytest.raises(TypeError, match="env.observation_space: expected a Dict with the keys"):
        HerReplayBuffer(gym.make("CartPole-v1"), 10)
    with pytest.raises(ValueError, match="goal_selection_strategy: expected one of"):
        HerReplayBuffer(GoalEnv(), 10, goal_selection_strategy="futur")
    with pytest.raises(ValueError, match="s_next: expected the next observation"):
        HerReplayBuffer(GoalEnv(), 10).add(obs(0, 0), 0, -1.0, False)
