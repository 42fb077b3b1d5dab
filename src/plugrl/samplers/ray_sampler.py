"""Rollouts collected by Ray actors, each acting with the current policy weights.

The agent gives the sampler a :class:`RemotePolicy`: a picklable :class:`WorkerPolicy` that
crosses to every actor once (and to every replacement), the weights as NumPy arrays, put into
Ray's object store once per rollout (one reference for all actors), and the policy noise of the
whole rollout, drawn on the driver exactly as a local :class:`RolloutSampler` would draw it step
by step. Each actor then steps its environments for the whole segment without a round trip per
step, and its actions are those the local sampler would take: with fixed seeds and no failures
a Ray run collects the same data as ``vectorization="sync"`` with the same ``num_envs``.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from plugrl.samplers.ray_workers import RayVectorEnv
from plugrl.samplers.rollout import Act, Rollout, RolloutSampler

__all__ = ["RaySampler", "RayStreamSampler", "RemotePolicy", "WorkerPolicy", "make_ray_sampler"]


class WorkerPolicy(Protocol):
    """The policy an actor acts with (pickled to it once)."""

    def load_weights(self, weights: Any) -> None:
        """Take the weights of :meth:`RemotePolicy.weights` (once per segment)."""
        ...

    def __call__(self, S: np.ndarray, noise: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(A, info)`` for observations ``S`` [E, ...] with one step's ``noise`` [E, ...] (None
        where :meth:`RemotePolicy.noise` gives none: the policy draws itself)."""
        ...


class RemotePolicy(Protocol):
    """What an agent gives a :class:`RaySampler` (the driver's side of its policy)."""

    def worker_policy(self) -> WorkerPolicy:
        """The picklable policy for the actors."""
        ...

    def weights(self) -> Any:
        """The current weights (NumPy arrays, and whatever else acting reads, such as the
        observation normaliser), read once per rollout."""
        ...

    def noise(self, num_steps: int, num_envs: int) -> np.ndarray | None:
        """The policy noise of ``num_steps`` vector steps, [T, N, ...], drawn as a local rollout
        draws it (None: the actors draw their own)."""
        ...


class RaySampler(RolloutSampler):
    r"""A :class:`RolloutSampler` whose environments are stepped by Ray actors.

    Parameters
    ----------
    vector_env : RayVectorEnv
        The actors' environments (``make_vector_env(..., vectorization="ray")``).
    num_steps : int
        Vector steps :math:`T` per rollout; each actor collects :math:`T` steps of its envs.
    seed : int, optional
        The seed of the first reset (sub-env :math:`i` gets ``seed + i``).
    min_rollouts : int, optional
        As :class:`RolloutSampler`'s (the rollout grows by whole segments).
    policy : RemotePolicy
        The agent's policy for the actors.

    Notes
    -----
    :meth:`collect` does not call its ``act``: the actors act with ``policy`` instead, which must
    be the same policy (the agent passes both). Statistics, the step counter and NaN checks are
    the driver's, computed from the segments that arrived, so a segment collected again after a
    failure is counted once.
    """

    def __init__(self, vector_env: RayVectorEnv, num_steps: int, seed: int | None = None,
                 min_rollouts: int | None = None, *, policy: RemotePolicy) -> None:
        if not isinstance(vector_env, RayVectorEnv):
            raise TypeError(f"vector_env: expected a RayVectorEnv (make_vector_env(..., "
                            f"vectorization='ray')), got {type(vector_env).__name__}")
        super().__init__(vector_env, num_steps, seed, min_rollouts)
        self.vector_env: RayVectorEnv = vector_env
        self.policy = policy
        self._policy_shipped = False
        self._weights: Any = None  # this rollout's reference in the object store

    def __repr__(self) -> str:
        return super().__repr__().replace("RolloutSampler(", f"RaySampler(num_workers="
                                          f"{self.vector_env.num_workers}, ", 1)

    def collect(self, act: Act) -> Rollout:
        """One rollout (see :meth:`RolloutSampler.collect`), the weights broadcast once."""
        self._weights = None
        try:
            return super().collect(act)
        finally:
            self._weights = None

    def _collect_steps(self, act: Act, T: int) -> Rollout:
        ray = self.vector_env.supervisor.ray
        if not self._policy_shipped:
            self.vector_env.set_policy(self.policy.worker_policy())
            self._policy_shipped = True
        if self._weights is None:
            self._weights = ray.put(self.policy.weights())
        S_first = self._current_obs()
        noise = self.policy.noise(T, self.num_envs)
        rollout, rewards = self.vector_env.rollouts(self._weights, noise, T)
        if not np.array_equal(rollout.S[0], S_first):  # a guard on the actors' bookkeeping
            raise RuntimeError("RaySampler: the actors' observations are not the sampler's; was the "
                               "vector env stepped outside the sampler?")
        for t in range(T):
            self._record_rewards(rewards[t], rollout.terminated[t] | rollout.truncated[t], t)
        self._S = rollout.S_last
        return rollout


class RayStreamSampler(RaySampler):
    """Segments of ``num_steps`` vector steps from one actor at a time, as they arrive: for the
    off-policy agents, whose transitions stream into the replay buffer while the other actors go
    on collecting.

    Each actor is sent off again as soon as its segment has arrived, with the weights of that
    moment (:meth:`RemotePolicy.weights` is read, and put into the object store, once per
    segment sent); the policy draws its own randomness (:meth:`RemotePolicy.noise` is not used).
    A segment is therefore collected with weights that are up to ``num_workers - 1`` of the
    learner's update rounds old (RLlib's asynchronous sampling has the same staleness).

    Statistics and ``total_steps`` count the segments that have arrived, so they are exact; so is
    the agent's step counter, which counts what :meth:`next_segment` returns. Segments in flight
    are neither stored nor counted: a checkpoint (:meth:`state`) needs none in flight.
    """

    def next_segment(self) -> tuple[slice, Rollout]:
        """The next segment to arrive: the rows of the envs it covers and their rollout [T, E]
        (when none is in flight, every actor is sent off first). Its actor then waits for
        :meth:`send_again`, so that the stream can run dry at the end of training."""
        supervisor = self.vector_env.supervisor
        if not supervisor.in_flight():
            self._current_obs()
            for w in range(self.vector_env.num_workers):
                self._send(w)
        w, rollout, rewards = supervisor.next_segment()
        rows = self.vector_env.rows(w)
        for t in range(len(rollout.R)):
            self._record_rewards(rewards[t], rollout.terminated[t] | rollout.truncated[t], t, rows)
        assert self._S is not None  # set by _current_obs
        self._S[rows] = rollout.S_last
        return rows, rollout

    def send_again(self, rows: slice) -> None:
        """Send the actor of the envs at ``rows`` off for its next segment."""
        self._send(rows.start // self.vector_env.options.envs_per_worker)

    def in_flight_steps(self) -> int:
        """Env steps of the segments being collected now."""
        actors = len(self.vector_env.supervisor.in_flight())
        return actors * self.num_steps * self.vector_env.options.envs_per_worker

    def state(self) -> dict[str, Any]:
        """See :meth:`RolloutSampler.state`.

        Raises
        ------
        RuntimeError
            While segments are in flight (their envs have moved on without them).
        """
        if self.vector_env.supervisor.in_flight():
            raise RuntimeError("RayStreamSampler: a checkpoint needs no segment in flight; with "
                               "vectorization='ray', off-policy agents write checkpoints at the end of fit")
        return super().state()

    def _send(self, w: int) -> None:
        if not self._policy_shipped:
            self.vector_env.set_policy(self.policy.worker_policy())
            self._policy_shipped = True
        weights = self.vector_env.supervisor.ray.put(self.policy.weights())
        self.vector_env.supervisor.submit(w, (weights, None, self.num_steps, self.vector_env.rows(w)))


def make_ray_sampler(vector_env: RayVectorEnv, num_steps: int, seed: int | None, policy: RemotePolicy,
                     **options: Any) -> RaySampler:
    """A :class:`RayStreamSampler` for a policy with ``streaming = True`` (the off-policy
    agents'), else a :class:`RaySampler`; ``options`` as :class:`RolloutSampler`'s."""
    cls = RayStreamSampler if getattr(policy, "streaming", False) else RaySampler
    return cls(vector_env, num_steps, seed, policy=policy, **options)
