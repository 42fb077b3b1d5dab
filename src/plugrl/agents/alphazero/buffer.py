"""The positions AlphaZero trains on: a ring of the newest ``capacity`` positions."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl.agents.alphazero.learner import PositionBatch

__all__ = ["PositionBuffer"]


class PositionBuffer:
    """Observations, visit distributions and outcomes of self-play positions, the oldest
    overwritten first.

    Parameters
    ----------
    capacity : int
        Positions kept.
    obs_shape : tuple of int
        Shape of one observation (stored as uint8).
    num_actions : int
        Length of one visit distribution.
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], num_actions: int) -> None:
        self.capacity = int(capacity)
        self._S = np.zeros((self.capacity, *obs_shape), np.uint8)
        self._P = np.zeros((self.capacity, num_actions), np.float32)
        self._Z = np.zeros(self.capacity, np.float32)
        self._next, self._size = 0, 0

    def __len__(self) -> int:
        return self._size

    def add(self, positions: PositionBatch) -> None:
        """Append positions (a batch of any size; beyond ``capacity`` only the last ones stay)."""
        count = len(positions.Z)
        slots = (self._next + np.arange(count)) % self.capacity
        # with count > capacity, later positions overwrite earlier ones
        self._S[slots], self._P[slots], self._Z[slots] = positions.S, positions.P, positions.Z
        self._next = int((self._next + count) % self.capacity)
        self._size = min(self._size + count, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> PositionBatch:
        """``batch_size`` positions drawn uniformly, with replacement."""
        if not self._size:
            raise RuntimeError("sample: expected positions in the buffer, got none; add some first")
        index = rng.integers(0, self._size, batch_size)
        return PositionBatch(S=self._S[index], P=self._P[index], Z=self._Z[index])

    def clear(self) -> None:
        """Forget every position."""
        self._next, self._size = 0, 0

    def arrays(self) -> dict[str, np.ndarray]:
        """The stored positions, by name (for checkpoints)."""
        return {"S": self._S[:self._size], "P": self._P[:self._size], "Z": self._Z[:self._size]}

    def state(self) -> dict[str, Any]:
        """The ring's counters (for checkpoints)."""
        return {"next": self._next, "size": self._size}

    def load(self, arrays: dict[str, Any], state: dict[str, Any]) -> None:
        """Restore what :meth:`arrays` and :meth:`state` gave."""
        size = int(state["size"])
        for store, name in ((self._S, "S"), (self._P, "P"), (self._Z, "Z")):
            values = np.asarray(arrays[name])
            if values.shape != (size, *store.shape[1:]):
                raise ValueError(f"buffer/{name}: expected shape {(size, *store.shape[1:])}, "
                                 f"got {values.shape}")
            store[:size] = values
        self._next, self._size = int(state["next"]), size
