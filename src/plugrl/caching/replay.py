"""Experience replay: a preallocated NumPy ring buffer with n-step returns built at sampling time."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from plugrl.caching._checks import (
    check_action_space,
    check_flag,
    check_gamma,
    check_positive_int,
    check_reward,
    unknown_action,
)

__all__ = ["ExperienceReplayBuffer"]

ReplayBatch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class ExperienceReplayBuffer:
    r"""A uniform experience replay buffer with n-step bootstrapping.

    Each time step is stored **once**, in preallocated arrays used as a ring buffer:
    the observation :math:`s_t` (in the observation space's dtype, so uint8 frames stay uint8),
    the action :math:`a_t`, the reward :math:`r_t` and the episode-end flags. ``S_next`` is
    looked up by index when sampling, so observations are not stored twice. A stored step
    costs ``obs.nbytes + action.nbytes + 16`` bytes (float32 reward, int64 episode index, four
    bool flags); for 84x84 uint8 frames and a ``Discrete`` action that is
    :math:`7056 + 8 + 16 = 7080` bytes. A truncated episode uses one extra slot for its final
    observation.

    For a sampled step :math:`t`, with :math:`m = n` or the number of steps left until the
    episode ends, whichever is smaller,

    .. math::

        R^{(n)}_t = \sum_{k=0}^{m-1} \gamma^k\, r_{t+k}, \qquad
        I^{(n)}_t = \begin{cases} 0 & \text{terminated within the } n \text{ steps} \\
        \gamma^m & \text{otherwise (ongoing or truncated)} \end{cases}

    ``S_next`` is :math:`s_{t+m}` (the final observation for a truncation) and ``A_next`` is
    :math:`a_{t+m}`; after a truncation the next action is unknown and ``A_next`` holds ``-1``
    (``Discrete``) or NaN (``Box``). On termination ``S_next``/``A_next`` are the last step's
    :math:`s_T, a_T`, placeholders that :math:`I^{(n)}_t = 0` cancels (as in
    :class:`~plugrl.caching.NStepCache`). A step can be sampled only once its n-step window is
    complete: ``n`` further steps of the same episode are stored, or the episode ended
    within them. Windows never cross episodes.

    Parameters
    ----------
    env : gymnasium.Env
        Used for ``observation_space`` (shape and dtype of the stored observations) and
        ``action_space`` (``Discrete``: int64 actions, ``Box``: float32 actions).
    capacity : positive int
        The number of stored time steps (slots) before the oldest are overwritten.
    batch_size : positive int, optional
        The batch size of :meth:`sample`.
    bootstrap_n : positive int, optional
        The number of steps :math:`n` over which to bootstrap.
    gamma : float in [0, 1], optional
        The discount factor :math:`\gamma`.
    random_seed : int or None, optional
        Seed of the buffer's own ``numpy.random.Generator`` (no global RNG is used).
    """

    def __init__(self, env: Any, capacity: int, batch_size: int = 32, bootstrap_n: int = 1,
                 gamma: float = 0.99, random_seed: int | None = None) -> None:
        self.env = env
        self.capacity = check_positive_int(capacity, "capacity")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.bootstrap_n = check_positive_int(bootstrap_n, "bootstrap_n")
        self.gamma = check_gamma(gamma)
        self.random_seed = random_seed
        self._rng = np.random.default_rng(random_seed)
        self._discounts = self.gamma ** np.arange(self.bootstrap_n + 1, dtype=np.float64)
        self._action_space = check_action_space(env)
        obs_space = getattr(env, "observation_space", None)
        if not isinstance(obs_space, spaces.Space) or obs_space.shape is None:
            raise TypeError(f"env: expected an observation_space with a shape, got {obs_space!r}")
        self._obs_shape, self._obs_dtype = tuple(obs_space.shape), np.dtype(obs_space.dtype)
        if isinstance(self._action_space, spaces.Discrete):
            act_shape, act_dtype = (), np.int64
        elif isinstance(self._action_space, spaces.Box):
            act_shape, act_dtype = tuple(self._action_space.shape), np.float32
        else:
            raise TypeError(
                f"env: expected a Discrete or Box action_space, got {self._action_space}"
            )
        self._a_unknown = unknown_action(self._action_space, np.zeros(act_shape, act_dtype))
        cap = self.capacity
        self._S = np.zeros((cap, *self._obs_shape), self._obs_dtype)
        self._A = np.zeros((cap, *act_shape), act_dtype)
        self._R = np.zeros(cap, np.float32)
        self._episode = np.zeros(cap, np.int64)
        self._terminated = np.zeros(cap, bool)
        self._truncated = np.zeros(cap, bool)
        self._is_final = np.zeros(cap, bool)  # slot holds a truncated episode's final observation
        self._valid = np.zeros(cap, bool)  # slot starts a complete n-step window
        self.clear()

    @classmethod
    def from_value_function(cls, value_function: Any, capacity: int,
                            batch_size: int = 32) -> ExperienceReplayBuffer:
        """Create a buffer with ``env``, ``gamma`` and ``bootstrap_n`` taken from a value function.

        Parameters
        ----------
        value_function : value-function object
            Anything with ``env``, ``gamma`` and ``bootstrap_n`` attributes (e.g. ``QTypeII``).
        capacity : positive int
            The capacity of the buffer.
        batch_size : positive int, optional
            The batch size of :meth:`sample`.
        """
        for attr in ("env", "gamma", "bootstrap_n"):
            if not hasattr(value_function, attr):
                raise TypeError(f"value_function: expected an object with an '{attr}' attribute, "
                                f"got {type(value_function).__name__}")
        return cls(value_function.env, capacity, batch_size=batch_size,
                   bootstrap_n=value_function.bootstrap_n, gamma=value_function.gamma)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(capacity={self.capacity}, batch_size={self.batch_size}, "
                f"bootstrap_n={self.bootstrap_n}, gamma={self.gamma}, len={len(self)})")

    def __len__(self) -> int:
        """The number of stored transitions (time steps), sampleable or not."""
        return self._size - self._num_final

    @property
    def num_valid(self) -> int:
        """The number of transitions that :meth:`sample` can return now."""
        return self._num_valid

    @property
    def nbytes(self) -> int:
        """The bytes held by the preallocated arrays."""
        arrays = (self._S, self._A, self._R, self._episode, self._terminated, self._truncated,
                  self._is_final, self._valid)
        return sum(x.nbytes for x in arrays)

    def clear(self) -> None:
        """Empty the buffer (the arrays stay allocated)."""
        self._valid[:] = False
        self._is_final[:] = False
        self._next, self._size, self._num_final, self._num_valid = 0, 0, 0, 0
        self._episode_count, self._episode_open = 0, False
        self._last_episode_id: Any = None

    def add(self, s: npt.ArrayLike, a: Any, r: float, done: bool, episode_id: Any = None, *,
            truncated: bool = False, s_next: npt.ArrayLike | None = None) -> None:
        """Add one time step.

        Parameters
        ----------
        s : array-like, shape ``observation_space.shape``
            A single observation :math:`s_t`.
        a : action
            A single action :math:`a_t` in ``action_space``.
        r : float
            A single finite reward :math:`r_t`.
        done : bool
            Whether the episode *terminated* at this step (no bootstrapping past it).
        episode_id : hashable, optional
            The seed's episode marker: a change of id starts a new episode even if the
            previous one did not end (its last steps then never become sampleable). With
            ``None``, a new episode starts after each ``done`` or ``truncated``.
        truncated : bool, optional
            Whether the episode was cut short here; it bootstraps from ``s_next``. Ignored
            when ``done`` is true.
        s_next : array-like, optional
            The final observation, required when ``truncated`` and not ``done``.

        Raises
        ------
        ValueError, TypeError
            If an argument is invalid; the buffer is then left unchanged.
        """
        r = check_reward(r)
        done = check_flag("done", done)
        truncated = check_flag("truncated", truncated) and not done
        s = self._check_observation("s", s)
        a = self._check_action(a)
        if truncated:
            if s_next is None:
                raise ValueError("s_next: expected the final observation when truncated=True "
                                 "and done=False, got None")
            s_final = self._check_observation("s_next", s_next)
        continues = self._episode_open and (episode_id is None or episode_id == self._last_episode_id)
        if not continues:
            self._episode_count += 1
        if episode_id is not None:
            self._last_episode_id = episode_id
        p = self._write(s, a, r, done, truncated, is_final=False)
        self._complete_windows(p, ended=done or truncated)
        if truncated:
            self._write(s_final, self._a_unknown, 0.0, False, False, is_final=True)
        self._episode_open = not (done or truncated)

    def sample(self) -> ReplayBatch:
        r"""Sample a batch of ``batch_size`` transitions, uniformly with replacement.

        Returns
        -------
        S : ndarray, shape ``[batch_size, *obs_shape]``, the observation dtype
            The observations :math:`s_t`.
        A : ndarray, shape ``[batch_size]`` (int64) or ``[batch_size, *action_shape]`` (float32)
            The actions :math:`a_t`.
        Rn : ndarray, float32, shape ``[batch_size]``
            The n-step discounted rewards :math:`R^{(n)}_t`.
        In : ndarray, float32, shape ``[batch_size]``
            The bootstrap factors :math:`I^{(n)}_t`.
        S_next : ndarray, shape ``[batch_size, *obs_shape]``
            The observations to bootstrap from.
        A_next : ndarray, like ``A``
            The next actions, or the unknown-action marker after a truncation.

        Raises
        ------
        ValueError
            If fewer than ``batch_size`` transitions are sampleable.
        """
        return self._batch(self._sample_uniform(self.batch_size))

    def _check_observation(self, name: str, s: npt.ArrayLike) -> np.ndarray:
        arr = np.asarray(s)
        if arr.shape != self._obs_shape:
            raise ValueError(f"{name}: expected an observation of shape {self._obs_shape}, "
                             f"got shape {arr.shape}")
        if not np.can_cast(arr.dtype, self._obs_dtype, casting="same_kind"):
            raise TypeError(f"{name}: expected an observation castable to {self._obs_dtype}, "
                            f"got dtype {arr.dtype}")
        return arr.astype(self._obs_dtype, copy=False)

    def _check_action(self, a: Any) -> np.ndarray:
        arr = np.asarray(a)
        space = self._action_space
        if isinstance(space, spaces.Discrete):
            if arr.shape != () or not np.issubdtype(arr.dtype, np.integer):
                raise TypeError(f"a: expected an int action for {space}, "
                                f"got {arr.dtype} array of shape {arr.shape}")
            if not space.start <= int(arr) < space.start + space.n:
                raise ValueError(f"a: expected an action in [{space.start}, "
                                 f"{space.start + space.n}), got {int(arr)}")
            return arr.astype(np.int64)
        if arr.shape != space.shape:
            raise ValueError(f"a: expected an action of shape {space.shape}, got shape {arr.shape}")
        arr = arr.astype(np.float32)
        if not np.isfinite(arr).all():  # Box bounds are not enforced: policies may sample past them
            raise ValueError(f"a: expected a finite action, got {arr}")
        return arr

    def _write(self, s: np.ndarray, a: Any, r: float, terminated: bool, truncated: bool, *,
               is_final: bool) -> int:
        """Write one slot at the ring's head, evicting the oldest slot if full."""
        p = self._next
        if self._valid[p]:
            self._set_invalid(p)
        self._num_final += int(is_final) - int(self._is_final[p])
        self._S[p], self._A[p], self._R[p] = s, a, r
        self._episode[p] = self._episode_count
        self._terminated[p], self._truncated[p], self._is_final[p] = terminated, truncated, is_final
        self._next = (p + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)
        return p

    def _complete_windows(self, p: int, ended: bool) -> None:
        """Mark the steps whose n-step window the step just written at ``p`` completes."""
        n = self.bootstrap_n
        back = np.arange(n + 1) if ended else np.array([n])
        back = back[back < self._size]
        slots = (p - back) % self.capacity
        slots = slots[(self._episode[slots] == self._episode[p]) & ~self._valid[slots]]
        if slots.size:
            self._valid[slots] = True
            self._num_valid += slots.size
            self._on_valid(slots)

    def _set_invalid(self, p: int) -> None:
        self._valid[p] = False
        self._num_valid -= 1
        self._on_invalid(p)

    def _on_valid(self, slots: np.ndarray) -> None:
        """Hook: ``slots`` just became sampleable."""

    def _on_invalid(self, slot: int) -> None:
        """Hook: ``slot`` is about to be overwritten."""

    def _check_enough(self, k: int) -> None:
        if k > self._num_valid:
            raise ValueError(f"batch_size: expected at most the number of sampleable transitions, "
                             f"{self._num_valid} (of {len(self)} stored), got {k}")

    def _sample_uniform(self, k: int) -> np.ndarray:
        """Slots drawn uniformly from the valid ones, by rejection (valid slots are the vast majority)."""
        self._check_enough(k)
        accepted = np.empty(0, np.int64)
        for _ in range(4):
            draw = (self._next - 1 - self._rng.integers(self._size, size=2 * k)) % self.capacity
            accepted = np.concatenate([accepted, draw[self._valid[draw]]])
            if accepted.size >= k:
                return accepted[:k]
        return self._rng.choice(np.flatnonzero(self._valid), size=k)

    def _batch(self, idx: np.ndarray) -> ReplayBatch:
        """``(S, A, Rn, In, S_next, A_next)`` for the valid slots ``idx``."""
        n, cap = self.bootstrap_n, self.capacity
        window = (idx[:, None] + np.arange(n)) % cap
        ends = self._terminated[window] | self._truncated[window]
        ended = ends.any(axis=1)
        first_end = ends.argmax(axis=1)
        m = np.where(ended, first_end + 1, n)
        in_episode = np.arange(n) < m[:, None]
        Rn = (self._R[window].astype(np.float64) * in_episode) @ self._discounts[:n]
        terminated = ended & self._terminated[(idx + first_end) % cap]
        In = np.where(terminated, 0.0, self._discounts[m])
        nxt = (idx + np.where(terminated, first_end, m)) % cap
        return (self._S[idx], self._A[idx], Rn.astype(np.float32), In.astype(np.float32),
                self._S[nxt], self._A[nxt])
