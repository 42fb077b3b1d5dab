"""The on-policy agents' policy in Ray's rollout workers (:mod:`plugrl.samplers.ray_sampler`).

The learner crosses to each worker once, by pickling; every rollout, the driver broadcasts its
parameters and the observation normaliser, and draws the policy noise of the whole rollout with
the agent's generator, step after step as a local rollout draws it. A worker's actions are then
those of :meth:`OnPolicyAgent._act <plugrl.agents.on_policy.agent.OnPolicyAgent>` on the same
observations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from plugrl._backend import to_device, to_host
from plugrl.agents.on_policy.learner import OnPolicyLearner

__all__ = ["OnPolicyRemote", "OnPolicyWorkerPolicy"]


class OnPolicyWorkerPolicy:
    """The learner's ``act`` in a worker, at the weights last loaded.

    Parameters
    ----------
    learner : OnPolicyLearner
        A copy of the agent's learner (its own weights are replaced by :meth:`load_weights`).
    """

    def __init__(self, learner: OnPolicyLearner) -> None:
        self.learner = learner
        self.normalizer: Any = None

    def load_weights(self, weights: tuple[Any, Any, Any]) -> None:
        params, non_trainable, self.normalizer = weights
        self.learner.state = self.learner.state._replace(params=to_device(params),
                                                         non_trainable=to_device(non_trainable))

    def __call__(self, S: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        # S comes from the worker's sampler, in its dtype already (image bytes stay bytes).
        S = S if self.normalizer is None else self.normalizer(np.asarray(S, np.float32))
        info = self.learner.act(S, noise)
        return self.learner.env_actions(info["A"]), info


class OnPolicyRemote:
    """The driver's side: what :class:`~plugrl.samplers.ray_sampler.RaySampler` asks of an
    on-policy agent (a :class:`~plugrl.samplers.ray_sampler.RemotePolicy`).

    Parameters
    ----------
    learner : OnPolicyLearner
        The agent's learner.
    normalizer : callable
        Returns the agent's observation normaliser (or None) when called.
    noise : callable
        ``noise(batch_size)``: one step's policy noise, drawn with the agent's generator.
    """

    def __init__(self, learner: OnPolicyLearner, normalizer: Callable[[], Any],
                 noise: Callable[[int], np.ndarray]) -> None:
        self.learner, self._normalizer, self._noise = learner, normalizer, noise

    def worker_policy(self) -> OnPolicyWorkerPolicy:
        return OnPolicyWorkerPolicy(self.learner)

    def weights(self) -> tuple[Any, Any, Any]:
        state = self.learner.state
        return to_host(state.params), to_host(state.non_trainable), self._normalizer()

    def noise(self, num_steps: int, num_envs: int) -> np.ndarray:
        return np.stack([self._noise(num_envs) for _ in range(num_steps)])
