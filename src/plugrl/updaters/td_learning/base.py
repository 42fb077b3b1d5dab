r"""The shared part of every temporal-difference updater.

An updater regresses a value function onto a bootstrapped target

.. math::

    G^{(n)}_t\ =\ R^{(n)}_t + I^{(n)}_t\,Q_\text{boot}(S_{t+n}, A_{t+n})

where only the bootstrap term :math:`Q_\text{boot}` differs between SARSA, expected SARSA,
Q-learning and double Q-learning. The update is one jitted pure step; the value function only
supplies the pure forward functions ``apply`` (and ``apply_q_s`` for Q-functions).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import numpy as np

from plugrl._backend import Array, Metrics, Params, TrainState, jit, keras, make_train_step, prng_key
from plugrl.caching import NStepCache
from plugrl.updaters.losses import get_value_loss
from plugrl.utils.validation import check_finite, check_terminated

ops = keras.ops

__all__ = ["BaseTDLearning", "td_target"]


def td_target(Rn: Array, In: Array, Q_boot: Array) -> Array:
    r"""The bootstrapped target :math:`G^{(n)}_t = R^{(n)}_t + I^{(n)}_t\,Q_\text{boot}`.

    Parameters
    ----------
    Rn, In, Q_boot : 1d Tensor, shape: [batch_size]
        Partial returns, bootstrap factors and bootstrap values.
    """
    return Rn + In * Q_boot


class BaseTDLearning(abc.ABC):
    r"""Base class of the TD updaters; subclasses define :meth:`bootstrap_value`.

    Parameters
    ----------
    value_function : V, QTypeI or QTypeII
        The function to update. Its ``gamma``, ``bootstrap_n`` and
        ``bootstrap_with_target_model`` settings are used.
    loss : {'huber', 'mse'} or callable, optional
        Element-wise regression loss ``loss(G, Q_sa)``; default Huber.
    """

    #: Whether the updater needs a Q-function (its target maximises over actions).
    requires_q: ClassVar[bool] = False
    #: Whether the target uses the next action ``A_next`` (SARSA).
    uses_next_action: ClassVar[bool] = False

    def __init__(self, value_function: Any, *, loss: Any = "huber") -> None:
        self._check_value_function(value_function)
        self.value_function = value_function
        self.loss = get_value_loss(loss)
        self.name = type(self).__name__
        self._cache = NStepCache(value_function.env, value_function.bootstrap_n, value_function.gamma)
        optimizer = value_function.function_approximator.optimizer
        self._step = make_train_step(self._loss_fn, optimizer, self.name)
        self._target = jit(self.target)
        self._key = prng_key(0)  # TD losses draw no randomness; the step signature wants a key

    # ------------------------------------------------------------------ pure functions
    @abc.abstractmethod
    def bootstrap_value(self, state: TrainState, S_next: Array, A_next: Array,
                        *extra: Any) -> Array:
        r"""The bootstrap term :math:`Q_\text{boot}(S_{t+n}, A_{t+n})`, shape [batch_size].

        ``extra`` holds the arrays of :meth:`_extra_inputs` (e.g. a second Q-function's
        weights), passed into the jitted step with the batch.
        """

    def target(self, state: TrainState, Rn: Array, In: Array, S_next: Array, A_next: Array,
               *extra: Any) -> Array:
        r"""The bootstrapped target :math:`G^{(n)}_t = R^{(n)}_t + I^{(n)}_t\,Q_\text{boot}`."""
        return td_target(Rn, In, self.bootstrap_value(state, S_next, A_next, *extra))

    def _extra_inputs(self) -> tuple:
        """Arrays the bootstrap needs besides the value function's own train state."""
        return ()

    def _bootstrap_weights(self, state: TrainState) -> tuple[Params, Params]:
        if self.value_function.bootstrap_with_target_model:
            return state.targets(), state.target_non_trainable
        return state.params, state.non_trainable

    def _loss_fn(self, params: Params, state: TrainState, batch: tuple[Array, ...],
                 key: Array) -> tuple[Array, tuple[Params, dict[str, Array]]]:
        S, A, Rn, In, S_next, A_next, *extra = batch
        G = ops.stop_gradient(self.target(state, Rn, In, S_next, A_next, *extra))
        pred, non_trainable = self.value_function.apply(
            params, state.non_trainable, S, A, training=True)
        loss = ops.mean(self.loss(G, pred))
        metrics = {f"{self.name}/td_error": ops.mean(G - pred), f"{self.name}/G": ops.mean(G)}
        return loss, (tuple(non_trainable), metrics)

    # ------------------------------------------------------------------ public API
    def update(self, s: Any, a: Any, r: float, done: bool | None = None, *,
               terminated: bool | None = None, truncated: bool = False, s_next: Any = None,
               a_next: Any = None) -> None:
        """Update on a single transition, through an n-step cache.

        Parameters
        ----------
        s : state observation
            A single state observation.
        a : action
            A single action.
        r : float
            A single observed reward.
        done : bool
            Whether the episode *terminated* (no bootstrapping past it): Gymnasium's
            ``terminated``, **not** ``terminated or truncated``. Equivalently pass
            ``terminated=`` by keyword (one of the two, not both).
        terminated : bool, optional (keyword)
            Gymnasium's name for ``done``.
        truncated : bool, optional
            Whether the episode was cut short (time limit); it still bootstraps from ``s_next``.
        s_next : state observation, optional
            The final observation; required when ``truncated``.
        a_next : action, optional
            The action the policy would take at ``s_next``; where it is unknown, SARSA
            bootstraps with the greedy action.
        """
        vf = self.value_function
        done = check_terminated(done, terminated)
        s, a = vf.check_state(s), vf.check_action(a)
        if (truncated and not done and a_next is None and self.uses_next_action
                and vf.is_q_function and not vf.function_approximator.action_is_discrete):
            raise ValueError(
                f"a_next: {self.name} with continuous actions needs the next action at a "
                "truncated step, got None")
        if s_next is not None:
            s_next = vf.check_state(s_next)
        self._cache.add(s, a, r, done, truncated=truncated, s_next=s_next, a_next=a_next)
        while self._cache:
            self._apply(self._cache.pop())

    def batch_update(self, S: Any, A: Any, Rn: Any, In: Any, S_next: Any,
                     A_next: Any = None) -> dict[str, float]:
        """Update on a batch of transitions; returns the losses and metrics as floats.

        Parameters
        ----------
        S : nd array, shape: [batch_size, ...]
            A batch of state observations.
        A : nd array, shape: [batch_size, ...]
            A batch of actions taken (ignored for a state value function).
        Rn : 1d array, dtype: float, shape: [batch_size]
            Partial returns :math:`R^{(n)}_t`.
        In : 1d array, dtype: float, shape: [batch_size]
            Bootstrap factors :math:`I^{(n)}_t` (:math:`\\gamma^n`, or 0 after termination).
        S_next : nd array, shape: [batch_size, ...]
            A batch of next-state observations.
        A_next : nd array, shape: [batch_size, ...], optional
            Next actions (SARSA), or propensities [batch_size, num_actions] (expected SARSA).
        """
        return self._apply(self._check_batch(S, A, Rn, In, S_next, A_next)).to_dict()

    def bootstrap_target(self, Rn: Any, In: Any, S_next: Any, A_next: Any = None) -> np.ndarray:
        r"""The bootstrapped targets :math:`G^{(n)}_t`, shape [batch_size]."""
        vf = self.value_function
        S_next = vf.check_states(S_next, "S_next")
        Rn, In = self.check_returns(Rn, In, len(S_next))
        A_next = self._check_next_actions(A_next, len(S_next))
        return np.asarray(self._target(vf.train_state, Rn, In, S_next, A_next,
                                       *self._extra_inputs()))

    # ------------------------------------------------------------------ internals
    def _apply(self, batch: tuple) -> Metrics:
        vf = self.value_function
        state, metrics = self._step(vf.train_state, (*batch, *self._extra_inputs()), self._key)
        vf.train_state = state
        return metrics

    def _check_value_function(self, value_function: Any) -> None:
        if self.requires_q and not getattr(value_function, "is_q_function", False):
            raise TypeError(
                f"value_function: {type(self).__name__} expected a Q-function (QTypeI or QTypeII), "
                f"got {type(value_function).__name__}"
            )
        if self.requires_q and not value_function.function_approximator.action_is_discrete:
            raise TypeError(
                f"value_function: {type(self).__name__} maximises over actions and expected a "
                f"Discrete action space, got {value_function.function_approximator.action_space}"
            )

    def _check_batch(self, S: Any, A: Any, Rn: Any, In: Any, S_next: Any, A_next: Any) -> tuple:
        vf = self.value_function
        S = vf.check_states(S, "S")
        batch_size = len(S)
        S_next = vf.check_states(S_next, "S_next")
        if len(S_next) != batch_size:
            raise ValueError(f"S_next: expected batch size {batch_size} (as S), got {len(S_next)}")
        A = vf.check_actions(A, batch_size, "A") if vf.is_q_function else self._placeholder(batch_size)
        Rn, In = self.check_returns(Rn, In, batch_size)
        return S, A, Rn, In, S_next, self._check_next_actions(A_next, batch_size)

    def check_returns(self, Rn: Any, In: Any, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for name, values in (("Rn", Rn), ("In", In)):
            values = check_finite(np.asarray(values, dtype=np.float32), name)
            if values.shape != (batch_size,):
                raise ValueError(f"{name}: expected shape [{batch_size}], got {values.shape}")
            out.append(values)
        if (out[1] < 0).any():
            raise ValueError(f"In: expected bootstrap factors >= 0, got min {out[1].min()}")
        return out[0], out[1]

    def _check_next_actions(self, A_next: Any, batch_size: int) -> np.ndarray:
        vf = self.value_function
        if A_next is None or not vf.is_q_function:
            if A_next is None and self.uses_next_action and vf.is_q_function \
                    and not vf.function_approximator.action_is_discrete:
                raise ValueError(f"A_next: {self.name} with continuous actions needs A_next, got None")
            return self._placeholder(batch_size)
        if vf.function_approximator.action_is_discrete:
            A_next = np.asarray(A_next)
            if A_next.ndim == 2 and A_next.shape == (batch_size, vf.function_approximator.num_actions):
                return self._check_propensities(A_next)
            unknown = A_next == -1 if A_next.ndim == 1 else np.zeros(batch_size, bool)
            checked = vf.check_actions(np.where(unknown, 0, A_next), batch_size, "A_next")
            return np.where(unknown, -1, checked).astype(np.int32)
        return vf.check_actions(A_next, batch_size, "A_next")

    def _check_propensities(self, P: np.ndarray) -> np.ndarray:
        is_one_hot = np.isin(P, (0, 1)).all() and (P.sum(axis=1) == 1).all()
        if not is_one_hot:
            raise ValueError(f"A_next: {self.name} expected int or one-hot actions, "
                             f"got propensities of shape {P.shape}")
        return P.argmax(axis=1).astype(np.int32)

    def _placeholder(self, batch_size: int) -> np.ndarray:
        func = self.value_function.function_approximator
        if func.action_is_discrete:
            return np.full(batch_size, -1, np.int32)  # -1: next action unknown
        return np.zeros((batch_size, *func.action_space.shape), np.float32)
