"""What the Pong examples share: keras-gym's Pong pipeline, GIFs of the policy, a summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import plugrl
from plugrl.samplers.atari import make_atari

#: keras-gym's id: no sticky actions, every action held for 4 frames.
ENV_ID = "PongDeterministic-v4"


def make_env(render_mode: str | None = None, max_episode_steps: int | None = None) -> gym.Env:
    """keras-gym's Pong: raw 210 x 160 RGB frames become 105 x 80 grayscale, 3 stacked (last axis).

    ``make_atari(..., preprocessing=False)`` is keras-gym's ``gym.make('PongDeterministic-v4')``
    (Gymnasium no longer registers that id); observations are uint8 of shape (105, 80, 3).
    Episodes are truncated after ``max_episode_steps`` steps (default: ALE's own limit, 108k
    frames, i.e. 27k steps).
    """
    env = make_atari(ENV_ID, preprocessing=False, render_mode=render_mode)
    env = plugrl.wrappers.ImagePreprocessor(env, height=105, width=80, grayscale=True)
    env = plugrl.wrappers.FrameStacker(env, num_frames=3)
    if max_episode_steps is not None:
        env = gym.wrappers.TimeLimit(env, max_episode_steps)
    return env


class GifRecorder:
    """Records one episode of a policy as a GIF every ``every`` episodes.

    The episode is played on an env of its own (``render_mode='rgb_array'``), so the training
    env's episode and its ``TrainMonitor`` counters are left alone (keras-gym played it on the
    training env). ``every=0`` records nothing.
    """

    def __init__(self, gif_dir: str | Path, every: int, max_steps: int | None = None,
                 seed: int = 0) -> None:
        self.gif_dir, self.every, self.max_steps = Path(gif_dir), every, max_steps
        self.paths: list[str] = []
        self._env = make_env(render_mode="rgb_array") if every else None
        self._seed = seed

    def maybe_record(self, ep: int, policy: Any) -> None:
        """Record an episode of ``policy`` if episode ``ep`` is one of every ``every``-th."""
        if self._env is None or ep % self.every:
            return
        self._env.reset(seed=self._seed + ep)
        self.paths.append(plugrl.utils.generate_gif(
            self._env, policy, self.gif_dir / f"ep{ep:06d}.gif", resize_to=(320, 420),
            max_steps=self.max_steps))


class Summary:
    """Collects the returns that ``TrainMonitor`` sees and the wall time, and reports them."""

    def __init__(self, env: plugrl.wrappers.TrainMonitor) -> None:
        self.env, self.returns = env, []
        self._start = time.perf_counter()

    def episode_done(self) -> None:
        """Record the return of the episode that just ended."""
        self.returns.append(self.env.G)

    def result(self, verbose: bool, **extra: Any) -> dict:
        """Print the outcome; return ``{'returns', 'steps', 'episodes', 'avg_return_last_20',
        'steps_per_second', **extra}``."""
        steps, seconds = self.env.T, time.perf_counter() - self._start
        last_20 = float(np.mean(self.returns[-20:])) if self.returns else float("nan")
        result = {"returns": self.returns, "steps": steps, "episodes": len(self.returns),
                  "avg_return_last_20": last_20, "steps_per_second": steps / seconds, **extra}
        if verbose:
            print(f"{steps} steps, {len(self.returns)} episodes in {seconds:.0f} s "
                  f"({result['steps_per_second']:.1f} steps/s); average return of the last 20 "
                  f"episodes: {last_20:.1f}")
        return result
