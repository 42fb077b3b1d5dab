"""Restore environments exactly by replaying the current episodes.

Gymnasium environments cannot be serialised in general, but they are deterministic given their
random generator. Each sub-environment records how its current episode began (the reset seed,
or its generator's state just before an unseeded reset) and the actions taken since; replaying
them on a fresh environment rebuilds the same state, time-limit counter included. Checkpoints
store these logs (arrays and JSON, no pickle), so that training resumes exactly.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv, VectorEnv

__all__ = ["EpisodeRecorder", "episode_logs", "replay_episodes", "replays_episodes"]


class EpisodeRecorder(gym.Wrapper):
    """Record the start and the actions of the current episode (see the module docstring)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._start: dict[str, Any] = {"seed": None, "rng": None}
        self._actions: list[np.ndarray] = []
        self.replay_log: dict[str, Any] | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        rng = None if seed is not None else copy.deepcopy(self.unwrapped.np_random)
        self._start = {"seed": seed, "rng": rng}
        self._actions = []
        return super().reset(seed=seed, options=options)

    def step(self, action: Any) -> Any:
        self._actions.append(np.array(action, copy=True))
        return super().step(action)

    def episode_log(self) -> dict[str, Any]:
        """``{"seed": int | None, "rng": Generator | None, "actions": ndarray [k, ...]}``."""
        actions = np.stack(self._actions) if self._actions else np.zeros((0,), np.float32)
        return {**self._start, "actions": actions}

    def replay(self) -> np.ndarray:
        """Rebuild the episode stored in ``replay_log``; return the current observation."""
        log, self.replay_log = self.replay_log, None
        if log is None:
            raise RuntimeError("replay: expected a replay_log set on the env, got None")
        if log["seed"] is None:
            self.unwrapped.np_random = copy.deepcopy(log["rng"])
        obs, _ = self.reset(seed=log["seed"])
        for action in log["actions"]:
            obs, *_ = self.step(action)
        return obs


def replays_episodes(vector_env: VectorEnv) -> bool:
    """Whether the sub-environments of ``vector_env`` record their episodes (those of
    ``make_vector_env``, but for a native vector implementation such as ale-py's; a vector env
    of another class says so with ``records_episodes = True``, as the Ray one does)."""
    return (isinstance(vector_env, (SyncVectorEnv, AsyncVectorEnv))
            or bool(getattr(vector_env, "records_episodes", False)))


def episode_logs(vector_env: VectorEnv) -> list[dict[str, Any]]:
    """The episode logs of every sub-environment of a vector env made by ``make_vector_env``."""
    return list(_recorded(vector_env).call("episode_log"))


def replay_episodes(vector_env: VectorEnv, logs: list[dict[str, Any]]) -> np.ndarray:
    """Replay ``logs`` (one per sub-environment); return the observations [N, *obs_shape]."""
    if len(logs) != vector_env.num_envs:
        raise ValueError(f"logs: expected {vector_env.num_envs} episode logs, got {len(logs)}")
    recorded = _recorded(vector_env)
    recorded.set_attr("replay_log", list(logs))
    return np.stack([np.asarray(obs, np.float32) for obs in recorded.call("replay")])


def _recorded(vector_env: VectorEnv) -> Any:
    """``vector_env`` as a vector env whose sub-environments can be called by name."""
    if not replays_episodes(vector_env):
        raise TypeError(
            "vector_env: expected the SyncVectorEnv or AsyncVectorEnv of make_vector_env, whose "
            f"sub-environments record their episodes, got {type(vector_env).__name__}"
        )
    return vector_env
