"""Samplers: step environments with a policy and hand back time-major batches.

:func:`make_vector_env` builds a Gymnasium vector env with same-step autoreset from an id, an
env, an env factory or an environment of another interface (:class:`GymnasiumConvertible`, such
as DeepChem's); :class:`RolloutSampler` collects fixed-length :class:`Rollout` batches from it,
keeping episode statistics. Samplers depend only on NumPy and Gymnasium (and on Ray for
``vectorization="ray"``: :mod:`plugrl.samplers.ray_workers` spreads the environments over Ray
actors, :mod:`plugrl.samplers.ray_sampler` collects from them with the agent's policy, and
:mod:`plugrl.samplers.ray_supervisor` replaces failed actors; Ray is imported only when used).
"""

from __future__ import annotations

from plugrl.samplers.envs import (
    VECTORIZATIONS,
    GymnasiumConvertible,
    flatten_structured_observations,
    make_env_like,
    make_evaluation_env,
    make_vector_env,
)
from plugrl.samplers.replay import EpisodeRecorder, episode_logs, replay_episodes, replays_episodes
from plugrl.samplers.rollout import Act, Rollout, RolloutSampler

__all__ = ["VECTORIZATIONS", "Act", "EpisodeRecorder", "GymnasiumConvertible", "Rollout",
           "RolloutSampler", "episode_logs", "flatten_structured_observations", "make_env_like",
           "make_evaluation_env", "make_vector_env", "replay_episodes", "replays_episodes"]
