"""What every actor-critic shares: acting through its policy and feeding its update step."""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from plugrl._backend import Metrics
from plugrl.caching import NStepCache
from plugrl.policies.base import BaseUpdateablePolicy
from plugrl.value_functions import V

__all__ = ["BaseActorCritic"]


class BaseActorCritic(abc.ABC):
    """Base class of :class:`ActorCritic` and :class:`SoftActorCritic`.

    Subclasses set ``policy``, ``v_func`` and ``_components`` (every function whose target
    model they use) and implement :meth:`_apply`, one jitted update on a checked batch
    ``(S, A, Rn, In, S_next)``.
    """

    policy: BaseUpdateablePolicy
    v_func: V
    _components: tuple[Any, ...]

    def __init__(self) -> None:
        self.env = self.policy.env
        self._cache = NStepCache(self.env, self.v_func.bootstrap_n, self.v_func.gamma)

    @abc.abstractmethod
    def _apply(self, batch: tuple) -> Metrics:
        """Run the jitted update step on a checked batch ``(S, A, Rn, In, S_next)``."""

    def greedy(self, s: Any) -> Any:
        """The policy's most likely action."""
        return self.policy.greedy(s)

    def batch_eval(self, S: Any, use_target_model: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Sampled actions and state values for a batch: ``(A, V)``."""
        return (self.policy.batch_eval(S, use_target_model),
                self.v_func.batch_eval(S, use_target_model))

    def sync_target_model(self, tau: float = 1.0) -> None:
        r"""Synchronize the target models of every component,
        :math:`w_\text{target} \leftarrow (1-\tau)\,w_\text{target} + \tau\,w`."""
        for function in self._components:
            function.sync_target_model(tau)

    def update(self, s: Any, a: Any, r: float, done: bool, *, truncated: bool = False,
               s_next: Any = None) -> None:
        """Update on a single transition, through an n-step cache (``done``: terminated)."""
        s, a = self.v_func.check_state(s), self.policy.check_action(a)
        if s_next is not None:
            s_next = self.v_func.check_state(s_next)
        self._cache.add(s, a, r, done, truncated=truncated, s_next=s_next)
        while self._cache:
            S, A, Rn, In, S_next, _ = self._cache.pop()
            self._apply((S, A, Rn, In, S_next))

    def batch_update(self, S: Any, A: Any, Rn: Any, In: Any, S_next: Any,
                     A_next: Any = None) -> dict[str, float]:
        """Update on a batch of transitions; returns losses and metrics as floats.

        Parameters
        ----------
        S, S_next : nd array, shape: [batch_size, ...]
            States and the states to bootstrap from.
        A : nd array, shape: [batch_size, ...]
            Actions taken.
        Rn, In : 1d array, shape: [batch_size]
            Partial returns and bootstrap factors (as from :class:`plugrl.caching.NStepCache`).
        A_next : ignored
            Accepted for the seed's signature.
        """
        S = self.v_func.check_states(S)
        S_next = self.v_func.check_states(S_next, "S_next")
        if len(S_next) != len(S):
            raise ValueError(f"S_next: expected batch size {len(S)} (as S), got {len(S_next)}")
        A = self.policy.check_actions(A, len(S), "A")
        Rn, In = self.v_func.updater.check_returns(Rn, In, len(S))
        return self._apply((S, A, Rn, In, S_next)).to_dict()
