"""Type checks for plugrl objects.

``utils`` sits below the value functions, so these read what every learned function declares,
the head it is built on (its ``HEAD``: ``'v'``, ``'q1'``, ``'q2'`` or ``'pi'``), instead of
importing the classes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_policy", "is_qfunction", "is_vfunction"]


def is_vfunction(obj: Any) -> bool:
    """Whether ``obj`` is a state value function, :class:`plugrl.V`."""
    return _head(obj) == "v"


def is_qfunction(obj: Any, qtype: int | None = None) -> bool:
    """Whether ``obj`` is a state-action value function.

    Parameters
    ----------
    obj : object
        Object to check.
    qtype : {1, 2}, optional
        Check for a specific type: 1 for :class:`plugrl.QTypeI`, 2 for :class:`plugrl.QTypeII`.
    """
    heads = {None: ("q1", "q2"), 1: ("q1",), 2: ("q2",)}
    if qtype not in heads:
        raise ValueError(f"qtype: expected None, 1 or 2, got {qtype!r}")
    return _head(obj) in heads[qtype]


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


def _head(obj: Any) -> str | None:
    """The head a learned function is built on (its class's ``HEAD``), or None."""
    head = getattr(type(obj), "HEAD", None)
    return head if isinstance(head, str) else None
