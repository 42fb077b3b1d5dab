"""Experience replay: a preallocated NumPy ring buffer with n-step returns built at sampling time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from plugrl.caching import _replay_state as checks
from plugrl.caching._checks import (
    check_action_space,
    check_flag,
    check_gamma,
    check_positive_int,
    check_reward,
    check_terminated,
    unknown_action,
)
from plugrl.caching.frames import FINAL, PAD, STEP, FrameLayout, infer_frame_stack_axis

__all__ = ["ExperienceReplayBuffer"]

ReplayBatch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
BufferState = tuple[dict[str, np.ndarray], dict[str, Any]]
_Batch = TypeVar("_Batch", bound=tuple[np.ndarray, ...])


class ExperienceReplayBuffer:
    r"""A uniform experience replay buffer with n-step bootstrapping.

    Each time step is stored **once**, in preallocated arrays used as a ring buffer:
    the observation :math:`s_t` (in the observation space's dtype, so uint8 frames stay uint8),
    the action :math:`a_t`, the reward :math:`r_t` and the episode-end flags. ``S_next`` is
    looked up by index when sampling, so observations are not stored twice. A slot costs
    ``frame.nbytes + action.nbytes + 16`` bytes (float32 reward, int64 episode index, four
    bool/int8 flags). A truncated episode uses one extra slot for its final observation.

    **Stacked frames** (``frame_stack_axis``): observations made of :math:`k` frames stacked
    along that axis (``(84, 84, 4)`` with axis ``-1``, or ``(4, 84, 84)`` from Gymnasium's
    ``FrameStackObservation`` with axis ``0``) share :math:`k - 1` frames with the previous
    step, so a slot holds only the newest frame and :meth:`sample` rebuilds exact stacks from
    consecutive slots (:class:`~plugrl.caching.frames.FrameLayout`). An episode's first
    observation also writes its :math:`k - 1` older frames, one slot each. :meth:`add` checks
    that every later observation's older frames equal the stored ones (a ``ValueError``
    otherwise), so the rebuilt stacks are exact whatever padding the env uses. A step can be
    sampled only while all :math:`k` frames of its observation are stored; when the ring
    overwrites a slot, the :math:`k - 1` steps that use its frame stop being sampleable.
    Measured: ``capacity=1_000_000`` with ``(84, 84, 4)`` uint8 observations and a
    ``Discrete`` action gives ``nbytes`` = 7_080_000_000 (7.08 GB: 7056 bytes for the frame
    plus 24 per slot, 1.003 times 1M x 84 x 84 bytes; whole stacks would take 28.2 GB), and
    filling 200k slots with 1000-step episodes grew the process by 7087 bytes per slot.

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
        The number of slots before the oldest are overwritten (at least the stack size).
    batch_size : positive int, optional
        The batch size of :meth:`sample`.
    bootstrap_n : positive int, optional
        The number of steps :math:`n` over which to bootstrap.
    gamma : float in [0, 1], optional
        The discount factor :math:`\gamma`.
    random_seed : int or None, optional
        Seed of the buffer's own ``numpy.random.Generator`` (no global RNG is used).
    frame_stack_axis : int, None or "auto", optional
        The axis of ``observation_space.shape`` along which frames are stacked; None stores
        whole observations; ``"auto"`` (keras-gym's "infers num_frames") reads it from the
        env's wrappers (:func:`~plugrl.caching.frames.infer_frame_stack_axis`: plugrl's
        ``FrameStacker``, Gymnasium's ``FrameStackObservation``, the Atari vector env), and
        stores whole observations if they say nothing.
    """

    def __init__(self, env: Any, capacity: int, batch_size: int = 32, bootstrap_n: int = 1,
                 gamma: float = 0.99, random_seed: int | None = None, *,
                 frame_stack_axis: int | None | str = "auto") -> None:
        self.env = env
        self.capacity = check_positive_int(capacity, "capacity")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.bootstrap_n = check_positive_int(bootstrap_n, "bootstrap_n")
        self.gamma = check_gamma(gamma)
        if isinstance(frame_stack_axis, str):
            if frame_stack_axis != "auto":
                raise ValueError(f"frame_stack_axis: expected an int, None or 'auto', "
                                 f"got {frame_stack_axis!r}")
            frame_stack_axis = infer_frame_stack_axis(env)
        self.random_seed, self.frame_stack_axis = random_seed, frame_stack_axis
        self._rng = np.random.default_rng(random_seed)
        self._discounts = self.gamma ** np.arange(self.bootstrap_n + 1, dtype=np.float64)
        self._action_space = check_action_space(env)
        self._layout = FrameLayout.from_space(getattr(env, "observation_space", None),
                                              frame_stack_axis)
        if self.capacity < self._layout.k:
            raise ValueError(f"capacity: expected at least the {self._layout.k} frames of one "
                             f"observation, got {self.capacity}")
        act_shape, act_dtype = _action_spec(self._action_space)
        self._a_unknown = unknown_action(self._action_space, np.zeros(act_shape, act_dtype))
        cap = self.capacity
        self._S = np.zeros((cap, *self._layout.frame_shape), self._layout.dtype)
        self._A: np.ndarray = np.zeros((cap, *act_shape), act_dtype)
        self._R = np.zeros(cap, np.float32)
        self._episode = np.zeros(cap, np.int64)
        self._terminated = np.zeros(cap, bool)
        self._truncated = np.zeros(cap, bool)
        self._kind = np.zeros(cap, np.int8)  # STEP, FINAL or PAD
        self._valid = np.zeros(cap, bool)  # slot starts a complete n-step window
        self.clear()

    @classmethod
    def from_value_function(cls, value_function: Any, capacity: int, batch_size: int = 32, *,
                            frame_stack_axis: int | None | str = "auto",
                            random_seed: int | None = None) -> ExperienceReplayBuffer:
        """Create a buffer with ``env``, ``gamma`` and ``bootstrap_n`` taken from a value function.

        Parameters
        ----------
        value_function : value-function object
            Anything with ``env``, ``gamma`` and ``bootstrap_n`` attributes (e.g. ``QTypeII``).
        capacity : positive int
            The capacity of the buffer.
        batch_size : positive int, optional
            The batch size of :meth:`sample`.
        frame_stack_axis : int or None, optional
            As in the constructor.
        random_seed : int or None, optional
            Seed of the buffer's sampling, as in the constructor.
        """
        for attr in ("env", "gamma", "bootstrap_n"):
            if not hasattr(value_function, attr):
                raise TypeError(f"value_function: expected an object with an '{attr}' attribute, "
                                f"got {type(value_function).__name__}")
        return cls(value_function.env, capacity, batch_size=batch_size,
                   bootstrap_n=value_function.bootstrap_n, gamma=value_function.gamma,
                   random_seed=random_seed, frame_stack_axis=frame_stack_axis)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(capacity={self.capacity}, batch_size={self.batch_size}, "
                f"bootstrap_n={self.bootstrap_n}, gamma={self.gamma}, len={len(self)})")

    def __len__(self) -> int:
        """The number of stored transitions (time steps), sampleable or not."""
        return self._size - self._num_extra

    @property
    def is_full(self) -> bool:
        """Whether every slot is in use, so that the next :meth:`add` overwrites the oldest.

        Test this, not ``len(buffer) >= buffer.capacity``, to empty the buffer once it is full
        (keras-gym's PPO loop: fill, update, :meth:`clear`). An episode's older first frames
        (with ``frame_stack_axis``) and a truncated episode's final observation take slots of
        their own, so the ring is full while ``len(buffer) < capacity``, and ``len`` reaches
        ``capacity`` only once the oldest slots up to the newest such extra one are
        overwritten: after an episode boundary, every step stored before the new episode began.
        """
        return self._size == self.capacity

    @property
    def num_valid(self) -> int:
        """The number of transitions that :meth:`sample` can return now."""
        return self._num_valid

    @property
    def nbytes(self) -> int:
        """The bytes held by the preallocated arrays."""
        return sum(x.nbytes for x in self._slot_arrays().values())

    def clear(self) -> None:
        """Empty the buffer (the arrays stay allocated)."""
        self._valid[:] = False
        self._kind[:] = STEP
        self._next, self._size, self._num_extra, self._num_valid = 0, 0, 0, 0
        self._episode_count, self._episode_open = 0, False
        self._last_episode_id: Any = None

    def end_episode(self) -> None:
        """End the current episode where it stands, as a new ``episode_id`` would: the next
        :meth:`add` starts an episode, and the last steps of this one, whose n-step windows stay
        incomplete, never become sampleable. For an episode the environment abandoned, such as
        one a checkpoint of ale-py's vector env could not replay."""
        self._episode_open = False

    def add(self, s: npt.ArrayLike, a: Any, r: float, done: bool | None = None,
            episode_id: Any = None, *, terminated: bool | None = None, truncated: bool = False,
            s_next: npt.ArrayLike | None = None) -> None:
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
            Whether the episode *terminated* at this step (no bootstrapping past it): Gymnasium's
            ``terminated``, **not** ``terminated or truncated``. Equivalently pass
            ``terminated=`` by keyword (one of the two, not both).
        episode_id : hashable, optional
            The seed's episode marker: a change of id starts a new episode even if the
            previous one did not end (its last steps then never become sampleable). With
            ``None``, a new episode starts after each ``done`` or ``truncated``.
        terminated : bool, optional (keyword)
            Gymnasium's name for ``done``: ``add(s, a, r, terminated=terminated,
            truncated=truncated, s_next=s_next)`` is ``add(s, a, r, terminated,
            truncated=truncated, s_next=s_next)``.
        truncated : bool, optional
            Whether the episode was cut short here; it bootstraps from ``s_next``. Ignored
            when ``done`` is true.
        s_next : array-like, optional
            The final observation, required when ``truncated`` and not ``done``.

        Raises
        ------
        ValueError, TypeError
            If an argument is invalid, or (with ``frame_stack_axis``) if the older frames of
            ``s`` or ``s_next`` differ from the episode's stored frames; the buffer is then
            left unchanged.
        """
        r = check_reward(r)
        done = check_terminated(done, terminated)
        truncated = check_flag("truncated", truncated) and not done
        frames = self._layout.frames(self._layout.check("s", s))
        a = self.check_action(a)
        continues = self._episode_open and (episode_id is None or episode_id == self._last_episode_id)
        if continues:
            recent = (self._next - np.arange(self._layout.k - 1, 0, -1)) % self.capacity
            self._layout.check_continues("s", frames[:-1], self._S[recent])
        final = self._final_frame(s_next, frames) if truncated else None
        # Every check has passed: from here on the buffer changes.
        if not continues:
            self._episode_count += 1
            for frame in frames[:-1]:
                self._write(frame, self._a_unknown, 0.0, False, False, PAD)
        if episode_id is not None:
            self._last_episode_id = episode_id
        p = self._write(frames[-1], a, r, done, truncated, STEP)
        self._complete_windows(p, ended=done or truncated)
        if final is not None:
            self._write(final, self._a_unknown, 0.0, False, False, FINAL)
        self._episode_open = not (done or truncated)

    def sample(self, num_batches: int | None = None) -> ReplayBatch:
        r"""Sample a batch of ``batch_size`` transitions, uniformly with replacement.

        Parameters
        ----------
        num_batches : positive int, optional
            Draw this many batches at once (for several gradient steps); every array then has
            the leading axes ``[num_batches, batch_size]``.

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
        k = 1 if num_batches is None else check_positive_int(num_batches, "num_batches")
        self._check_enough(self.batch_size)
        batch = self._batch(self._sample_uniform(k * self.batch_size))
        return batch if num_batches is None else _split_batches(batch, k)

    @property
    def sampling_weight(self) -> float:
        """How much of the sampling mass this buffer holds: its number of sampleable
        transitions (a prioritized buffer: its total priority). Used by
        :class:`~plugrl.caching.ReplayStreams` to pick a stream."""
        return float(self._num_valid)

    def sample_slots(self, k: int) -> np.ndarray:
        """``k`` slots drawn as :meth:`sample` draws them (here uniformly, with replacement,
        from the sampleable ones); :meth:`batch_at` gives their fields."""
        self._check_enough(1)
        return self._sample_uniform(k)

    def batch_at(self, slots: np.ndarray) -> ReplayBatch:
        """``(S, A, Rn, In, S_next, A_next)`` of sampleable ``slots``, as :meth:`sample` returns
        them."""
        return self._batch(np.asarray(slots, np.int64))

    def state(self, *, copy: bool = True) -> BufferState:
        """The buffer's contents and counters, for a checkpoint; see :meth:`load_state`.

        Parameters
        ----------
        copy : bool, optional
            Whether to copy the arrays; without a copy they are read-only views that the next
            :meth:`add` may change (save them before adding).

        Returns
        -------
        arrays : dict of str to ndarray
            The slot arrays up to the filled size (``S`` holds frames with
            ``frame_stack_axis``), each of shape ``[size, ...]``.
        meta : dict
            JSON-serialisable: the format, the configuration, ``batch_size``, the ring
            counters, the open episode and the generator state (``rng.bit_generator.state``).

        Raises
        ------
        TypeError
            If the last ``episode_id`` is not a JSON scalar (None, bool, int, float, str).
        """
        arrays = {}
        for name, x in self._slot_arrays().items():
            arrays[name] = x[:self._size].copy() if copy else x[:self._size]
            arrays[name].flags.writeable = copy
        counters = {"next": self._next, "size": self._size, "num_extra": self._num_extra,
                    "num_valid": self._num_valid, "episode_count": self._episode_count}
        meta = {"format": checks.STATE_FORMAT, "config": self._config(),
                "batch_size": self.batch_size, "counters": counters, "episode_open": self._episode_open,
                "last_episode_id": checks.json_scalar(self._last_episode_id, "episode_id"),
                "rng": self._rng.bit_generator.state}
        return arrays, meta

    def load_state(self, arrays: Mapping[str, npt.ArrayLike], meta: Mapping[str, Any]) -> None:
        """Restore the contents, counters, ``batch_size`` and generator saved by :meth:`state`.

        After the round trip the buffer behaves exactly as the saved one: the next
        :meth:`sample` draws the same batch.

        Parameters
        ----------
        arrays, meta
            As returned by :meth:`state` (``meta`` may have gone through JSON).

        Raises
        ------
        ValueError, TypeError
            If the configuration differs from this buffer's (capacity, n, gamma, frame
            stacking, observation and action specs) or an array has the wrong dtype or shape
            or disagrees with the counters; the buffer is then left unchanged.
        """
        self._apply_state(self.check_state(arrays, meta))

    def check_state(self, arrays: Any, meta: Any) -> dict[str, Any]:
        """Validate a saved state; return what :meth:`_apply_state` restores."""
        return checks.check_state(arrays, meta, self._config(), self._slot_arrays())

    def _apply_state(self, restored: dict[str, Any]) -> None:
        """Restore a state validated by :meth:`check_state` (this cannot fail)."""
        size, counters = restored["counters"]["size"], restored["counters"]
        for name, x in self._slot_arrays().items():
            x[:size] = restored["slots"][name]
            if name != "S":  # frames past the filled size are never read
                x[size:] = 0
        self._next, self._size = counters["next"], size
        self._num_extra, self._num_valid = counters["num_extra"], counters["num_valid"]
        self._episode_count = counters["episode_count"]
        self.batch_size, self._rng = restored["batch_size"], restored["rng"]
        self._episode_open = restored["episode_open"]
        self._last_episode_id = restored["last_episode_id"]
        self._on_load(restored)

    def _slot_arrays(self) -> dict[str, np.ndarray]:
        """The preallocated per-slot arrays, by their name in :meth:`state`."""
        return {"S": self._S, "A": self._A, "R": self._R, "episode": self._episode,
                "terminated": self._terminated, "truncated": self._truncated,
                "kind": self._kind, "valid": self._valid}

    def _config(self) -> dict[str, Any]:
        """What a restored state must agree with."""
        layout = self._layout
        return {"capacity": self.capacity, "bootstrap_n": self.bootstrap_n, "gamma": self.gamma,
                "frame_stack_axis": layout.axis, "observation_shape": list(layout.obs_shape),
                "observation_dtype": str(layout.dtype), "action_shape": list(self._A.shape[1:]),
                "action_dtype": str(self._A.dtype)}

    def check_action(self, a: Any) -> np.ndarray:
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

    def _final_frame(self, s_next: npt.ArrayLike | None, frames: np.ndarray) -> np.ndarray:
        """The newest frame of a truncated episode's final observation, checked against ``s``."""
        if s_next is None:
            raise ValueError("s_next: expected the final observation when truncated=True "
                             "and done=False, got None")
        final = self._layout.frames(self._layout.check("s_next", s_next))
        self._layout.check_continues("s_next", final[:-1], frames[1:])
        return final[-1]

    def _write(self, frame: np.ndarray, a: Any, r: float, terminated: bool, truncated: bool,
               kind: int) -> int:
        """Write one slot at the ring's head, evicting the oldest slot if full."""
        p = self._next
        # The oldest k slots lose a frame of their observation's stack.
        stale = (p + np.arange(self._layout.k)) % self.capacity
        stale = stale[self._valid[stale]]
        if stale.size:
            self._set_invalid(stale)
        self._num_extra += int(kind != STEP) - int(self._kind[p] != STEP)
        self._S[p], self._A[p], self._R[p] = frame, a, r
        self._episode[p] = self._episode_count
        self._terminated[p], self._truncated[p], self._kind[p] = terminated, truncated, kind
        self._next = (p + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)
        return p

    def _complete_windows(self, p: int, ended: bool) -> None:
        """Mark the steps whose n-step window the step just written at ``p`` completes."""
        n, k = self.bootstrap_n, self._layout.k
        back = np.arange(n + 1) if ended else np.array([n])
        back = back[back + k - 1 < self._size]  # the whole stack of the step is still stored
        slots = (p - back) % self.capacity
        same_episode = (self._episode[slots] == self._episode[p]) & (self._kind[slots] == STEP)
        slots = slots[same_episode & ~self._valid[slots]]
        if slots.size:
            self._valid[slots] = True
            self._num_valid += slots.size
            self._on_valid(slots)

    def _set_invalid(self, slots: np.ndarray) -> None:
        self._valid[slots] = False
        self._num_valid -= slots.size
        self._on_invalid(slots)

    def _on_valid(self, slots: np.ndarray) -> None:
        """Hook: ``slots`` just became sampleable."""

    def _on_invalid(self, slots: np.ndarray) -> None:
        """Hook: ``slots`` are about to lose a frame or be overwritten."""

    def _on_load(self, restored: dict[str, Any]) -> None:
        """Hook: the state ``restored`` (from :meth:`check_state`) was just loaded."""

    def _check_enough(self, k: int) -> None:
        if k > self._num_valid:
            raise ValueError(f"batch_size: expected at most the number of sampleable transitions, "
                             f"{self._num_valid} (of {len(self)} stored), got {k}")

    def _sample_uniform(self, k: int) -> np.ndarray:
        """Slots drawn uniformly from the valid ones, by rejection (valid slots are the vast majority)."""
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
        return (self._layout.stacks(self._S, idx), self._A[idx], Rn.astype(np.float32),
                In.astype(np.float32), self._layout.stacks(self._S, nxt), self._A[nxt])


def _action_spec(space: spaces.Space[Any]) -> tuple[tuple[int, ...], type]:
    """The shape and dtype in which the actions of ``space`` are stored."""
    if isinstance(space, spaces.Discrete):
        return (), np.int64
    if isinstance(space, spaces.Box):
        return tuple(space.shape), np.float32
    raise TypeError(f"env: expected a Discrete or Box action_space, got {space}")


def _split_batches(batch: _Batch, k: int) -> _Batch:
    """Arrays of ``k * batch_size`` samples as ``[k, batch_size, ...]``."""
    # The same number of arrays, each still an array: the batch keeps its tuple type.
    return cast(_Batch, tuple(x.reshape(k, -1, *x.shape[1:]) for x in batch))
