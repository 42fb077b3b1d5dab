"""The whole image pipeline learns a pixel task: PixelCatch's RGB frames, ImagePreprocessor
(grayscale, resized), FrameStacker and the Nature-DQN network, trained by DQN, by PPO and by the
seed's own loop (QTypeII, EpsilonGreedy, ExperienceReplayBuffer).

Uniformly random actions score about -0.6 on PixelCatch, the optimal policy +1. Each test
passes when the greedy policy's mean return over 50 episodes is at least 0.8. Budgets and
hyperparameters were tuned on 2 cores for about 15 s a test: with them seeds 0 to 5 all reached
1.0 with DQN and with PPO, seeds 0 to 2 with the seed's loop (DQN after 1,500 steps passed for
4 of the 6 seeds, PPO after 8,000 for 3 of 6).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pixel_catch import PixelCatch

import plugrl
from plugrl.predefined import AtariFunctionApproximator
from plugrl.utils import episode_return
from plugrl.wrappers import FrameStacker, ImagePreprocessor

# 44, not the network's smallest 36: at 36 to 43 pixels the last convolution gives 1 x 1 maps,
# and the input gradient of the 4 x 4, stride-2 convolution (8 x 8 to 3 x 3 maps) runs in slow
# XLA CPU code at plugrl's LLVM optimisation level 1: DQN's update on 32 observations took
# 18 ms at 36 pixels, 11 ms at 44; PPO's on 2 minibatches of 64, 130 ms and 66 ms (2 cores).
SIZE = 44
NUM_FRAMES = 2
THRESHOLD = 0.8
EVAL_EPISODES = 50


def pixel_catch() -> FrameStacker:
    """PixelCatch's (56, 42, 3) RGB frames as (44, 44, 2) uint8 stacks, frames last."""
    return FrameStacker(ImagePreprocessor(PixelCatch(), SIZE, SIZE, grayscale=True),
                        num_frames=NUM_FRAMES)


def greedy_return(act: Callable[[Any], Any], episodes: int = EVAL_EPISODES) -> float:
    """Mean return of ``act`` (observation -> action) over ``episodes`` seeded episodes of a
    fresh pipeline, seeds apart from training's."""
    env = pixel_catch()
    return float(np.mean([episode_return(env, act, seed=10_000 + i) for i in range(episodes)]))


def test_pipeline_shapes():
    env = pixel_catch()
    s, _ = env.reset(seed=0)
    assert env.observation_space.shape == s.shape == (SIZE, SIZE, NUM_FRAMES)
    assert s.dtype == np.uint8
    assert env.frame_stack_axis == 2
    frame, cell = s[..., -1], -(-SIZE // 8)  # one of the 8 rows of cells: 5.5 pixels, rounded up
    # the ball (white, 255) in the top row, the paddle (green, 182) in the bottom row
    assert frame[:cell].max() == 255 and frame[-cell:].max() == 182
    assert frame[cell:-cell].max() == 0


def dqn_return(seed: int) -> float:
    """DQN for 2,000 env steps: 200 random, then one gradient step on 32 transitions every 2
    steps (900 in all); 3-step returns; target copied every 100 steps; epsilon 1 -> 0.05 over
    the first 800 steps. Returns the greedy mean return."""
    agent = plugrl.agents.DQN(pixel_catch, seed=seed, lr=5e-4, memory_size=2000,
                              num_init_memory_steps=200, train_freq=2, batch_size=32,
                              bootstrap_n=3, target_update_intvl=100, exploration_fraction=0.4)
    assert isinstance(agent.learner.func, AtariFunctionApproximator)  # the default for images
    assert agent.frame_stack_axis == 2  # the buffer stores each 44 x 44 frame once
    agent.fit(2000)
    assert agent.buffer.state(copy=False)[0]["S"].shape[1:] == (SIZE, SIZE)
    return greedy_return(agent.policy.greedy)


def ppo_return(seed: int) -> float:
    """PPO for 10,000 env steps: 16 envs x 8 steps per rollout, 2 epochs of minibatches of 64
    (4 gradient steps per rollout, 312 in all), actor and critic sharing the network. Returns
    the greedy mean return."""
    agent = plugrl.agents.PPO(pixel_catch, seed=seed, num_envs=16, n_steps=8, batch_size=64,
                              num_epoch=2, lr=1e-3, entropy_coeff=0.01)
    func = agent.learner.policy.function_approximator
    assert isinstance(func, AtariFunctionApproximator)
    assert agent.learner.v_func.function_approximator is func
    agent.fit(10_000)
    return greedy_return(agent.policy.greedy)


def seed_loop_return(seed: int) -> float:
    """keras-gym's Atari DQN loop, at :func:`dqn_return`'s budget and settings: QTypeII on the
    Nature-DQN network, EpsilonGreedy and an ExperienceReplayBuffer storing frames once.
    Returns the greedy mean return."""
    env = pixel_catch()
    func = AtariFunctionApproximator(env, lr=5e-4, random_seed=seed)
    q = plugrl.QTypeII(func, gamma=0.99, bootstrap_n=3, bootstrap_with_target_model=True,
                       update_strategy="q_learning")
    # The constructor rather than from_value_function(q, 2000, 32), which takes no random_seed
    buffer = plugrl.caching.ExperienceReplayBuffer(env, capacity=2000, batch_size=32,
                                                   bootstrap_n=q.bootstrap_n, gamma=q.gamma,
                                                   random_seed=seed)
    assert buffer.frame_stack_axis == 2
    pi = plugrl.EpsilonGreedy(q, epsilon=1.0, random_seed=seed)
    s, _ = env.reset(seed=seed)
    for step in range(1, 2001):
        pi.set_epsilon(max(0.05, 1.0 - 0.95 * step / 800))
        a = pi(s)
        s_next, r, terminated, truncated, _ = env.step(a)
        buffer.add(s, a, r, terminated, truncated=truncated, s_next=s_next)
        if step > 200 and step % 2 == 0:
            q.batch_update(*buffer.sample())
        if step % 100 == 0:
            q.sync_target_model(tau=1.0)
        s = env.reset()[0] if terminated or truncated else s_next
    return greedy_return(pi.greedy)


@pytest.mark.parametrize("method, train", [("DQN", dqn_return), ("PPO", ppo_return),
                                           ("QTypeII loop", seed_loop_return)])
def test_learns_pixel_catch(method, train):
    G = train(seed=0)
    assert G >= THRESHOLD, (f"{method}: greedy mean return {G:.2f} over {EVAL_EPISODES} "
                            f"episodes, expected >= {THRESHOLD} (random: about -0.6)")
