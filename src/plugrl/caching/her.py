r"""Hindsight Experience Replay for off-policy agents, as Stable-Baselines3's ``HerReplayBuffer``.

Transitions of goal-conditioned environments (Gymnasium's convention: ``Dict`` observations with
``observation``, ``achieved_goal`` and ``desired_goal``, and a vectorised
``compute_reward(achieved_goal, desired_goal, info)``) are stored whole, episode by episode, and
a sampled batch is partly *relabelled*: its transitions get a goal achieved later in their own
episode, and the reward that goal would have earned (Andrychowicz et al., 2017).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from plugrl.caching._checks import check_action_space, check_gamma, check_positive_int, unknown_action
from plugrl.caching._replay_state import check_mapping, check_same, generator_from_state
from plugrl.caching.goals import GoalLayout, dict_space, goal_layout, goal_method
from plugrl.caching.replay import ReplayBatch, _action_spec, _split_batches

__all__ = ["GOAL_SELECTION_STRATEGIES", "GoalLayout", "HerReplayBuffer", "goal_layout"]

#: Where a relabelled transition's goal comes from: a step at or after it in its episode
#: (``"future"``), the episode's last step (``"final"``) or any of its steps (``"episode"``).
GOAL_SELECTION_STRATEGIES = ("future", "final", "episode")


class HerReplayBuffer:
    r"""A replay buffer that relabels goals in hindsight (Stable-Baselines3's ``HerReplayBuffer``).

    Observations are stored flat (``spaces.flatten`` of the ``Dict``: what plugrl's agents see,
    see :func:`~plugrl.samplers.flatten_structured_observations`), with the next observation of
    every step (the final one where an episode ends). An episode's steps become sampleable when
    it ends (terminated or truncated). A batch of :math:`B` transitions is drawn uniformly from
    them; its first :math:`\lfloor B\,k/(k+1) \rfloor` (``k = n_sampled_goal``, SB3's
    ``her_ratio``) are relabelled: goal :math:`g'` is the *next* achieved goal of a step of
    the same episode chosen by ``goal_selection_strategy`` (``"future"``: a step :math:`j \ge t`,
    inclusive as in SB3; ``"final"``: the last; ``"episode"``: any), it replaces
    ``desired_goal`` in ``S`` and ``S_next``, and :math:`r_t = ` ``compute_reward(achieved_goal
    of S_next, g', info)``.

    Episode ends: a truncated step bootstraps from its final observation
    (:math:`I_t = \gamma`), a terminated one does not (:math:`I_t = 0`). For relabelled steps,
    termination is recomputed with the env's ``compute_terminated(achieved, g', info)``
    (``gymnasium_robotics``' ``GoalEnv`` method) where the env has one; otherwise the stored flag
    is kept, as SB3 always does (SB3 does not recompute it). One-step returns only
    (:math:`R_t = r_t`), as SB3's.

    Parameters
    ----------
    env : gymnasium.Env
        A goal-conditioned env (possibly wrapped, e.g. flattened): its ``Dict`` observation
        space, its ``action_space`` and its ``compute_reward`` (and ``compute_terminated``, if
        it has one) are used.
    capacity : positive int
        Transitions in all (``capacity // num_envs`` per env). When the ring overwrites the
        oldest episode, the whole episode stops being sampleable (as SB3).
    batch_size, gamma, random_seed
        As :class:`~plugrl.caching.ExperienceReplayBuffer`'s.
    n_sampled_goal : positive int, optional
        Relabelled transitions per real one (SB3's name and default, 4).
    goal_selection_strategy : {"future", "final", "episode"}, optional
        SB3's name and default.
    num_envs : positive int, optional
        Environments adding steps side by side (``add(..., env_index=i)`` or :meth:`extend`).
    """

    def __init__(self, env: gym.Env, capacity: int, batch_size: int = 256, gamma: float = 0.99,
                 random_seed: int | None = None, *, n_sampled_goal: int = 4,
                 goal_selection_strategy: str = "future", num_envs: int = 1) -> None:
        if goal_selection_strategy not in GOAL_SELECTION_STRATEGIES:
            raise ValueError(f"goal_selection_strategy: expected one of {list(GOAL_SELECTION_STRATEGIES)}, "
                             f"got {goal_selection_strategy!r}")
        self.layout = goal_layout(dict_space(env))
        self.compute_reward: Callable[..., Any] = goal_method(env, "compute_reward")
        #: The env's ``compute_terminated`` where it has one (None: relabelling keeps the flags).
        self.compute_terminated: Callable[..., Any] | None = getattr(env.unwrapped, "compute_terminated",
                                                                     None)
        self.num_envs = check_positive_int(num_envs, "num_envs")
        self.capacity = check_positive_int(capacity, "capacity") // self.num_envs
        if self.capacity < 1:
            raise ValueError(f"capacity: expected at least num_envs={num_envs}, got {capacity}")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.gamma = check_gamma(gamma)
        self.n_sampled_goal = check_positive_int(n_sampled_goal, "n_sampled_goal")
        self.goal_selection_strategy = goal_selection_strategy
        self.her_ratio = 1.0 - 1.0 / (self.n_sampled_goal + 1)
        self._rng = np.random.default_rng(random_seed)
        self._action_space = check_action_space(env)
        act_shape, act_dtype = _action_spec(self._action_space)
        self._a_unknown = np.asarray(unknown_action(self._action_space, np.zeros(act_shape, act_dtype)))
        E, C, d = self.num_envs, self.capacity, spaces.flatdim(self.layout.space)
        self._arrays = {"S": np.zeros((E, C, d), np.float32), "S_next": np.zeros((E, C, d), np.float32),
                        "A": np.zeros((E, C, *act_shape), act_dtype), "R": np.zeros((E, C), np.float32),
                        "terminated": np.zeros((E, C), bool), "truncated": np.zeros((E, C), bool),
                        "ep_start": np.zeros((E, C), np.int64), "ep_length": np.zeros((E, C), np.int64)}
        self.clear()

    def __repr__(self) -> str:
        return (f"HerReplayBuffer(capacity={self.capacity * self.num_envs}, batch_size={self.batch_size}, "
                f"n_sampled_goal={self.n_sampled_goal}, goal_selection_strategy="
                f"{self.goal_selection_strategy!r}, num_valid={self.num_valid})")

    def __len__(self) -> int:
        """The number of stored transitions, sampleable or not."""
        return int(self._counters["size"].sum())

    @property
    def num_valid(self) -> int:
        """The number of transitions that :meth:`sample` can return now (those of ended episodes)."""
        return int(np.count_nonzero(self._arrays["ep_length"][:, :int(self._counters["size"].max())]))

    def clear(self) -> None:
        """Empty the buffer (the arrays stay allocated)."""
        self._arrays["ep_length"][:] = 0
        # per env: the next slot, the filled size, the open episode's first slot and its length
        self._counters = {name: np.zeros(self.num_envs, np.int64)
                          for name in ("pos", "size", "episode_start", "episode_steps")}

    def end_episode(self) -> None:
        """Abandon every env's open episode: its steps never become sampleable."""
        self._counters["episode_start"][:] = self._counters["pos"]
        self._counters["episode_steps"][:] = 0

    # ------------------------------------------------------------------ adding
    def add(self, s: Any, a: Any, r: float, done: bool | None = None, *, terminated: bool | None = None,
            truncated: bool = False, s_next: Any = None, env_index: int = 0) -> None:
        """Add one step of env ``env_index``: ``s`` and ``s_next`` (always required: its achieved
        goal is what relabelling reads) as ``Dict`` observations or flattened; ``done`` (or
        ``terminated``) and ``truncated`` as in :class:`~plugrl.caching.ExperienceReplayBuffer`."""
        if (done is None) == (terminated is None):
            raise TypeError("done, terminated: expected exactly one of the two")
        if s_next is None:
            raise ValueError("s_next: expected the next observation (HER reads its achieved goal), got None")
        if not 0 <= int(env_index) < self.num_envs:
            raise ValueError(f"env_index: expected an int in [0, {self.num_envs}), got {env_index}")
        ended = bool(done if terminated is None else terminated)
        self._write(np.array([int(env_index)]), self._flat("s", s)[None], np.asarray(a)[None],
                    np.array([r], np.float32), np.array([ended]), np.array([bool(truncated) and not ended]),
                    self._flat("s_next", s_next)[None])

    def extend(self, S: npt.ArrayLike, A: npt.ArrayLike, R: npt.ArrayLike, terminated: npt.ArrayLike,
               truncated: npt.ArrayLike, S_next: npt.ArrayLike) -> None:
        """Add one step of every env at once: flat ``S``, ``S_next`` [num_envs, d], ``A``, ``R``,
        ``terminated``, ``truncated`` [num_envs, ...] (a vector env's step)."""
        S, S_next = np.asarray(S, np.float32), np.asarray(S_next, np.float32)
        d = self._arrays["S"].shape[-1]
        if S.shape != (self.num_envs, d) or S_next.shape != S.shape:
            raise ValueError(f"S, S_next: expected shape {(self.num_envs, d)}, got {S.shape} and "
                             f"{S_next.shape}")
        term = np.asarray(terminated, bool)
        self._write(np.arange(self.num_envs), S, np.asarray(A), np.asarray(R, np.float32), term,
                    np.asarray(truncated, bool) & ~term, S_next)

    def _flat(self, name: str, x: Any) -> np.ndarray:
        if isinstance(x, Mapping):
            return np.asarray(spaces.flatten(self.layout.space, x), np.float32)
        flat = np.asarray(x, np.float32)
        if flat.shape != self._arrays["S"].shape[-1:]:
            raise ValueError(f"{name}: expected a Dict observation or a flat one of shape "
                             f"{self._arrays['S'].shape[-1:]}, got shape {flat.shape}")
        return flat

    def _write(self, E: np.ndarray, S: np.ndarray, A: np.ndarray, R: np.ndarray, terminated: np.ndarray,
               truncated: np.ndarray, S_next: np.ndarray) -> None:
        """Write one step of each env in ``E`` at its ring position; close the episodes that end."""
        c, x = self._counters, self._arrays
        if (c["episode_steps"][E] >= self.capacity).any():
            raise ValueError(f"capacity: expected room for a whole episode ({self.capacity} steps per "
                             "env), got a longer episode; raise memory_size")
        p = c["pos"][E]
        for e, slot in zip(E[x["ep_length"][E, p] > 0], p[x["ep_length"][E, p] > 0]):
            # overwriting the oldest episode: none of it is sampleable any more (SB3)
            length = x["ep_length"][e, slot]
            x["ep_length"][e, (x["ep_start"][e, slot] + np.arange(length)) % self.capacity] = 0
        for name, value in (("S", S), ("S_next", S_next), ("A", A), ("R", R),
                            ("terminated", terminated), ("truncated", truncated)):
            x[name][E, p] = value
        x["ep_start"][E, p] = c["episode_start"][E]
        c["pos"][E] = (p + 1) % self.capacity
        c["size"][E] = np.minimum(c["size"][E] + 1, self.capacity)
        c["episode_steps"][E] += 1
        for e in E[terminated | truncated]:
            length = c["episode_steps"][e]
            x["ep_length"][e, (c["episode_start"][e] + np.arange(length)) % self.capacity] = length
            c["episode_start"][e], c["episode_steps"][e] = c["pos"][e], 0

    # ------------------------------------------------------------------ sampling
    def sample(self, num_batches: int | None = None) -> ReplayBatch:
        """``batch_size`` transitions (``[num_batches, batch_size, ...]`` with ``num_batches``),
        the first ``int(her_ratio * batch_size)`` of each batch relabelled: ``(S, A, Rn, In,
        S_next, A_next)`` as :meth:`ExperienceReplayBuffer.sample`, ``Rn`` the one-step reward
        and ``A_next`` the unknown-action marker (-1 or NaN: the next action is not stored).

        Raises
        ------
        ValueError
            If fewer than ``batch_size`` transitions are sampleable (episodes must end first).
        """
        k = 1 if num_batches is None else check_positive_int(num_batches, "num_batches")
        filled = int(self._counters["size"].max())  # the slots in use: all of them once full
        valid = np.flatnonzero(self._arrays["ep_length"][:, :filled])
        if valid.size < self.batch_size:
            raise ValueError(f"batch_size: expected at most the number of sampleable transitions (of "
                             f"ended episodes), {valid.size} (of {len(self)} stored), got {self.batch_size}")
        n = k * self.batch_size
        env, slot = np.divmod(valid[self._rng.integers(valid.size, size=n)], filled)
        u = self._rng.random(n)  # one draw per transition: the goal's place in its episode
        relabel = np.tile(np.arange(self.batch_size) < int(self.her_ratio * self.batch_size), k)
        batch = self.relabelled(env, slot, relabel, u)
        return batch if num_batches is None else _split_batches(batch, k)

    def relabelled(self, env: np.ndarray, slot: np.ndarray, relabel: np.ndarray,
                   u: np.ndarray) -> ReplayBatch:
        """The transitions at ``(env, slot)``, those where ``relabel`` is true with the goal of the
        step that the uniform draws ``u`` in [0, 1) pick by the strategy (see the class)."""
        x, layout = self._arrays, self.layout
        start, length = x["ep_start"][env, slot], x["ep_length"][env, slot]
        offset = (slot - start) % self.capacity
        if self.goal_selection_strategy == "future":
            chosen = offset + np.floor(u * (length - offset)).astype(np.int64)
        elif self.goal_selection_strategy == "final":
            chosen = length - 1
        else:
            chosen = np.floor(u * length).astype(np.int64)
        goal_slot = (start + chosen) % self.capacity
        S, S_next = x["S"][env, slot], x["S_next"][env, slot]
        R, terminated = x["R"][env, slot], x["terminated"][env, slot]
        G = x["S_next"][env[relabel], goal_slot[relabel]][:, layout.achieved]
        S[relabel, layout.desired] = G
        S_next[relabel, layout.desired] = G
        if relabel.any():
            achieved, desired = layout.goals(S_next[relabel], layout.achieved), layout.goals(G, slice(None))
            infos: list[dict[str, Any]] = [{}] * len(G)  # SB3's copy_info_dict=False: empty infos
            R[relabel] = np.asarray(self.compute_reward(achieved, desired, infos), np.float32)
            if self.compute_terminated is not None:
                terminated[relabel] = np.asarray(self.compute_terminated(achieved, desired, infos), bool)
        In = np.where(terminated, 0.0, self.gamma).astype(np.float32)
        A_next = np.broadcast_to(self._a_unknown, x["A"][env, slot].shape).copy()
        return S, x["A"][env, slot], R, In, S_next, A_next

    # ------------------------------------------------------------------ checkpoints
    def state(self, *, copy: bool = True) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The contents (arrays ``[num_envs, filled size, ...]``), counters, configuration and
        generator state, for a checkpoint (see :meth:`load_state`)."""
        size = int(self._counters["size"].max())
        arrays = {name: x[:, :size].copy() if copy else x[:, :size] for name, x in self._arrays.items()}
        meta = {"config": self._config(), "batch_size": self.batch_size,
                "counters": {k: v.tolist() for k, v in self._counters.items()},
                "rng": self._rng.bit_generator.state}
        return arrays, meta

    def load_state(self, arrays: Mapping[str, npt.ArrayLike], meta: Mapping[str, Any]) -> None:
        """Restore what :meth:`state` saved; after it the next :meth:`sample` draws the same batch.

        Raises
        ------
        ValueError, TypeError
            If the configuration differs or an array has another dtype or shape; the buffer is
            then left unchanged.
        """
        check_mapping(meta, "meta", ["config", "batch_size", "counters", "rng"])
        check_same(self._config(), meta["config"], "meta['config']")
        check_mapping(arrays, "arrays", list(self._arrays))
        counters = {k: np.asarray(meta["counters"][k], np.int64) for k in self._counters}
        size = int(counters["size"].max())
        restored = {name: np.asarray(arrays[name]) for name in self._arrays}
        for name, x in self._arrays.items():
            shape = (self.num_envs, size, *x.shape[2:])
            if restored[name].shape != shape or restored[name].dtype != x.dtype:
                raise ValueError(f"arrays['{name}']: expected {x.dtype} of shape {shape}, got "
                                 f"{restored[name].dtype} of shape {restored[name].shape}")
        rng = generator_from_state(meta["rng"])
        self.clear()
        for name, x in self._arrays.items():
            x[:, :size] = restored[name]
        self._counters, self._rng = counters, rng
        self.batch_size = check_positive_int(meta["batch_size"], "meta['batch_size']")

    def _config(self) -> dict[str, Any]:
        return {"capacity": self.capacity, "num_envs": self.num_envs, "gamma": self.gamma,
                "n_sampled_goal": self.n_sampled_goal,
                "goal_selection_strategy": self.goal_selection_strategy,
                "observation_size": int(self._arrays["S"].shape[-1]),
                "action_shape": list(self._arrays["A"].shape[2:])}
