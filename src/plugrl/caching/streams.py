"""Several environments feeding one replay: a buffer per environment, sampled as one buffer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from plugrl.caching._replay_state import check_mapping, generator_from_state
from plugrl.caching.prioritized import PrioritizedReplayBuffer
from plugrl.caching.replay import BufferState, ExperienceReplayBuffer, _split_batches
from plugrl.utils.validation import check_positive_int

__all__ = ["ReplayStreams"]


class ReplayStreams:
    r"""One replay memory fed by several environments, each through its own buffer (stream).

    The n-step windows of :class:`~plugrl.caching.ExperienceReplayBuffer` are consecutive slots
    of one episode, so transitions of several environments stepped side by side cannot share
    one ring: their windows would mix environments. Here environment :math:`j` adds its steps
    to ``buffers[j]`` (``add(j, ...)``), where its episodes, terminations and truncations are
    handled as in a single buffer, and :meth:`sample` draws from the union:

    - **uniform buffers**: stream :math:`j` with probability :math:`N_j / \sum_l N_l`
      (:math:`N_j` its sampleable transitions), then a transition uniformly within it, so
      every sampleable transition has probability :math:`1 / \sum_l N_l`;
    - **prioritized buffers**: stream :math:`j` with probability :math:`T_j / \sum_l T_l`
      (:math:`T_j` its total priority), then a transition by its priority within it, so
      :math:`P(i) = p_i / \sum_l T_l` and :math:`W_i` is the single buffer's
      :math:`(N P(i))^{-\beta}` normalised per batch, with :math:`N = \sum_l N_l`.

    Parameters
    ----------
    buffers : sequence of ExperienceReplayBuffer
        One buffer per stream, all of the same class and ``batch_size`` (usually the same
        configuration and ``capacity = memory_size // num_streams``).
    random_seed : int or None, optional
        Seed of the generator that picks the streams (each buffer draws its slots with its own).
    """

    def __init__(self, buffers: Sequence[ExperienceReplayBuffer], random_seed: int | None = None) -> None:
        self.buffers = list(buffers)
        if not self.buffers or len({type(b) for b in self.buffers}) != 1 or not isinstance(
                self.buffers[0], ExperienceReplayBuffer):
            raise TypeError(f"buffers: expected one or more replay buffers of one class, got "
                            f"{[type(b).__name__ for b in self.buffers]}")
        if len({b.batch_size for b in self.buffers}) != 1:
            raise ValueError(f"buffers: expected one batch_size, got {[b.batch_size for b in self.buffers]}")
        self.prioritized = isinstance(self.buffers[0], PrioritizedReplayBuffer)
        self._offsets = np.cumsum([0] + [b.capacity for b in self.buffers])
        self._rng = np.random.default_rng(random_seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.buffers)} x {self.buffers[0]!r})"

    def __len__(self) -> int:
        """The number of stored transitions of all streams."""
        return sum(len(b) for b in self.buffers)

    @property
    def num_valid(self) -> int:
        """The number of transitions that :meth:`sample` can return now."""
        return sum(b.num_valid for b in self.buffers)

    @property
    def batch_size(self) -> int:
        return self.buffers[0].batch_size

    @property
    def beta(self) -> float:
        """The importance-weight exponent of prioritized buffers (set on every stream)."""
        return float(getattr(self.buffers[0], "beta"))  # noqa: B009  (only prioritized buffers have it)

    @beta.setter
    def beta(self, value: float) -> None:
        for buffer in self.buffers:
            buffer.beta = value  # type: ignore[attr-defined]

    def clear(self) -> None:
        """Empty every stream."""
        for buffer in self.buffers:
            buffer.clear()

    def end_episode(self) -> None:
        """End every stream's current episode (see :meth:`ExperienceReplayBuffer.end_episode`)."""
        for buffer in self.buffers:
            buffer.end_episode()

    def add(self, stream: int, *args: Any, **kwargs: Any) -> None:
        """``buffers[stream].add(*args, **kwargs)``: one time step of environment ``stream``."""
        self.buffers[stream].add(*args, **kwargs)

    def sample(self, num_batches: int | None = None) -> tuple[np.ndarray, ...]:
        """Sample ``batch_size`` transitions from all streams, as the buffers' ``sample`` does
        (uniform buffers: ``S, A, Rn, In, S_next, A_next``; prioritized ones add ``W`` and
        ``idx``, whose slots are numbered across streams for :meth:`update_priorities`)."""
        k = 1 if num_batches is None else check_positive_int(num_batches, "num_batches")
        size = k * self.batch_size
        if self.num_valid < self.batch_size:
            raise ValueError(f"batch_size: expected at most the number of sampleable transitions, "
                             f"{self.num_valid} (of {len(self)} stored), got {self.batch_size}")
        weights = np.array([b.sampling_weight for b in self.buffers], np.float64)
        streams = self._rng.choice(len(self.buffers), size=size, p=weights / weights.sum())
        idx = np.empty(size, np.int64)
        fields: list[np.ndarray] = []
        for j in np.unique(streams):
            at = np.flatnonzero(streams == j)
            slots = self.buffers[j].sample_slots(at.size)
            idx[at] = self._offsets[j] + slots
            for f, x in enumerate(self.buffers[j].batch_at(slots)):
                if len(fields) == f:
                    fields.append(np.empty((size, *x.shape[1:]), x.dtype))
                fields[f][at] = x
        batch = tuple(fields)
        if self.prioritized:
            batch = (*batch, self._weights(idx, weights.sum(), k), idx)
        return batch if num_batches is None else _split_batches(batch, k)

    def _weights(self, idx: np.ndarray, total: float, k: int) -> np.ndarray:
        """The normalised importance weights of the prioritized slots ``idx`` (see the class)."""
        stream = np.searchsorted(self._offsets, idx, side="right") - 1
        P = np.empty(idx.size, np.float64)
        for j, buffer in enumerate(self.buffers):
            mine = stream == j
            P[mine] = buffer.priorities(idx[mine] - self._offsets[j]) / total  # type: ignore[attr-defined]
        w = ((self.num_valid * P) ** -self.beta).reshape(k, self.batch_size)
        return (w / w.max(axis=1, keepdims=True)).astype(np.float32).reshape(-1)

    def update_priorities(self, idx: npt.ArrayLike, td_errors: npt.ArrayLike) -> None:
        """The prioritized buffers' ``update_priorities`` for the cross-stream slots ``idx``."""
        idx_arr, td = np.asarray(idx), np.asarray(td_errors, np.float64)
        if idx_arr.ndim != 1 or not np.issubdtype(idx_arr.dtype, np.integer) or td.shape != idx_arr.shape:
            raise ValueError(f"idx, td_errors: expected 1-d int slots and errors of the same shape, "
                             f"got {idx_arr.dtype} {idx_arr.shape} and {td.shape}")
        if ((idx_arr < 0) | (idx_arr >= self._offsets[-1])).any():
            raise ValueError(f"idx: expected slots in [0, {self._offsets[-1]}), got {idx_arr}")
        stream = np.searchsorted(self._offsets, idx_arr, side="right") - 1
        for j, buffer in enumerate(self.buffers):
            mine = stream == j
            buffer.update_priorities(idx_arr[mine] - self._offsets[j], td[mine])  # type: ignore[attr-defined]

    def state(self, *, copy: bool = True) -> BufferState:
        """Every stream's ``state()`` (arrays named ``"<stream>/<name>"``, metas under
        ``"streams"``) and the stream-picking generator (``"rng"``)."""
        arrays: dict[str, np.ndarray] = {}
        metas = []
        for j, buffer in enumerate(self.buffers):
            stream_arrays, meta = buffer.state(copy=copy)
            arrays.update({f"{j}/{name}": x for name, x in stream_arrays.items()})
            metas.append(meta)
        return arrays, {"streams": metas, "rng": self._rng.bit_generator.state}

    def load_state(self, arrays: Mapping[str, npt.ArrayLike], meta: Mapping[str, Any]) -> None:
        """Restore what :meth:`state` saved; every stream is checked before any is changed."""
        check_mapping(meta, "meta", ["streams", "rng"])
        if not isinstance(meta["streams"], Sequence) or len(meta["streams"]) != len(self.buffers):
            raise ValueError(f"meta['streams']: expected the states of {len(self.buffers)} streams, "
                             f"got {meta['streams']!r:.80}")
        parts = [({name.split("/", 1)[1]: x for name, x in arrays.items()
                   if name.split("/", 1)[0] == str(j)}, meta["streams"][j])
                 for j in range(len(self.buffers))]
        for buffer, (stream_arrays, stream_meta) in zip(self.buffers, parts):
            buffer.check_state(stream_arrays, stream_meta)
        rng = generator_from_state(meta["rng"])
        for buffer, (stream_arrays, stream_meta) in zip(self.buffers, parts):
            buffer.load_state(stream_arrays, stream_meta)
        self._rng = rng
