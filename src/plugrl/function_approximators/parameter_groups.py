"""Parameter groups: the weights of several functions, one group per function approximator.

Functions built on one function approximator can share variables (the body); an update that
trains them together must hold each shared variable once. A group is the ordered union of the
variables its functions use; each function reads its own weights out of its group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, cast

from plugrl._backend import Optimizer, Params, per_group
from plugrl.function_approximators.base import FunctionApproximator, HeadModel

__all__ = ["GroupedParams", "HeadFunction", "Member", "MemberPositions", "ParameterGroups", "grouped"]

#: Per group (function approximator), its variables' values: what :class:`ParameterGroups`
#: gathers and what a jitted step that trains the group takes as ``params``.
GroupedParams = tuple[Params, ...]


class HeadFunction(Protocol):
    """What :class:`ParameterGroups` takes: one head on a function approximator.

    Value functions and policies satisfy it; :class:`Member` makes one from any head, e.g. a
    :meth:`~FunctionApproximator.joint_head_model`.
    """

    @property
    def function_approximator(self) -> FunctionApproximator: ...

    @property
    def head(self) -> HeadModel: ...


class Member(NamedTuple):
    """A bare head on a function approximator, in the form :class:`ParameterGroups` takes."""

    function_approximator: FunctionApproximator
    head: HeadModel


class MemberPositions(NamedTuple):
    """Where one function's weights lie in the groups.

    Attributes
    ----------
    group : int
        The index of its function approximator's group.
    trainable : tuple of int
        Indices within ``params[group]`` of its model's trainable variables, in model order.
    non_trainable : tuple of int
        Indices within ``non_trainable[group]`` of its non-trainable variables, in model order.
    """

    group: int
    trainable: tuple[int, ...]
    non_trainable: tuple[int, ...]


def grouped(weights: Params) -> GroupedParams:
    """A train state's weights, typed as the groups they are (no copy, no check).

    :class:`~plugrl._backend.TrainState` and ``train_step`` type weights as one flat tuple
    (``Params``); the state of an actor-critic or of the on-policy learner holds a tuple per
    group instead (what :meth:`ParameterGroups.gather` returns), a pytree that ``train_step``,
    the optimizer of :func:`~plugrl._backend.per_group` and ``jit`` handle alike.
    """
    return cast(GroupedParams, weights)


class ParameterGroups:
    """The union of the weights of ``functions``, grouped by function approximator.

    Parameters
    ----------
    functions : sequence of HeadFunction
        Value functions, policies or :class:`Member` heads; function ``i`` of this sequence is
        what :meth:`select` calls ``index=i``.

    Attributes
    ----------
    funcs : list of FunctionApproximator
        One per group, in order of first appearance in ``functions``.
    positions : list of (list of int, list of int)
        Per group, the store positions of its trainable and non-trainable variables.
    """

    def __init__(self, functions: Sequence[HeadFunction]) -> None:
        self.funcs: list[FunctionApproximator] = []
        self.positions: list[tuple[list[int], list[int]]] = []
        self._local: list[MemberPositions] = []
        for f in functions:
            group = self._group_of(f.function_approximator)
            trainable, non_trainable = self.positions[group]
            self._local.append(MemberPositions(group, _extend(trainable, f.head.trainable),
                                                 _extend(non_trainable, f.head.non_trainable)))

    def __len__(self) -> int:
        """The number of functions (members), as given to the constructor."""
        return len(self._local)

    @property
    def optimizer(self) -> Optimizer:
        """One optimizer over the groups, each group with its function approximator's."""
        return per_group([func.optimizer for func in self.funcs])

    @property
    def has_non_trainable(self) -> bool:
        """Whether any group holds non-trainable variables (e.g. batch statistics)."""
        return any(non_trainable for _, non_trainable in self.positions)

    def member(self, index: int) -> MemberPositions:
        """Where the weights of function ``index`` lie in the groups."""
        return self._local[index]

    def gather(self) -> tuple[GroupedParams, GroupedParams]:
        """The current values from the function approximators' stores.

        Returns
        -------
        params, non_trainable : tuple of tuples of arrays
            Per group, its trainable and non-trainable variables in :attr:`positions` order.
        """
        return (tuple(f.gather(t) for f, (t, _) in zip(self.funcs, self.positions)),
                tuple(f.gather(n) for f, (_, n) in zip(self.funcs, self.positions)))

    def scatter(self, params: GroupedParams, non_trainable: GroupedParams) -> None:
        """Write updated group values (structured as :meth:`gather` returns them) back into the
        function approximators' stores."""
        for func, (t, n), p, nt in zip(self.funcs, self.positions, params, non_trainable):
            func.scatter(t, p)
            func.scatter(n, nt)

    def select(self, params: GroupedParams, non_trainable: GroupedParams,
               index: int) -> tuple[Params, Params]:
        """The weights of function ``index``, as its ``apply`` takes them; traceable.

        Parameters
        ----------
        params, non_trainable : tuple of tuples of arrays
            Grouped weights, structured as :meth:`gather` returns them (possibly traced).
        index : int
            The function's position in the constructor's ``functions``.

        Returns
        -------
        params, non_trainable : tuple of arrays
            Its model's trainable and non-trainable variables, in model order.
        """
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
