"""The off-policy agents on Ray: actors collect with the exploring policy and their transitions
stream into the replay buffer (:class:`~plugrl.samplers.ray_sampler.RayStreamSampler`).

Each segment sent to an actor carries the learner's state, the exploration parameter and the
"random actions" flag of the initial fill at that moment, and a seed for the actor's draws, taken
from the agent's generator. A segment's actions therefore follow the policy of up to
``num_workers - 1`` update rounds ago, and the fill and exploration schedules are read when a
segment is sent, not at each of its steps (as the sync path does). ``num_steps`` counts what has
arrived and been stored, exactly; ``fit`` ends with no segment in flight.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl._backend import to_device, to_host

__all__ = ["OffPolicyRemote", "OffPolicyWorkerPolicy", "stream_iteration"]


class OffPolicyWorkerPolicy:
    """The learner's exploring policy in an actor (a
    :class:`~plugrl.samplers.ray_sampler.WorkerPolicy`).

    Parameters
    ----------
    learner : DQNLearner or SACLearner
        A copy of the agent's learner; its state is replaced by :meth:`load_weights`.
    """

    def __init__(self, learner: Any) -> None:
        self.learner = learner
        self.exploration, self.random = 0.0, True
        self.rng = np.random.default_rng(0)

    def load_weights(self, weights: tuple[Any, float, bool, int]) -> None:
        state, self.exploration, self.random, seed = weights
        self.learner.state = to_device(state)
        self.rng = np.random.default_rng(seed)

    def __call__(self, S: np.ndarray, noise: None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if self.random:
            A_env, A_buffer = self.learner.random_actions(len(S), self.rng)
        else:
            A_env, A_buffer = self.learner.act(S, self.rng, self.exploration)
        return A_env, {"A": A_buffer}


class OffPolicyRemote:
    """The driver's side of an off-policy agent's policy on Ray (a
    :class:`~plugrl.samplers.ray_sampler.RemotePolicy`); ``streaming``: its sampler is a
    :class:`~plugrl.samplers.ray_sampler.RayStreamSampler`."""

    streaming = True

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        #: The target of the ``fit`` running now (the exploration schedule spans it).
        self.total_steps = 1

    def worker_policy(self) -> OffPolicyWorkerPolicy:
        return OffPolicyWorkerPolicy(self.agent.learner)

    def weights(self) -> tuple[Any, float, bool, int]:
        agent = self.agent
        random, exploration = agent.acting_settings(self.total_steps)
        return to_host(agent.learner.state), exploration, random, agent.draw_seed()

    def noise(self, num_steps: int, num_envs: int) -> None:
        return None


def stream_iteration(agent: Any, total_steps: int) -> tuple[slice, Any]:
    """Take the next segment that arrives (the env rows and the rollout), count its steps, and
    send its actor off again unless the segments in flight already reach ``total_steps``."""
    sampler = agent.sampler
    sampler.policy.total_steps = total_steps
    rows, rollout = sampler.next_segment()
    agent.num_steps += rollout.R.size
    if agent.num_steps + sampler.in_flight_steps() < total_steps:
        sampler.send_again(rows)
    return rows, rollout
