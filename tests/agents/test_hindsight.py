"""DeepChem's use_hindsight for the on-policy agents: rollouts relabelled segment by segment
against a per-step reference, shortened segments, episode ends of relabelled data, the update's
batch, exact resume, and the errors where it does not apply."""

import keras
import numpy as np
import pytest

import plugrl
from plugrl.agents import A2C, PPO
from plugrl.agents.on_policy.hindsight import with_relabelled
from plugrl.envs import BitFlippingEnv

TINY = dict(num_envs=2, n_steps=12, batch_size=8, num_epoch=2, hidden_sizes=(16,), gamma=0.9)


def agent_and_rollout(n_bits=3, max_episode_steps=None, **config):
    env = BitFlippingEnv(n_bits=n_bits, max_episode_steps=max_episode_steps, flat=True)
    agent = PPO(env, seed=0, use_hindsight=True, **{**TINY, **config})
    rollout = agent.sampler.collect(agent._act)
    return agent, rollout


def log_softmax(Z):
    Z = Z - Z.max(axis=-1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=-1, keepdims=True))


def test_relabelling_matches_a_per_segment_reference():
    agent, rollout = agent_and_rollout()
    env = BitFlippingEnv(n_bits=3, flat=True)
    relabelled, live = agent.hindsight.relabel(rollout, agent._normalize)
    T, N = rollout.R.shape
    ends = rollout.terminated | rollout.truncated
    for i in range(N):
        t0 = 0
        for t in range(T):
            if not (ends[t, i] or t == T - 1):
                continue
            states, rewards = env.apply_hindsight(rollout.S[t0:t + 1, i], rollout.A[t0:t + 1, i],
                                                  rollout.S_next[t, i])
            k = len(rewards)
            np.testing.assert_array_equal(relabelled.S[t0:t0 + k, i], states)
            np.testing.assert_array_equal(relabelled.R[t0:t0 + k, i], rewards)
            assert rewards[-1] == 0.0 and (rewards[:-1] == -1.0).all()  # it reaches its goal last
            # the relabelled segment terminates at its last step and nowhere else
            np.testing.assert_array_equal(relabelled.terminated[t0:t0 + k, i], np.arange(k) == k - 1)
            np.testing.assert_array_equal(relabelled.S_next[t0:t0 + k - 1, i], states[1:])
            np.testing.assert_array_equal(live[t0:t + 1, i], np.arange(t + 1 - t0) < k)
            t0 = t + 1
    assert not relabelled.truncated.any()
    # policy info under the new goals, from the learner's forward pass
    S = relabelled.S.reshape(T * N, -1)
    A = relabelled.info["A"].reshape(-1)
    logP = log_softmax(agent.learner.policy_params(S))[np.arange(T * N), A]
    np.testing.assert_allclose(relabelled.info["logP"].reshape(-1), logP, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(relabelled.info["V"].reshape(-1), agent.learner.values(S), rtol=1e-6)


class Shorter(BitFlippingEnv):
    """Relabelled rollouts end halfway (as if the new goal were reached there)."""

    def apply_hindsight(self, states, actions, goal):
        new_states, rewards = super().apply_hindsight(states, actions, goal)
        k = (len(rewards) + 1) // 2
        return new_states[:k], np.append(rewards[:k - 1], 0.0)


def test_segments_that_reach_the_new_goal_sooner_are_shortened():
    agent = PPO(Shorter(n_bits=3, flat=True), seed=0, use_hindsight=True, **TINY)
    rollout = agent.sampler.collect(agent._act)
    relabelled, live = agent.hindsight.relabel(rollout, agent._normalize)
    assert live.sum() < live.size
    T, N = rollout.R.shape
    ends = rollout.terminated | rollout.truncated
    for i in range(N):
        starts = [0, *(np.flatnonzero(ends[:-1, i]) + 1)]
        for t0, t1 in zip(starts, [*starts[1:], T]):
            k = (t1 - t0 + 1) // 2
            np.testing.assert_array_equal(live[t0:t1, i], np.arange(t1 - t0) < k)
            np.testing.assert_array_equal(relabelled.terminated[t0:t0 + k, i], np.arange(k) == k - 1)
            assert relabelled.R[t0 + k - 1, i] == 0.0
    agent.fit(48)  # and it trains on them


def test_the_update_batch_holds_the_rollout_then_as_many_relabelled_samples():
    batch = {"S": np.arange(6.0)[:, None], "R": np.arange(6.0)}
    relabelled = {"S": -np.arange(6.0)[:, None], "R": -np.arange(6.0)}
    live = np.array([True, False, True, True, False, False])
    out = with_relabelled(batch, relabelled, live, np.random.default_rng(0))
    np.testing.assert_array_equal(out["R"][:6], np.arange(6.0))
    np.testing.assert_array_equal(out["R"][6:9], [0.0, -2.0, -3.0])  # each live one once, first
    assert set(out["R"][9:]) <= {0.0, -2.0, -3.0} and len(out["R"]) == 12


@pytest.mark.parametrize("agent_class", [PPO, A2C])
def test_fit_with_hindsight_twice_equals_fit_of_the_sum(agent_class):
    def run(*steps):
        agent = agent_class(BitFlippingEnv(n_bits=3, flat=True), seed=2, use_hindsight=True, **TINY)
        for n in steps:
            agent.fit(n)
        return agent

    a, b = run(48, 48), run(96)
    for x, y in zip(keras.tree.flatten(a.learner.state), keras.tree.flatten(b.learner.state), strict=True):
        np.testing.assert_array_equal(x, y)
    plain = agent_class(BitFlippingEnv(n_bits=3, flat=True), seed=2, **TINY).fit(96)
    assert not np.array_equal(keras.tree.flatten(plain.learner.state.params)[0],
                              keras.tree.flatten(a.learner.state.params)[0])  # the relabelled data counts


def test_a_deepchem_environment_with_apply_hindsight():
    class Walk(plugrl.envs.Environment):
        """DeepChem's test environment: move on a line to a goal; the state is [position, goal]."""

        def __init__(self):
            super().__init__((2,), 2)

        def reset(self):
            self._state = np.array([0.0, 3.0], np.float32)
            self._terminated = False

        def step(self, action):
            self._state = self._state + np.array([2 * action - 1, 0], np.float32)
            self._terminated = bool(self._state[0] == self._state[1])
            return 1.0 if self._terminated else 0.0

        def apply_hindsight(self, states, actions, goal):
            new_states = [np.array([s[0], goal[0]], np.float32) for s in states]
            rewards = [float(s[0] + 2 * a - 1 == goal[0]) for s, a in zip(new_states, actions)]
            end = rewards.index(1.0) + 1 if 1.0 in rewards else len(rewards)
            return new_states[:end], rewards[:end]

    env = Walk()
    agent = A2C(env, seed=0, use_hindsight=True, num_envs=1, n_steps=8, hidden_sizes=(8,))
    assert agent.hindsight.apply_hindsight.__self__ is env  # the DeepChem env's own method
    relabelled, live = agent.hindsight.relabel(agent.sampler.collect(agent._act), agent._normalize)
    assert relabelled.R[live].sum() >= 1 and relabelled.terminated[live].sum() == relabelled.R[live].sum()
    agent.fit(32)


def test_errors_name_use_hindsight():
    with pytest.raises(ValueError, match="use_hindsight: expected an env with DeepChem's apply_hindsight"):
        PPO("CartPole-v1", use_hindsight=True)
    with pytest.raises(ValueError, match="use_hindsight: expected an agent on a Gymnasium env"):
        PPO(plugrl.envs.jax.make("CartPole-v1"), use_hindsight=True)

    class Longer(BitFlippingEnv):
        def apply_hindsight(self, states, actions, goal):
            new_states, rewards = super().apply_hindsight(states, actions, goal)
            return np.concatenate([new_states, new_states]), np.concatenate([rewards, rewards])

    agent = PPO(Longer(n_bits=3, flat=True), seed=0, use_hindsight=True, **TINY)
    with pytest.raises(ValueError, match="use_hindsight: expected env.apply_hindsight to return 1 to"):
        agent.fit(24)
