"""What every actor-critic shares: acting through its policy and its one jitted update step."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from plugrl._backend import (
    Array,
    LossFn,
    Metrics,
    Params,
    TrainState,
    init_train_state,
    make_train_step,
)
from plugrl.caching import NStepCache
from plugrl.function_approximators import GroupedParams, HeadFunction, ParameterGroups, grouped
from plugrl.policies.base import BaseUpdateablePolicy
from plugrl.utils.pickling import Rebuildable
from plugrl.value_functions import V

__all__ = ["BaseActorCritic"]

#: ``(S, A, Rn, In, S_next, pi_targets, pi_target_non_trainable, v_targets,
#: v_target_non_trainable)``: a checked batch and the target weights (raveled trainables, see
#: :class:`~plugrl.value_functions.base.TargetWeights`) of the policy and the value function.
Batch = tuple[Array, Array, Array, Array, Array, Array, Params, Array, Params]


class BaseActorCritic(Rebuildable, abc.ABC):
    """Base class of :class:`ActorCritic` and :class:`SoftActorCritic`.

    Subclasses set ``policy``, ``v_func`` and ``_components`` (every function whose target
    model they use), call ``super().__init__`` with the heads their step trains, and implement
    :meth:`_loss_fn`. One update gathers the heads' weights (:class:`ParameterGroups`), runs
    the jitted step on a :data:`Batch` with a key from the policy, and writes the weights back.

    Parameters
    ----------
    members : sequence of HeadFunction
        The heads the step trains, as :class:`ParameterGroups` takes them.
    name : str
        Prefix of the step's ``"<name>/loss"`` and ``"<name>/grad_norm"`` metrics.
    """

    policy: BaseUpdateablePolicy
    v_func: V
    _components: tuple[Any, ...]

    def __init__(self, members: Sequence[HeadFunction], name: str) -> None:
        self.env = self.policy.env
        self._cache = NStepCache(self.env, self.v_func.bootstrap_n, self.v_func.gamma)
        self._groups = ParameterGroups(members)
        optimizer = self._groups.optimizer
        self._train_state = init_train_state(*self._groups.gather(), optimizer)
        # A loss over grouped weights, which the flat-typed LossFn stands for (see grouped).
        self._step = make_train_step(cast(LossFn, self._loss_fn), optimizer, name)

    @abc.abstractmethod
    def _loss_fn(self, params: GroupedParams, state: TrainState, batch: Batch,
                 key: Array) -> tuple[Array, tuple[GroupedParams, dict[str, Array]]]:
        """The loss of one update (see :func:`plugrl._backend.train_step`); traceable."""

    def _apply(self, batch: tuple[np.ndarray, ...]) -> Metrics:
        """Run the jitted update step on a checked batch ``(S, A, Rn, In, S_next)``."""
        params, non_trainable = self._groups.gather()
        state = self._train_state._replace(params=cast(Params, params),  # see grouped
                                           non_trainable=cast(Params, non_trainable))
        targets = (*self.policy.target_weights(), *self.v_func.target_weights())
        state, metrics = self._step(state, (*batch, *targets), self.policy.next_key())
        self._groups.scatter(grouped(state.params), grouped(state.non_trainable))
        self._train_state = state
        return metrics

    # ------------------------------------------------------------------ acting
    def __call__(self, s: Any) -> tuple[Any, float]:
        r"""Draw an action :math:`a\sim\pi(.|s)` and estimate the state value.

        Parameters
        ----------
        s : state observation
            A single state observation.

        Returns
        -------
        a, v : tuple (action, float)
            The pair :math:`(a, v(s))`.
        """
        return self.policy(s), self.v_func(s)

    def greedy(self, s: Any) -> tuple[Any, float]:
        r"""Draw the greedy action :math:`a=\arg\max_{a'}\pi(a'|s)` and estimate the state value.

        Parameters
        ----------
        s : state observation
            A single state observation.

        Returns
        -------
        a, v : tuple (action, float)
            The pair :math:`(a, v(s))`.
        """
        return self.policy.greedy(s), self.v_func(s)

    def dist_params(self, s: Any) -> tuple[Any, float]:
        r"""The distribution parameters of :math:`\pi(.|s)` and the state value.

        Parameters
        ----------
        s : state observation
            A single state observation.

        Returns
        -------
        dist_params, v : tuple (array or pair of arrays, float)
            The policy's distribution parameters (logits, or ``(mu, logvar)``) and
            :math:`v(s)`.
        """
        return self.policy.dist_params(s), self.v_func(s)

    def batch_eval(self, S: Any, use_target_model: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Sampled actions and state values for a batch: ``(A, V)``."""
        return (self.policy.batch_eval(S, use_target_model),
                self.v_func.batch_eval(S, use_target_model))

    def sync_target_model(self, tau: float = 1.0) -> None:
        r"""Synchronize the target models of every component,
        :math:`w_\text{target} \leftarrow (1-\tau)\,w_\text{target} + \tau\,w`."""
        for function in self._components:
            function.sync_target_model(tau)

    def update(self, s: Any, a: Any, r: float, done: bool | None = None, *,
               terminated: bool | None = None, truncated: bool = False,
               s_next: Any = None) -> None:
        """Update on a single transition, through an n-step cache.

        ``done`` means *terminated* (Gymnasium's ``terminated``, not ``terminated or
        truncated``); ``update(s, a, r, terminated=..., truncated=..., s_next=...)`` is the
        same call with Gymnasium's keyword. Other parameters as in
        :meth:`plugrl.caching.NStepCache.add`.
        """
        s, a = self.v_func.check_state(s), self.policy.check_action(a)
        if s_next is not None:
            s_next = self.v_func.check_state(s_next)
        self._cache.add(s, a, r, done, terminated=terminated, truncated=truncated, s_next=s_next)
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
            Actions taken; with a softmax policy whose update strategy is ``'cross_entropy'``,
            propensities [batch_size, num_actions] may take their place (AlphaZero's visit
            distributions).
        Rn, In : 1d array, shape: [batch_size]
            Partial returns and bootstrap factors (as from :class:`plugrl.caching.NStepCache`).
        A_next : ignored
            Accepted for the seed's signature.
        """
        S = self.v_func.check_states(S)
        S_next = self.v_func.check_states(S_next, "S_next")
        if len(S_next) != len(S):
            raise ValueError(f"S_next: expected batch size {len(S)} (as S), got {len(S_next)}")
        A = self.policy.check_behaviour_actions(A, len(S))
        Rn, In = self.v_func.updater.check_returns(Rn, In, len(S))
        return self._apply((S, A, Rn, In, S_next)).to_dict()
