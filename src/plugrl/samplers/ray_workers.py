"""Environments stepped by Ray actors (the extra ``plugrl[ray]``), and the actors themselves.

A :class:`RayVectorEnv` spreads ``num_envs`` environments over ``num_envs // envs_per_worker``
Ray actors (:class:`EnvWorker`), each with a same-step-autoreset vector env of its own. It is a
Gymnasium vector env (``reset``, ``step``, ``call``, ``set_attr``: one round trip per call), so
checkpoints and everything else that steps a vector env work unchanged; samplers collect whole
segments instead, each actor acting with a policy shipped to it once (see
:mod:`plugrl.samplers.ray_sampler` and :mod:`plugrl.samplers.ray_supervisor`).

Environments cross to the actors by pickling (Ray's cloudpickle): a Gymnasium id, an env
instance (its copies), an env factory or a DeepChem environment all work. Sub-environment
:math:`i` is seeded ``seed + i`` whichever actor steps it, as in :func:`make_vector_env`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import ModuleType
from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv, VectorWrapper
from gymnasium.vector.utils import batch_space

from plugrl.samplers.replay import episode_logs, replay_episodes
from plugrl.samplers.rollout import Rollout, RolloutSampler
from plugrl.utils.validation import check_positive_int

__all__ = ["EnvWorker", "RayOptions", "RayVectorEnv", "import_ray", "init_ray"]

RAY_EXTRA = 'pip install "plugrl[ray]"'


@dataclasses.dataclass(frozen=True)
class RayOptions:
    """How :class:`RayVectorEnv` runs its actors (the agents' configuration fields of the
    same names).

    Attributes
    ----------
    envs_per_worker : int
        Environments each Ray actor steps; ``num_envs`` must be a multiple of it.
    address : str, optional
        The Ray cluster to join (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``); None:
        ``RAY_ADDRESS`` if set, else a local Ray instance with the machine's cores. Unused when
        Ray is already initialised.
    max_worker_restarts : int
        Replacements of failed actors allowed over the env's life; one more failure raises
        :class:`~plugrl.samplers.ray_supervisor.RayWorkerError`.
    worker_timeout : float, optional
        Seconds an actor may take for one segment (or one call) before it is treated as dead;
        None: no limit.
    """

    envs_per_worker: int = 1
    address: str | None = None
    max_worker_restarts: int = 3
    worker_timeout: float | None = None

    def __post_init__(self) -> None:
        check_positive_int(self.envs_per_worker, "envs_per_worker")
        if not isinstance(self.max_worker_restarts, int) or self.max_worker_restarts < 0:
            raise ValueError(f"max_worker_restarts: expected an int >= 0, got {self.max_worker_restarts!r}")
        if self.worker_timeout is not None and not float(self.worker_timeout) > 0:
            raise ValueError(f"worker_timeout: expected None or a float > 0, got {self.worker_timeout!r}")


def import_ray() -> ModuleType:
    """The ``ray`` module, or an ImportError that names the extra to install."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(f"vectorization='ray' needs Ray: {RAY_EXTRA}") from error
    return ray


def init_ray(address: str | None = None) -> ModuleType:
    """Ray, connected: to ``address`` (or ``RAY_ADDRESS``), else to a new local instance with
    the machine's cores; an instance already initialised is used as it is."""
    ray = import_ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return ray


class EnvWorker:
    """A Ray actor's state: a same-step-autoreset vector env of some of the sub-environments,
    a :class:`RolloutSampler` over it and the policy it acts with.

    Parameters
    ----------
    env_fns : list of callable
        Constructors of this actor's sub-environments (recorded, so that episodes replay).
    """

    def __init__(self, env_fns: list[Callable[[], gymnasium.Env]]) -> None:
        self.envs = SyncVectorEnv(env_fns, autoreset_mode=AutoresetMode.SAME_STEP)
        self.rewards = _RewardTap(self.envs)
        self.sampler = RolloutSampler(self.rewards, 1)
        self.policy: Any = None

    def spaces(self) -> tuple[gymnasium.Space, gymnasium.Space, dict[str, Any]]:
        return self.envs.single_observation_space, self.envs.single_action_space, self.envs.metadata

    def set_policy(self, policy: Any) -> None:
        """The policy of :meth:`rollout`: ``load_weights(weights)`` and ``policy(S, noise_t)``."""
        self.policy = policy

    def reset(self, seed: int | None, options: dict[str, Any] | None) -> np.ndarray:
        obs, _ = self.envs.reset(seed=seed, options=options)
        return self._continue_from(obs)

    def step(self, actions: np.ndarray) -> tuple[Any, ...]:
        obs, r, terminated, truncated, info = self.envs.step(actions)
        ended = terminated | truncated
        final = [info["final_obs"][i] if ended[i] else None for i in range(len(ended))] \
            if "final_obs" in info else [None] * len(ended)
        return self._continue_from(obs), r, terminated, truncated, final

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        results = self.envs.call(name, *args, **kwargs)
        if name == "replay":  # the episodes of a checkpoint: rollouts continue from them
            self._continue_from(np.stack([np.asarray(obs) for obs in results]))
        return results

    def set_attr(self, name: str, values: list[Any]) -> None:
        self.envs.set_attr(name, values)

    def episode_logs(self) -> list[dict[str, Any]]:
        return episode_logs(self.envs)

    def replay(self, logs: list[dict[str, Any]]) -> np.ndarray:
        """Rebuild the episodes of ``logs`` (see :mod:`plugrl.samplers.replay`)."""
        return self._continue_from(replay_episodes(self.envs, logs))

    def rollout(self, weights: Any, noise: np.ndarray | None, num_steps: int,
                rows: slice) -> tuple[Rollout, list[dict], np.ndarray]:
        """``num_steps`` vector steps with the policy at ``weights``; returns the rollout, the
        episode logs at its end (where the next segment starts) and the rewards as the envs gave
        them, float64 [T, E] (the driver's episode returns add them up as a local sampler does).

        With ``noise`` [T, N, ...] (the whole vector env's), step ``t`` acts on a batch of all
        ``N`` rows, this actor's observations at ``rows``, with ``noise[t]``: XLA computes a batch
        of one with another kernel (matrix-vector) than a batch of ``N``, whose last bits differ,
        so only the whole batch's shape gives the local sampler's numbers. Without noise (None)
        the policy draws itself and sees this actor's observations alone.
        """
        self.policy.load_weights(weights)
        t = iter(range(num_steps))

        def act(S: np.ndarray) -> tuple[Any, dict[str, Any]]:
            step = next(t)
            if noise is None:
                return self.policy(S, None)
            S_all = np.zeros((len(noise[step]), *S.shape[1:]), S.dtype)
            S_all[rows] = S
            A, info = self.policy(S_all, noise[step])
            return np.asarray(A)[rows], {k: np.asarray(v)[rows] for k, v in info.items()}

        self.sampler.num_steps = num_steps
        self.rewards.tapped = []
        rollout = self.sampler.collect(act)
        for statistics in (self.sampler.episode_returns, self.sampler.episode_lengths,
                           self.sampler.episode_envs):
            statistics.clear()  # the driver keeps them
        return rollout, self.episode_logs(), np.stack(self.rewards.tapped)

    def _continue_from(self, obs: Any) -> np.ndarray:
        self.sampler.load_state(self.sampler.state(), np.asarray(obs))
        return np.asarray(obs)


class _RewardTap(VectorWrapper):
    """Keeps each step's rewards as the envs returned them (rollouts store float32)."""

    def __init__(self, env: VectorEnv) -> None:
        super().__init__(env)
        self.tapped: list[np.ndarray] = []

    def step(self, actions: Any) -> tuple[Any, ...]:
        obs, r, terminated, truncated, info = self.env.step(actions)
        self.tapped.append(np.asarray(r, np.float64))
        return obs, r, terminated, truncated, info


class RayVectorEnv(VectorEnv):
    """A vector env whose sub-environments live in Ray actors (see the module docstring).

    Parameters
    ----------
    env_fns : list of callable
        One picklable constructor per sub-environment (``num_envs`` of them).
    options : RayOptions
        Actors, cluster and fault tolerance.

    Attributes
    ----------
    num_workers : int
        The number of actors, ``num_envs // envs_per_worker``.
    supervisor : RaySupervisor
        Starts, watches and replaces the actors.
    """

    records_episodes = True  # its sub-environments replay episodes (see plugrl.samplers.replay)

    def __init__(self, env_fns: list[Callable[[], gymnasium.Env]], options: RayOptions) -> None:
        from plugrl.samplers.ray_supervisor import RaySupervisor

        E = options.envs_per_worker
        if len(env_fns) % E:
            raise ValueError(f"num_envs: expected a multiple of envs_per_worker={E}, got {len(env_fns)}")
        self.options = options
        self.num_envs = len(env_fns)
        self.num_workers = self.num_envs // E
        self.supervisor = RaySupervisor([env_fns[w * E:(w + 1) * E] for w in range(self.num_workers)],
                                        options)
        obs_space, action_space, metadata = self.supervisor.call(0, "spaces")
        self.single_observation_space, self.single_action_space = obs_space, action_space
        self.observation_space = batch_space(obs_space, self.num_envs)
        self.action_space = batch_space(action_space, self.num_envs)
        self.metadata = {**metadata, "autoreset_mode": AutoresetMode.SAME_STEP}
        self.closed = False

    def __repr__(self) -> str:
        return (f"RayVectorEnv(num_envs={self.num_envs}, num_workers={self.num_workers}, "
                f"restarts={self.supervisor.restarts})")

    # ------------------------------------------------------------------ Gymnasium's interface
    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        E = self.options.envs_per_worker
        seeds = [None if seed is None else int(seed) + w * E for w in range(self.num_workers)]  # type: ignore[arg-type]
        obs = self.supervisor.call_all("reset", [(s, options) for s in seeds])
        self.supervisor.forget_logs()
        return np.concatenate(obs), {}

    def step(self, actions: Any) -> tuple[Any, ...]:
        parts = self.supervisor.call_all("step", [(a,) for a in self._split(np.asarray(actions))])
        self.supervisor.forget_logs()
        obs, r, terminated, truncated = (np.concatenate([p[k] for p in parts]) for k in range(4))
        final = [f for p in parts for f in p[4]]
        info: dict[str, Any] = {}
        if any(f is not None for f in final):
            info["final_obs"] = np.empty(self.num_envs, dtype=object)  # one observation per env
            for i, f in enumerate(final):
                info["final_obs"][i] = f
            info["_final_obs"] = np.array([f is not None for f in final])
        return obs, r, terminated, truncated, info

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        parts = self.supervisor.call_all("call", [(name, *args)] * self.num_workers, kwargs)
        if name == "replay":
            self.supervisor.forget_logs()
        return tuple(x for part in parts for x in part)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        return self.call(name)

    def set_attr(self, name: str, values: list[Any] | tuple[Any, ...] | Any) -> None:
        if not isinstance(values, list | tuple):
            values = [values] * self.num_envs
        self.supervisor.call_all("set_attr", [(name, list(v)) for v in self._split(list(values))])

    def close_extras(self, **kwargs: Any) -> None:
        self.supervisor.close()

    # ------------------------------------------------------------------ segments
    def set_policy(self, policy: Any) -> None:
        """Ship the policy the actors act with (pickled once, and to every replacement)."""
        self.supervisor.set_policy(policy)

    def rollouts(self, weights: Any, noise: np.ndarray | None, num_steps: int) -> tuple[Rollout, np.ndarray]:
        """One segment of ``num_steps`` vector steps from every actor, joined along the env axis
        (and the rewards as the envs gave them, float64 [T, N]);
        ``noise`` [T, num_envs, ...] goes to every actor (see :meth:`EnvWorker.rollout`). A failed
        actor is replaced and its segment collected again (see
        :class:`~plugrl.samplers.ray_supervisor.RaySupervisor`)."""
        args = [(weights, noise, num_steps, self.rows(w)) for w in range(self.num_workers)]
        parts = self.supervisor.segments(args)
        return join_along_envs([p[0] for p in parts]), np.concatenate([p[1] for p in parts], axis=1)

    def rows(self, w: int) -> slice:
        """The indices of actor ``w``'s sub-environments."""
        E = self.options.envs_per_worker
        return slice(w * E, (w + 1) * E)

    def _split(self, x: Any) -> list[Any]:
        E = self.options.envs_per_worker
        return [x[w * E:(w + 1) * E] for w in range(self.num_workers)]


def join_along_envs(parts: list[Rollout]) -> Rollout:
    """Rollouts of disjoint envs, of the same length, as one (env ``i`` of part ``w`` first)."""
    def joined(field: str, axis: int = 1) -> np.ndarray:
        return np.concatenate([getattr(p, field) for p in parts], axis=axis)

    info = {k: np.concatenate([p.info[k] for p in parts], axis=1) for k in parts[0].info}
    return Rollout(joined("S"), joined("A"), joined("R"), joined("terminated"), joined("truncated"),
                   joined("S_next"), info, joined("S_last", axis=0))
