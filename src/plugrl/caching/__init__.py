"""Short-term caches that turn one episode's transitions into the glossary's batches.

:class:`NStepCache` gives ``(S, A, Rn, In, S_next, A_next)`` for n-step bootstrapping and
:class:`MonteCarloCache` gives ``(S, A, G)`` once an episode has ended. Both depend only on NumPy
and Gymnasium.
:class:`ExperienceReplayBuffer` and :class:`PrioritizedReplayBuffer` replay transitions;
:class:`ReplayStreams` samples several of them (one per environment) as one.
:class:`HerReplayBuffer` relabels goal-conditioned transitions in hindsight (Stable-Baselines3's).
:class:`GAE` and :func:`gae_advantages` turn time-major rollouts into advantages and TD(lambda)
returns.
"""

from __future__ import annotations

from plugrl.caching.gae import GAE, gae_advantages
from plugrl.caching.her import HerReplayBuffer
from plugrl.caching.monte_carlo import MonteCarloCache
from plugrl.caching.n_step import NStepCache
from plugrl.caching.prioritized import PrioritizedReplayBuffer, SumTree
from plugrl.caching.replay import ExperienceReplayBuffer
from plugrl.caching.streams import ReplayStreams

__all__ = [
    "GAE",
    "ExperienceReplayBuffer",
    "HerReplayBuffer",
    "MonteCarloCache",
    "NStepCache",
    "PrioritizedReplayBuffer",
    "ReplayStreams",
    "SumTree",
    "gae_advantages",
]
