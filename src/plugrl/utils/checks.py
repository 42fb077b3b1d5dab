"""Type checks for plugrl objects (imported lazily to keep ``utils`` at the bottom of the stack)."""

from __future__ import annotations

from typing import Any

__all__ = ["is_policy", "is_qfunction", "is_vfunction"]


def is_vfunction(obj: Any) -> bool:
    """Whether ``obj`` is a state value function, :class:`plugrl.V`."""
    from plugrl.value_functions import V

    return isinstance(obj, V)


def is_qfunction(obj: Any, qtype: int | None = None) -> bool:
    """Whether ``obj`` is a state-action value function.

    Parameters
    ----------
    obj : object
        Object to check.
    qtype : {1, 2}, optional
        Check for a specific type: 1 for :class:`plugrl.QTypeI`, 2 for :class:`plugrl.QTypeII`.
    """
    from plugrl.value_functions import QTypeI, QTypeII

    classes = {None: (QTypeI, QTypeII), 1: QTypeI, 2: QTypeII}
    if qtype not in classes:
        raise ValueError(f"qtype: expected None, 1 or 2, got {qtype!r}")
    return isinstance(obj, classes[qtype])


def is_policy(obj: Any, check_updateable: bool = False) -> bool:
    """Whether ``obj`` is a policy: callable on a state, with a ``greedy`` method.

    Parameters
    ----------
    obj : object
        Object to check.
    check_updateable : bool, optional
        Also require that the policy can be updated (has ``update`` and ``batch_update``).
    """
    is_a_policy = callable(obj) and callable(getattr(obj, "greedy", None)) and not is_qfunction(obj)
    if not check_updateable:
        return is_a_policy
    return is_a_policy and all(callable(getattr(obj, m, None)) for m in ("update", "batch_update"))
