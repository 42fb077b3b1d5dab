"""Policy-based learning with fixed seeds and budgets."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from examples_loader import load_example

import plugrl


class TrackTarget(gym.Env):
    """One-step continuous task: observe a target s in [-1, 1], act a, get -(a - s)^2."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._s = self.np_random.uniform(-1, 1, size=1).astype(np.float32)
        return self._s, {}

    def step(self, action):
        reward = -float((np.asarray(action)[0] - self._s[0]) ** 2)
        return self._s, reward, True, False, {}


@pytest.mark.parametrize("update_strategy, lr", [("vanilla", 0.05), ("ppo", 0.02)])
def test_gaussian_policy_learns_to_track_a_target(update_strategy, lr):
    """Within 3,000 steps the greedy action is within about 0.15 of the target on average."""
    env = TrackTarget()
    pi = plugrl.GaussianPolicy(plugrl.predefined.LinearFunctionApproximator(env, lr=lr, random_seed=0),
                               update_strategy=update_strategy, entropy_beta=0.0, random_seed=0)
    v = plugrl.V(plugrl.predefined.LinearFunctionApproximator(env, lr=0.05, random_seed=0))
    actor_critic = plugrl.ActorCritic(pi, v)
    for step in range(3000):
        s, _ = env.reset(seed=step)
        a = pi(s)
        _, r, terminated, truncated, _ = env.step(a)
        actor_critic.update(s, a, r, terminated, truncated=truncated)
        if step % 10 == 9:
            actor_critic.sync_target_model()
    rewards = [env.step(pi.greedy(env.reset(seed=10_000 + i)[0]))[1] for i in range(200)]
    assert np.mean(rewards) > -0.02


@pytest.mark.parametrize("example", ["frozen_lake_reinforce", "frozen_lake_actor_critic",
                                     "frozen_lake_sac"])
def test_frozen_lake_policy_methods_reach_the_goal_greedily(example):
    result = load_example(example).main(num_episodes=600, seed=0, verbose=False)
    assert result["greedy_return"] == 1.0
