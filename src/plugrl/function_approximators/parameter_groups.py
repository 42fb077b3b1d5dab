"""Parameter groups: the weights of several functions, one group per function approximator.

Functions built on one function approximator can share variables (the body); an update that
trains them together must hold each shared variable once. A group is the ordered union of the
variables its functions use; each function reads its own weights out of its group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import optax

from plugrl._backend import per_group
from plugrl.function_approximators.base import FunctionApproximator

__all__ = ["ParameterGroups"]


class ParameterGroups:
    """The union of the weights of ``functions`` (objects with ``function_approximator`` and a
    ``_head`` :class:`~plugrl.function_approximators.HeadModel`), grouped by function approximator."""

    def __init__(self, functions: Sequence[Any]) -> None:
        self.funcs: list[FunctionApproximator] = []
        self.positions: list[tuple[list[int], list[int]]] = []
        self._local: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []
        for f in functions:
            group = self._group_of(f.function_approximator)
            trainable, non_trainable = self.positions[group]
            self._local.append((group, _extend(trainable, f.head.trainable),
                                _extend(non_trainable, f.head.non_trainable)))

    @property
    def optimizer(self) -> optax.GradientTransformation:
        return per_group([func.optimizer for func in self.funcs])

    def gather(self) -> tuple[tuple, tuple]:
        """``(params, non_trainable)``: per group, the current values from the stores."""
        return (tuple(f.gather(t) for f, (t, _) in zip(self.funcs, self.positions)),
                tuple(f.gather(n) for f, (_, n) in zip(self.funcs, self.positions)))

    def scatter(self, params: tuple, non_trainable: tuple) -> None:
        """Write updated group values back into the function approximators' stores."""
        for func, (t, n), p, nt in zip(self.funcs, self.positions, params, non_trainable):
            func.scatter(t, p)
            func.scatter(n, nt)

    def select(self, params: tuple, non_trainable: tuple, index: int) -> tuple[tuple, tuple]:
        """The weights of function ``index`` (in its model's variable order); traceable."""
        group, trainable, others = self._local[index]
        return (tuple(params[group][i] for i in trainable),
                tuple(non_trainable[group][i] for i in others))

    def _group_of(self, func: FunctionApproximator) -> int:
        for i, known in enumerate(self.funcs):
            if known is func:
                return i
        self.funcs.append(func)
        self.positions.append(([], []))
        return len(self.funcs) - 1


def _extend(group_positions: list[int], positions: Sequence[int]) -> tuple[int, ...]:
    """Add ``positions`` to a group (once each); return their indices within the group."""
    local = []
    for p in positions:
        if p not in group_positions:
            group_positions.append(p)
        local.append(group_positions.index(p))
    return tuple(local)
