"""Hindsight Experience Replay in the off-policy agents (DQN, SAC), in Stable-Baselines3's terms.

``DQN(env, replay_buffer_class="her", replay_buffer_kwargs=dict(n_sampled_goal=4,
goal_selection_strategy="future"))`` (SB3's names; ``replay_buffer_class=HerReplayBuffer`` and
the flat ``n_sampled_goal=...``, ``goal_selection_strategy=...`` work too) stores the
goal-conditioned env's episodes in a :class:`~plugrl.caching.HerReplayBuffer`. The networks see
the flattened ``Dict`` observation (``achieved_goal ++ desired_goal ++ observation``, as SB3's
``MultiInputPolicy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
from gymnasium.vector import SyncVectorEnv, VectorEnv

from plugrl.agents.off_policy_config import OffPolicyConfig
from plugrl.caching import HerReplayBuffer
from plugrl.samplers import make_env_like

__all__ = ["her_buffer", "sb3_buffer_options", "structured_observation_space"]

_SB3_BUFFER_KWARGS = ("n_sampled_goal", "goal_selection_strategy")


def sb3_buffer_options(config: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters with SB3's ``replay_buffer_class`` (the class becomes ``"her"``) and
    ``replay_buffer_kwargs`` (its entries become fields) in plugrl's form."""
    config = dict(config)
    if config.get("replay_buffer_class") is HerReplayBuffer:
        config["replay_buffer_class"] = "her"
    kwargs = config.pop("replay_buffer_kwargs", None) or {}
    if not isinstance(kwargs, Mapping) or set(kwargs) - set(_SB3_BUFFER_KWARGS):
        raise ValueError(f"replay_buffer_kwargs: expected a dict with some of {list(_SB3_BUFFER_KWARGS)}, "
                         f"got {kwargs!r}")
    both = set(kwargs) & set(config)
    if both:
        raise TypeError(f"replay_buffer_kwargs: {sorted(both)} given twice (also as keywords)")
    return {**config, **kwargs}


def her_buffer(envs: VectorEnv, env_argument: Any, config: OffPolicyConfig, seed: int) -> HerReplayBuffer:
    """The agent's HER buffer: ``memory_size`` transitions over ``num_envs`` envs, rewards from
    the goal-conditioned env's ``compute_reward``."""
    return HerReplayBuffer(_goal_env(envs, env_argument), config.memory_size, config.batch_size,
                           config.gamma, seed, n_sampled_goal=config.n_sampled_goal,
                           goal_selection_strategy=config.goal_selection_strategy, num_envs=envs.num_envs)


def structured_observation_space(envs: VectorEnv, env_argument: Any) -> gym.spaces.Space[Any]:
    """The ``Dict`` (or ``Tuple``) observation space of the agent's env, before the samplers
    flattened it (:func:`~plugrl.samplers.flatten_structured_observations`), so that acting
    takes the env's own observations."""
    env = _goal_env(envs, env_argument)
    while not isinstance(env.observation_space, (gym.spaces.Dict, gym.spaces.Tuple)):
        if not isinstance(env, gym.Wrapper):
            raise TypeError(f"s: expected an array observation, the env's are {env.observation_space}")
        env = env.env
    return env.observation_space


def _goal_env(envs: VectorEnv, env_argument: Any) -> gym.Env:
    """An env whose ``compute_reward`` relabels: the first sub-env where they run in this
    process, else one more like the agent's (SB3 calls the first sub-env's method)."""
    if isinstance(envs, SyncVectorEnv):
        return envs.envs[0]
    try:
        return make_env_like(env_argument)
    except TypeError as error:
        raise ValueError("replay_buffer_class: 'her' needs the goal-conditioned env's compute_reward; "
                         "pass a Gymnasium id or env instance instead of an async vector env") from error
