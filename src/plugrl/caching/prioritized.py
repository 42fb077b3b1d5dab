"""Prioritized experience replay (Schaul et al., 2016) on a vectorised NumPy sum-tree."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from plugrl.caching._replay_state import check_mapping
from plugrl.caching.replay import BufferState, ExperienceReplayBuffer, _split_batches
from plugrl.utils.validation import check_positive_int, check_unit_interval

__all__ = ["PrioritizedReplayBuffer", "SumTree"]

PrioritizedBatch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                         np.ndarray, np.ndarray]


class SumTree:
    """A binary tree of non-negative leaf values whose inner nodes hold the sums of their children.

    Parameters
    ----------
    capacity : positive int
        The number of leaves. Leaf ``i`` is stored at node ``leaf0 + i`` of a heap-ordered array.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._leaf0 = 1 << max(0, (capacity - 1).bit_length())
        self._tree = np.zeros(2 * self._leaf0, np.float64)

    @property
    def total(self) -> float:
        """The sum of all leaf values."""
        return float(self._tree[1])

    def __getitem__(self, idx: npt.ArrayLike) -> np.ndarray:
        return self._tree[self._leaf0 + np.asarray(idx)]

    @property
    def nbytes(self) -> int:
        """The bytes held by the tree's array."""
        return self._tree.nbytes

    @property
    def leaves(self) -> np.ndarray:
        """The leaf values, a view of shape ``[capacity]``."""
        return self._tree[self._leaf0:self._leaf0 + self.capacity]

    def clear(self) -> None:
        self._tree[:] = 0.0

    def rebuild(self) -> None:
        """Recompute every inner node from the leaves (after writing to :attr:`leaves`).

        Inner nodes always equal the sum of their children, so a rebuild reproduces the tree
        bit for bit.
        """
        self._tree[self._leaf0 + self.capacity:] = 0.0
        start = self._leaf0
        while start > 1:
            start //= 2
            node = np.arange(start, 2 * start)
            self._tree[node] = self._tree[2 * node] + self._tree[2 * node + 1]

    def set(self, idx: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Set leaves ``idx`` to ``values`` (finite, >= 0); on error nothing is changed."""
        idx = np.asarray(idx, np.int64).ravel()
        values = np.broadcast_to(np.asarray(values, np.float64), idx.shape)
        if not (np.isfinite(values).all() and (values >= 0).all()):
            raise ValueError(f"values: expected finite priorities >= 0, got {values}")
        if ((idx < 0) | (idx >= self.capacity)).any():
            raise ValueError(f"idx: expected indices in [0, {self.capacity}), got {idx}")
        if idx.size == 0:
            return
        node = idx + self._leaf0
        self._tree[node] = values
        while node[0] > 1:  # all leaves are at the same depth, so one level per pass
            node = np.unique(node // 2)
            self._tree[node] = self._tree[2 * node] + self._tree[2 * node + 1]

    def sample(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``k`` leaves, one per stratum ``[i, i + 1) * total / k`` of the prefix sums."""
        u = (np.arange(k) + rng.random(k)) * (self.total / k)
        node = np.ones(k, np.int64)
        while node[0] < self._leaf0:
            left = self._tree[2 * node]
            # Rounding must never lead into an empty subtree.
            go_right = ((u >= left) & (self._tree[2 * node + 1] > 0)) | (left <= 0)
            u = np.where(go_right, u - left, u)
            node = 2 * node + go_right
        return node - self._leaf0


class PrioritizedReplayBuffer(ExperienceReplayBuffer):
    r"""Proportional prioritized experience replay with n-step bootstrapping.

    Transition :math:`i` is sampled with probability :math:`P(i) = p_i / \sum_j p_j`, where
    :math:`p_i = (|\delta_i| + \epsilon)^\alpha` after :meth:`update_priorities`; transitions
    that become sampleable get the largest priority seen so far. The importance weights are

    .. math::

        w_i = (N\, P(i))^{-\beta}, \qquad W_i = w_i / \max_{j \in \text{batch}} w_j,

    with :math:`N` the number of sampleable transitions. Storage and the n-step fields are
    those of :class:`ExperienceReplayBuffer` (plus 8 to 16 bytes per slot for the sum-tree,
    counted in :attr:`nbytes`); :meth:`state` adds the ``priorities`` array and the settings.

    Parameters
    ----------
    env, capacity, batch_size, bootstrap_n, gamma, random_seed, frame_stack_axis
        As in :class:`ExperienceReplayBuffer`.
    alpha : float >= 0, optional
        How strongly priorities skew sampling (0 is uniform).
    beta : float in [0, 1], optional
        The importance-weight exponent (1 corrects the bias fully).
    epsilon : float > 0, optional
        Added to :math:`|\delta|` so that no transition gets zero probability.
    """

    def __init__(self, env: Any, capacity: int, batch_size: int = 32, bootstrap_n: int = 1,
                 gamma: float = 0.99, alpha: float = 0.6, beta: float = 0.4,
                 epsilon: float = 1e-6, random_seed: int | None = None, *,
                 frame_stack_axis: int | None | str = "auto") -> None:
        self.alpha = _check_nonnegative(alpha, "alpha")
        self.beta = check_unit_interval(beta, "beta")
        self.epsilon = _check_nonnegative(epsilon, "epsilon")
        if self.epsilon == 0.0:
            raise ValueError("epsilon: expected a float > 0, got 0.0")
        self._tree = SumTree(check_positive_int(capacity, "capacity"))
        super().__init__(env, capacity, batch_size=batch_size, bootstrap_n=bootstrap_n,
                         gamma=gamma, random_seed=random_seed, frame_stack_axis=frame_stack_axis)

    def clear(self) -> None:
        """Empty the buffer and reset all priorities."""
        super().clear()
        self._tree.clear()
        self._max_priority = 1.0

    @property
    def nbytes(self) -> int:
        """The bytes held by the preallocated arrays, the sum-tree included."""
        return super().nbytes + self._tree.nbytes

    def state(self, *, copy: bool = True) -> BufferState:
        """As :meth:`ExperienceReplayBuffer.state`, plus the priorities and PER settings.

        ``arrays['priorities']`` (float64, shape ``[size]``) holds the sum-tree's leaves and
        ``meta['prioritized']`` the keys ``alpha``, ``beta``, ``epsilon`` and ``max_priority``.
        """
        arrays, meta = super().state(copy=copy)
        priorities = self._tree.leaves[:self._size]
        arrays["priorities"] = priorities.copy() if copy else priorities
        arrays["priorities"].flags.writeable = copy
        meta["prioritized"] = {"alpha": self.alpha, "beta": self.beta, "epsilon": self.epsilon,
                               "max_priority": self._max_priority}
        return arrays, meta

    def check_state(self, arrays: Any, meta: Any) -> dict[str, Any]:
        if not isinstance(arrays, Mapping) or not isinstance(meta, Mapping):
            raise TypeError(f"arrays, meta: expected two dicts, got {type(arrays).__name__} and "
                            f"{type(meta).__name__}")
        if "priorities" not in arrays or "prioritized" not in meta:
            raise ValueError("arrays, meta: expected the 'priorities' array and the 'prioritized' "
                             "settings of a PrioritizedReplayBuffer state")
        restored = super().check_state({k: v for k, v in arrays.items() if k != "priorities"},
                                        {k: v for k, v in meta.items() if k != "prioritized"})
        restored["prioritized"] = self._check_prioritized(meta["prioritized"])
        restored["priorities"] = _check_priorities(arrays["priorities"], restored["slots"]["valid"],
                                                   restored["prioritized"]["max_priority"])
        return restored

    def _check_prioritized(self, settings: Any) -> dict[str, float]:
        keys = ["alpha", "beta", "epsilon", "max_priority"]
        check_mapping(settings, "meta['prioritized']", keys)
        out = {"alpha": _check_nonnegative(settings["alpha"], "meta['prioritized']['alpha']"),
               "beta": check_unit_interval(settings["beta"], "meta['prioritized']['beta']")}
        for key in ("epsilon", "max_priority"):
            out[key] = _check_nonnegative(settings[key], f"meta['prioritized']['{key}']")
            if out[key] == 0.0:
                raise ValueError(f"meta['prioritized']['{key}']: expected a float > 0, got 0.0")
        return out

    def _on_load(self, restored: dict[str, Any]) -> None:
        size = len(restored["priorities"])
        self._tree.leaves[:size] = restored["priorities"]
        self._tree.leaves[size:] = 0.0
        self._tree.rebuild()
        for key, value in restored["prioritized"].items():
            setattr(self, "_max_priority" if key == "max_priority" else key, value)

    def sample(self, num_batches: int | None = None) -> PrioritizedBatch:  # type: ignore[override]
        r"""Sample ``batch_size`` transitions with probabilities :math:`P(i)`.

        Parameters
        ----------
        num_batches : positive int, optional
            Draw this many batches at once (for several gradient steps, with the priorities of
            now); every array then has the leading axes ``[num_batches, batch_size]`` and
            :math:`W` is normalised within each batch.

        Returns
        -------
        S, A, Rn, In, S_next, A_next : ndarrays
            As in :meth:`ExperienceReplayBuffer.sample`.
        W : ndarray, float32, shape ``[batch_size]``
            The normalised importance weights :math:`W_i`.
        idx : ndarray, int64, shape ``[batch_size]``
            The slots sampled, to pass to :meth:`update_priorities`.
        """
        k = 1 if num_batches is None else check_positive_int(num_batches, "num_batches")
        self._check_enough(self.batch_size)
        idx = self._tree.sample(k * self.batch_size, self._rng)
        P = self._tree[idx] / self._tree.total
        w = ((self._num_valid * P) ** -self.beta).reshape(k, self.batch_size)
        W = (w / w.max(axis=1, keepdims=True)).astype(np.float32).reshape(-1)
        batch = (*self._batch(idx), W, idx)
        return batch if num_batches is None else _split_batches(batch, k)

    @property
    def sampling_weight(self) -> float:
        """The total priority of the sampleable transitions."""
        return self._tree.total

    def sample_slots(self, k: int) -> np.ndarray:
        """``k`` slots drawn by priority, stratified as in :meth:`sample`."""
        self._check_enough(1)
        return self._tree.sample(k, self._rng)

    def priorities(self, slots: npt.ArrayLike) -> np.ndarray:
        """The priorities :math:`p_i` of ``slots``, float64."""
        return self._tree[slots]

    def update_priorities(self, idx: npt.ArrayLike, td_errors: npt.ArrayLike) -> None:
        r"""Set :math:`p_i = (|\delta_i| + \epsilon)^\alpha` for the slots ``idx``.

        Slots overwritten since they were sampled are skipped.

        Parameters
        ----------
        idx : array-like of int, shape ``[k]``
            Slots as returned by :meth:`sample`.
        td_errors : array-like of float, shape ``[k]``
            The TD errors :math:`\delta_i`, finite.

        Raises
        ------
        ValueError
            On a shape mismatch, out-of-range slots or non-finite errors; priorities are then
            left unchanged.
        """
        idx_arr = np.asarray(idx)
        td = np.asarray(td_errors, np.float64)
        if idx_arr.ndim != 1 or not np.issubdtype(idx_arr.dtype, np.integer) or td.shape != idx_arr.shape:
            raise ValueError(f"idx, td_errors: expected 1-d int slots and errors of the same shape, "
                             f"got {idx_arr.dtype} {idx_arr.shape} and {td.shape}")
        if not np.isfinite(td).all():
            raise ValueError(f"td_errors: expected finite values, got {td}")
        if ((idx_arr < 0) | (idx_arr >= self.capacity)).any():
            raise ValueError(f"idx: expected slots in [0, {self.capacity}), got {idx_arr}")
        priorities = (np.abs(td) + self.epsilon) ** self.alpha
        keep = self._valid[idx_arr]
        self._tree.set(idx_arr[keep], priorities[keep])
        if keep.any():
            self._max_priority = max(self._max_priority, float(priorities[keep].max()))

    def _on_valid(self, slots: np.ndarray) -> None:
        self._tree.set(slots, self._max_priority)

    def _on_invalid(self, slots: np.ndarray) -> None:
        self._tree.set(slots, 0.0)


def _check_priorities(priorities: Any, valid: np.ndarray, max_priority: float) -> np.ndarray:
    """Restored priorities: float64 like ``valid``, in (0, max_priority] where valid, else 0."""
    p = np.asarray(priorities)
    if p.dtype != np.float64 or p.shape != valid.shape:
        raise ValueError(f"arrays['priorities']: expected float64 of shape {valid.shape}, "
                         f"got {p.dtype} of shape {p.shape}")
    ok = np.isfinite(p) & np.where(valid, (p > 0) & (p <= max_priority), p == 0)
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise ValueError(f"arrays['priorities']: expected finite priorities in (0, max_priority="
                         f"{max_priority}] for sampleable slots and 0 elsewhere, got {p[bad]} at "
                         f"slot {bad} (sampleable: {bool(valid[bad])})")
    return p


def _check_nonnegative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a float >= 0, got {type(value).__name__} {value!r}")
    if not (math.isfinite(float(value)) and float(value) >= 0):
        raise ValueError(f"{name}: expected a finite float >= 0, got {value!r}")
    return float(value)

