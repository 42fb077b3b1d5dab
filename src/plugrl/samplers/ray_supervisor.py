"""Fault tolerance for Ray actors, as RLlib promises it: a worker whose process dies, whose env
raises, or that does not answer within ``worker_timeout`` is replaced by a fresh one, which
rebuilds its environments as they were when the lost segment began and collects that segment
again; after ``max_worker_restarts`` replacements the next failure is an error.

Rebuilding an environment replays its current episode from the episode log that each worker
returns with every segment (its reset seed or generator state and the actions since; see
:mod:`plugrl.samplers.replay`). A re-collected segment starts from the same state with the same
weights and noise, so it holds the same transitions as the lost one would have (for envs that are
deterministic given their seed): none is lost and none is counted twice, since the driver counts a
segment's steps only once it has arrived.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np

from plugrl.samplers.ray_workers import EnvWorker, RayOptions, init_ray
from plugrl.samplers.rollout import Rollout

__all__ = ["RaySupervisor", "RayWorkerError"]


class RayWorkerError(RuntimeError):
    """A Ray worker failed once more than ``max_worker_restarts`` allows (or failed outside a
    segment, where there is nothing to re-collect)."""


class RaySupervisor:
    """Start, call, watch and replace the Ray actors of a :class:`RayVectorEnv`.

    Parameters
    ----------
    env_fns : list of list of callable
        The constructors of each actor's sub-environments.
    options : RayOptions
        ``max_worker_restarts``, ``worker_timeout`` and the cluster ``address``.

    Attributes
    ----------
    restarts : int
        Actors replaced so far.
    failures : list of str
        What each replaced actor did (``"worker 1: died (ActorDiedError ...)"``), in order.
    """

    def __init__(self, env_fns: list[list[Callable[[], gymnasium.Env]]], options: RayOptions) -> None:
        self.ray = init_ray(options.address)
        self.options = options
        self.env_fns = env_fns
        self.restarts = 0
        self.failures: list[str] = []
        # One CPU each, as RLlib's rollout workers: Ray places them where cores are free.
        self._actor_class = self.ray.remote(num_cpus=1, max_restarts=0)(EnvWorker)
        self._policy_ref: Any = None
        self._logs: list[list[dict[str, Any]]] | None = None  # each actor's, at the segment start
        self._pending: dict[Any, tuple[int, float]] = {}  # segment reference: actor, start time
        self._args: dict[int, tuple] = {}  # each actor's current segment's arguments
        cpus = self.ray.cluster_resources().get("CPU", 0.0)
        if cpus < len(env_fns):  # the actors would wait for cores for ever
            raise ValueError(f"num_envs: expected at most one Ray actor per CPU of the cluster "
                             f"({cpus:g} CPUs), got {len(env_fns)} actors; raise envs_per_worker "
                             "or add nodes (actors of other agents also hold CPUs until agent.close())")
        self.workers = [self._start(w) for w in range(len(env_fns))]

    def _start(self, w: int) -> Any:
        return self._actor_class.remote(self.env_fns[w])

    # ------------------------------------------------------------------ plain calls
    def call(self, w: int, method: str, *args: Any, **kwargs: Any) -> Any:
        """``method`` on actor ``w``, waited for (without ``worker_timeout``: the first call
        waits for the actor's process to start)."""
        return self._get([getattr(self.workers[w], method).remote(*args, **kwargs)], method, None)[0]

    def call_all(self, method: str, args: list[tuple], kwargs: dict[str, Any] | None = None) -> list[Any]:
        """``method`` on every actor at once, actor ``w`` with ``args[w]``; the results in order."""
        refs = [getattr(worker, method).remote(*a, **(kwargs or {})) for worker, a in zip(self.workers, args,
                                                                                         strict=True)]
        return self._get(refs, method, self.options.worker_timeout)

    def _get(self, refs: list[Any], method: str, timeout: float | None) -> list[Any]:
        try:
            return list(self.ray.get(refs, timeout=timeout))
        except (self.ray.exceptions.RayError, TimeoutError) as error:
            raise RayWorkerError(f"ray worker: {method} failed ({_describe(error)}); only rollout "
                                 "segments are collected again after a failure") from error

    def set_policy(self, policy: Any) -> None:
        """Pickle ``policy`` once into the object store and give it to every actor (without
        ``worker_timeout``: unpickling a policy builds its networks)."""
        self._policy_ref = self.ray.put(policy)
        try:
            self.ray.get([worker.set_policy.remote(self._policy_ref) for worker in self.workers])
        except self.ray.exceptions.RayError as error:
            raise RayWorkerError(f"ray worker: set_policy failed ({_describe(error)})") from error

    def forget_logs(self) -> None:
        """The envs moved outside a segment: fetch the episode logs again before the next one."""
        self._logs = None

    # ------------------------------------------------------------------ supervised segments
    def segments(self, args: list[tuple]) -> list[tuple[Rollout, np.ndarray]]:
        """``rollout(*args[w])`` on every actor ``w``, waited for: each one's rollout and
        rewards; see :meth:`next_segment`."""
        for w in range(len(self.workers)):
            self.submit(w, args[w])
        results: dict[int, tuple[Rollout, np.ndarray]] = {}
        while self.in_flight():
            w, rollout, rewards = self.next_segment()
            results[w] = rollout, rewards
        return [results[w] for w in range(len(self.workers))]

    def submit(self, w: int, args: tuple) -> None:
        """Send actor ``w`` (idle) off to collect ``rollout(*args)``."""
        if self._logs is None:
            self._logs = self.call_all("episode_logs", [()] * len(self.workers))
        self._args[w] = args
        self._pending[self.workers[w].rollout.remote(*args)] = (w, time.monotonic())

    def in_flight(self) -> list[int]:
        """The actors collecting a segment now."""
        return [w for w, _ in self._pending.values()]

    def next_segment(self) -> tuple[int, Rollout, np.ndarray]:
        """The next segment to arrive: its actor's index, the rollout and its float64 rewards
        [T, E]. An actor that died, whose env raised, or that is past ``worker_timeout`` is
        replaced and sent off again with the same arguments, from the episode logs of its
        segment's start (:meth:`_replace`)."""
        while True:
            ready, _ = self.ray.wait(list(self._pending), num_returns=1, timeout=self._time_left())
            if not ready:  # past the timeout: every late actor counts as hung
                for ref in [ref for ref, (_, t0) in self._pending.items() if self._late(t0)]:
                    w, _ = self._pending.pop(ref)
                    self._replace(w, f"no answer within worker_timeout={self.options.worker_timeout} s")
                    self.submit(w, self._args[w])
                continue
            w, _ = self._pending.pop(ready[0])
            try:
                rollout, logs, rewards = self.ray.get(ready[0])
            except self.ray.exceptions.RayError as error:
                self._replace(w, _describe(error), error)
                self.submit(w, self._args[w])
                continue
            assert self._logs is not None
            self._logs[w] = logs
            return w, rollout, rewards

    def _time_left(self) -> float | None:
        if self.options.worker_timeout is None:
            return None
        first = min(t0 for _, t0 in self._pending.values())
        return max(0.0, self.options.worker_timeout - (time.monotonic() - first))

    def _late(self, t0: float) -> bool:
        timeout = self.options.worker_timeout
        return timeout is not None and time.monotonic() - t0 >= timeout

    def _replace(self, w: int, reason: str, error: BaseException | None = None) -> None:
        """Replace actor ``w`` with a fresh one whose envs replay the segment start's episodes;
        a failure while doing so counts as one more."""
        assert self._logs is not None
        while True:
            self.failures.append(f"worker {w}: {reason}")
            if self.restarts >= self.options.max_worker_restarts:
                raise RayWorkerError(
                    f"ray worker {w}: {reason}; giving up after {self.restarts} restarts "
                    f"(max_worker_restarts={self.options.max_worker_restarts}). Failures so far: "
                    f"{self.failures}") from error
            self.restarts += 1
            self.ray.kill(self.workers[w], no_restart=True)
            self.workers[w] = self._start(w)
            try:
                if self._policy_ref is not None:  # unpickling a policy builds networks: no timeout
                    self.ray.get(self.workers[w].set_policy.remote(self._policy_ref))
                self.ray.get(self.workers[w].replay.remote(self._logs[w]),
                             timeout=self.options.worker_timeout)
                return
            except (self.ray.exceptions.RayError, TimeoutError) as replay_error:
                reason = f"replacement failed to rebuild its envs ({_describe(replay_error)})"
                error = replay_error

    def close(self) -> None:
        """Stop every actor."""
        for worker in self.workers:
            self.ray.kill(worker, no_restart=True)
        self.workers = []


def _describe(error: BaseException) -> str:
    """The error's type and first line (a Ray task error's: those of the env's own exception)."""
    error = getattr(error, "cause", None) or error
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
