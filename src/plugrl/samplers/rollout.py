"""Fixed-length, time-major rollouts from a same-step-autoreset vector environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from plugrl.utils.validation import check_positive_int

__all__ = ["Act", "Rollout", "RolloutSampler"]

Act = Callable[[np.ndarray], tuple[Any, dict[str, Any]]]
"""``act(S) -> (A, info)``: actions ``[N, ...]`` and policy info ``{name: [N, ...]}``."""


class Rollout(NamedTuple):
    """A time-major batch of ``T`` vector steps over ``N`` environments (NumPy arrays).

    Attributes
    ----------
    S : ndarray, float32 (uint8 for image observations), shape ``[T, N, *obs_shape]``
        The observations :math:`s_t` at which the actions were taken (images stay bytes:
        networks scale them, and a float copy of an Atari rollout would be 4 times larger).
    A : ndarray, shape ``[T, N, *action_shape]``
        The actions :math:`a_t`, in the dtype ``act`` returned them.
    R : ndarray, float32, shape ``[T, N]``
        The rewards :math:`r_t`.
    terminated : ndarray, bool, shape ``[T, N]``
        Whether the episode terminated at step :math:`t` (do not bootstrap).
    truncated : ndarray, bool, shape ``[T, N]``
        Whether the episode was cut short at step :math:`t` (bootstrap from ``S_next``).
    S_next : ndarray, the dtype of ``S``, shape ``[T, N, *obs_shape]``
        The observation that followed each step; after an episode end it is the episode's
        *final* observation, not the reset one (which is ``S[t + 1]``).
    info : dict of ndarray, shape ``[T, N, ...]`` each
        The policy info returned by ``act`` at each step, stacked (e.g. ``"logP"``, ``"V"``).
    S_last : ndarray, the dtype of ``S``, shape ``[N, *obs_shape]``
        The observations after the last step, where the next rollout starts.
    """

    S: np.ndarray
    A: np.ndarray
    R: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    S_next: np.ndarray
    info: dict[str, np.ndarray]
    S_last: np.ndarray


class RolloutSampler:
    r"""Collect fixed-length rollouts from a vector environment.

    The sampler keeps the current observations between calls to :meth:`collect`, so successive
    rollouts continue the same episodes; the first call resets the env with ``seed``.

    Parameters
    ----------
    vector_env : gymnasium.vector.VectorEnv
        A vector env with same-step autoreset, e.g. from :func:`make_vector_env`; its
        observations must be arrays (no ``Dict`` or ``Tuple`` spaces).
    num_steps : int
        The number of vector steps :math:`T \ge 1` per rollout; each collects
        :math:`T N` transitions.
    seed : int, optional
        The seed of the first reset (sub-env :math:`i` gets ``seed + i``).
    min_rollouts : int, optional
        pyrado's run size: collect until at least this many episodes have ended within the
        rollout (over all envs; the first may have begun in the previous rollout). The rollout
        then grows by chunks of ``num_steps`` vector steps to :math:`2^k` chunks, the first
        power of two that holds enough episode ends: a jitted update sees few rollout lengths
        (:math:`T \in \{1, 2, 4, \dots\}\cdot` ``num_steps``), at the price of up to twice the
        steps that were needed.

    Attributes
    ----------
    episode_returns : list of float
        The undiscounted returns of finished episodes, in order of completion (episodes that end
        at the same step in order of env index).
    episode_lengths : list of int
        The lengths of the same episodes.
    episode_envs : list of int
        The index of the sub-environment of each of the same episodes.
    total_steps : int
        The number of env steps so far, over all sub-environments.

    Examples
    --------
    >>> sampler = RolloutSampler(make_vector_env("CartPole-v1", num_envs=4), 128, seed=0)  # doctest: +SKIP
    >>> rollout = sampler.collect(lambda S: (policy(S), {}))  # doctest: +SKIP
    """

    def __init__(self, vector_env: VectorEnv, num_steps: int, seed: int | None = None,
                 min_rollouts: int | None = None) -> None:
        obs_shape, self.obs_dtype = _check_vector_env(vector_env)
        self.vector_env = vector_env
        self.num_steps = check_positive_int(num_steps, "num_steps")
        self.seed = seed
        self.min_rollouts = None if min_rollouts is None else check_positive_int(min_rollouts, "min_rollouts")
        self.num_envs = int(vector_env.num_envs)
        self.obs_shape = obs_shape
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.episode_envs: list[int] = []
        self.total_steps = 0
        self._S: np.ndarray | None = None  # the current observations, [N, *obs_shape]
        self._returns = np.zeros(self.num_envs, np.float64)  # of the ongoing episodes
        self._lengths = np.zeros(self.num_envs, np.int64)
        self._starts = np.ones(self.num_envs, bool)

    @property
    def episode_starts(self) -> np.ndarray:
        """Whether each environment's current observation (the one ``act`` sees next) is the
        first of its episode, [N] bool: after a reset, and after every episode end (same-step
        autoreset). Recurrent policies reset their state there."""
        return self._starts.copy()

    def __repr__(self) -> str:
        return (
            f"RolloutSampler(num_envs={self.num_envs}, num_steps={self.num_steps}, "
            f"total_steps={self.total_steps})"
        )

    def collect(self, act: Act) -> Rollout:
        """Run ``num_steps`` vector steps with the policy ``act`` (with ``min_rollouts``:
        :math:`2^k` times ``num_steps``, the fewest that end enough episodes).

        Parameters
        ----------
        act : callable
            ``act(S) -> (A, info)`` with ``S`` the current observations, in ``obs_dtype``, of shape
            ``[N, *obs_shape]`` (read-only: it is a view into the rollout), ``A`` the actions
            ``[N, ...]`` and ``info`` a dict of arrays ``[N, ...]`` recorded at collection time.

        Returns
        -------
        Rollout
            The batch, time-major; see :class:`Rollout`.

        Raises
        ------
        ValueError
            If ``act`` returns actions or info without a leading axis of size ``N``, or the env
            returns a NaN reward (the message names the env index and the step).
        """
        if self.min_rollouts is None:
            return self._collect_steps(act, self.num_steps)
        chunks = [self._collect_steps(act, self.num_steps)]
        while sum(int((c.terminated | c.truncated).sum()) for c in chunks) < self.min_rollouts:
            chunks += [self._collect_steps(act, self.num_steps) for _ in chunks]  # double the length
        return _concatenate(chunks)

    def _collect_steps(self, act: Act, T: int) -> Rollout:
        N = self.num_envs
        S = np.empty((T + 1, N, *self.obs_shape), self.obs_dtype)  # row T becomes S_last
        S[0] = self._current_obs()
        S_next = np.empty((T, N, *self.obs_shape), self.obs_dtype)
        R = np.empty((T, N), np.float32)
        terminated = np.empty((T, N), bool)
        truncated = np.empty((T, N), bool)
        A: np.ndarray | None = None
        info: dict[str, np.ndarray] = {}
        for t in range(T):
            a, step_info = _call_act(act, S[t], N)
            if A is None:
                A = np.empty((T, *a.shape), a.dtype)
                info = {k: np.empty((T, *v.shape), v.dtype) for k, v in step_info.items()}
            _store_info(info, step_info, t)
            A[t] = a
            obs, r, terminated[t], truncated[t], env_info = self.vector_env.step(a)
            R[t] = self._record_rewards(r, terminated[t] | truncated[t], t)
            S[t + 1] = obs
            S_next[t] = obs
            _patch_final_obs(S_next[t], env_info, terminated[t] | truncated[t])
            self._starts = terminated[t] | truncated[t]
        assert A is not None
        self._S = S[T]
        return Rollout(S[:T], A, R, terminated, truncated, S_next, info, S[T])

    def state(self) -> dict[str, Any]:
        """Counters and the statistics of the ongoing episodes (for checkpoints)."""
        return {"total_steps": self.total_steps, "returns": self._returns.tolist(),
                "lengths": self._lengths.tolist(), "episode_returns": list(self.episode_returns),
                "episode_lengths": list(self.episode_lengths), "episode_envs": list(self.episode_envs),
                "episode_starts": self._starts.tolist()}

    def load_state(self, state: dict[str, Any], S: np.ndarray) -> None:
        """Restore :meth:`state` and the current observations ``S`` [N, *obs_shape]."""
        self.total_steps = int(state["total_steps"])
        self._returns = np.asarray(state["returns"], np.float64)
        self._lengths = np.asarray(state["lengths"], np.int64)
        self.episode_returns[:] = state["episode_returns"]
        self.episode_lengths[:] = state["episode_lengths"]
        # Checkpoints from before the field: the envs are unknown (-1).
        self.episode_envs[:] = state.get("episode_envs", [-1] * len(self.episode_lengths))
        self._starts = np.asarray(state.get("episode_starts", [True] * self.num_envs), bool)
        self._S = np.asarray(S, self.obs_dtype)

    def close(self) -> None:
        """Close the vector env (and its subprocesses, if any)."""
        self.vector_env.close()

    def _current_obs(self) -> np.ndarray:
        if self._S is None:
            obs, _ = self.vector_env.reset(seed=self.seed)
            self._S = np.asarray(obs, self.obs_dtype)
            self._starts = np.ones(self.num_envs, bool)
        return self._S

    def _record_rewards(self, r: Any, ended: np.ndarray, t: int, rows: slice = slice(None)) -> np.ndarray:
        """Check the rewards of one vector step (of the envs at ``rows``: all by default) and
        update the episode statistics."""
        r = np.asarray(r, np.float64)
        first = rows.start or 0
        if not np.isfinite(r).all():
            i = first + int(np.flatnonzero(~np.isfinite(r))[0])
            raise ValueError(
                f"reward: expected finite rewards, got {r[i - first]} from env {i} at step {t} of the "
                f"rollout (vector step {self.total_steps // self.num_envs + 1} since the start)"
            )
        returns, lengths = self._returns[rows], self._lengths[rows]  # views
        returns += r
        lengths += 1
        self.total_steps += len(r)
        for env in np.flatnonzero(ended):
            self.episode_returns.append(float(returns[env]))
            self.episode_lengths.append(int(lengths[env]))
            self.episode_envs.append(first + int(env))
        returns[ended] = 0.0
        lengths[ended] = 0
        return r


def _concatenate(chunks: list[Rollout]) -> Rollout:
    """Successive rollouts as one, along the time axis."""
    if len(chunks) == 1:
        return chunks[0]
    def joined(field: str) -> np.ndarray:
        return np.concatenate([getattr(c, field) for c in chunks])

    return Rollout(joined("S"), joined("A"), joined("R"), joined("terminated"), joined("truncated"),
                   joined("S_next"), {k: np.concatenate([c.info[k] for c in chunks]) for k in chunks[0].info},
                   chunks[-1].S_last)


def _check_vector_env(vector_env: Any) -> tuple[tuple[int, ...], np.dtype]:
    """Check that ``vector_env`` is one :func:`make_vector_env` makes; return its observation
    shape and the dtype rollouts keep observations in."""
    if not isinstance(vector_env, VectorEnv):
        raise TypeError(
            "vector_env: expected a gymnasium.vector.VectorEnv (see plugrl.samplers."
            f"make_vector_env), got {type(vector_env).__name__}"
        )
    mode = vector_env.metadata.get("autoreset_mode")
    if mode != AutoresetMode.SAME_STEP:
        raise ValueError(
            f"vector_env: expected autoreset_mode={AutoresetMode.SAME_STEP}, got {mode!r}; "
            "create it with plugrl.samplers.make_vector_env"
        )
    space = vector_env.single_observation_space
    if isinstance(space, (spaces.Dict, spaces.Tuple)) or space.shape is None:
        raise TypeError(
            f"vector_env: expected an observation space with array observations, got {space}"
        )
    dtype = np.dtype(np.uint8) if space.dtype == np.uint8 else np.dtype(np.float32)
    return tuple(space.shape), dtype


def _call_act(act: Act, S_t: np.ndarray, N: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Call the policy and check that its outputs are batches of ``N``."""
    out = act(S_t)
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict)):
        raise TypeError(
            f"act: expected to return a pair (A, info) with info a dict, got {type(out).__name__}"
        )
    a = np.asarray(out[0])
    info = {k: np.asarray(v) for k, v in out[1].items()}
    for name, x in (("A", a), *((f"info[{k!r}]", v) for k, v in info.items())):
        if x.ndim == 0 or x.shape[0] != N:
            raise ValueError(
                f"act: expected {name} with a leading axis of size num_envs={N}, got shape {x.shape}"
            )
    return a, info


def _store_info(info: dict[str, np.ndarray], step_info: dict[str, np.ndarray], t: int) -> None:
    if step_info.keys() != info.keys():
        raise ValueError(
            f"act: expected the same info keys at every step, {sorted(info)}, got "
            f"{sorted(step_info)} at step {t}"
        )
    for k, v in step_info.items():
        info[k][t] = v


def _patch_final_obs(S_next_t: np.ndarray, env_info: dict[str, Any], ended: np.ndarray) -> None:
    """Replace reset observations by the final ones where an episode ended (same-step autoreset).
    Gymnasium's vector envs mark them in ``info["_final_obs"]``; ale-py's give ``final_obs``
    without the mask, for the envs whose episodes ``ended``."""
    if "final_obs" not in env_info:
        return
    mask = env_info.get("_final_obs", ended)
    final_obs = env_info["final_obs"]
    for i in np.flatnonzero(mask):  # an object array of per-env observations: no vector form
        S_next_t[i] = final_obs[i]
