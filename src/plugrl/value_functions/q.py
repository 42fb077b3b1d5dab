"""State-action value functions: type I, :math:`(s,a)\\mapsto q(s,a)`, and type II,
:math:`s\\mapsto q(s,.)`."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import numpy as np

from plugrl._backend import Array, Params, jit, keras
from plugrl.function_approximators.base import FunctionApproximator
from plugrl.updaters import td_learning
from plugrl.utils.validation import check_gamma, check_positive_int
from plugrl.value_functions.base import BaseFunction

ops = keras.ops

__all__ = ["QTypeI", "QTypeII", "UPDATE_STRATEGIES"]

#: The seed's update strategies and the updaters they stand for.
UPDATE_STRATEGIES: dict[str, type[td_learning.BaseTDLearning]] = {
    "sarsa": td_learning.Sarsa,
    "expected_sarsa": td_learning.ExpectedSarsa,
    "q_learning": td_learning.QLearning,
    "double_q_learning": td_learning.DoubleQLearning,
}


class BaseQ(BaseFunction):
    r"""What type-I and type-II Q-functions share; subclasses define ``apply`` and ``apply_q_s``.

    Parameters
    ----------
    function_approximator : FunctionApproximator
        The main function approximator.
    gamma : float, optional
        The discount factor :math:`\gamma\in[0,1]`.
    bootstrap_n : positive int, optional
        The number of steps over which to delay bootstrapping.
    bootstrap_with_target_model : bool, optional
        Whether to bootstrap with the target model instead of the primary model.
    update_strategy : {'sarsa', 'expected_sarsa', 'q_learning', 'double_q_learning'}, optional
        Which :mod:`plugrl.td_learning` updater backs :meth:`update` and :meth:`batch_update`.
    head_id : str, optional
        Give this Q-function a head of its own on a shared function approximator (e.g. the
        twin Q-functions of SAC); by default Q-functions of one type share their head.
    """

    is_q_function: ClassVar[bool] = True

    def __init__(self, function_approximator: FunctionApproximator, gamma: float = 0.9,
                 bootstrap_n: int = 1, bootstrap_with_target_model: bool = False,
                 update_strategy: str = "sarsa", *, head_id: str | None = None) -> None:
        if update_strategy not in UPDATE_STRATEGIES:
            raise ValueError(f"update_strategy: expected one of {sorted(UPDATE_STRATEGIES)}, "
                             f"got {update_strategy!r}")
        self.gamma = check_gamma(gamma)
        self.bootstrap_n = check_positive_int(bootstrap_n, "bootstrap_n")
        self.bootstrap_with_target_model = bool(bootstrap_with_target_model)
        self.update_strategy = update_strategy
        super().__init__(function_approximator, head_id)
        self._eval_q_sa = jit(lambda params, non_trainable, S, A:
                              self.apply(params, non_trainable, S, A)[0])
        self._eval_q_s = jit(lambda params, non_trainable, S: self.apply_q_s(params, non_trainable, S)[0])
        self.updater = UPDATE_STRATEGIES[update_strategy](self)

    @property
    def num_actions(self) -> int:
        """The number of actions of a ``Discrete`` action space."""
        return self.function_approximator.num_actions

    @abc.abstractmethod
    def apply_q_s(self, params: Params, non_trainable: Params, S: Array,
                  training: bool = False) -> tuple[Array, Params]:
        """Pure forward pass over every action of a ``Discrete`` space; traceable.

        Parameters as in :meth:`BaseFunction.apply`, without ``A``.

        Returns
        -------
        Q_s : 2d array, shape: [batch_size, num_actions]
            The values of every action.
        non_trainable : tuple of arrays
            The updated non-trainable variables.
        """

    def _required(self, A: Array | None) -> Array:
        if A is None:
            raise TypeError(f"A: {type(self).__name__}.apply expected a batch of actions, got None; "
                            "apply_q_s gives the values of every action")
        return A

    def __call__(self, s: Any, a: Any = None, use_target_model: bool = False) -> Any:
        """:math:`q(s,a)` as a float, or :math:`q(s,.)` of shape [num_actions] if ``a`` is None."""
        s = self.check_state(s)[None]
        weights = self._weights(use_target_model)
        if a is None:
            return np.asarray(self._eval_q_s(*weights, s))[0]
        A = self.check_actions(np.asarray([self.check_action(a)]), 1, "a")
        return np.asarray(self._eval_q_sa(*weights, s, A))[0].item()

    def batch_eval(self, S: Any, A: Any = None, use_target_model: bool = False) -> np.ndarray:
        """``Q_sa`` of shape [batch_size], or ``Q_s`` [batch_size, num_actions] if ``A`` is None."""
        S = self.check_states(S)
        weights = self._weights(use_target_model)
        if A is None:
            return np.asarray(self._eval_q_s(*weights, S))
        return np.asarray(self._eval_q_sa(*weights, S, self.check_actions(A, len(S))))

    def update(self, s: Any, a: Any, r: float, done: bool | None = None, *,
               terminated: bool | None = None, truncated: bool = False, s_next: Any = None,
               a_next: Any = None) -> None:
        """Update on a single transition (see :meth:`plugrl.td_learning.BaseTDLearning.update`).

        ``done`` means *terminated* (Gymnasium's ``terminated``, not ``terminated or
        truncated``); ``update(s, a, r, terminated=..., truncated=..., s_next=...)`` is the
        same call with Gymnasium's keyword.
        """
        self.updater.update(s, a, r, done, terminated=terminated, truncated=truncated,
                            s_next=s_next, a_next=a_next)

    def batch_update(self, S: Any, A: Any, Rn: Any, In: Any, S_next: Any,
                     A_next: Any = None) -> dict[str, float]:
        """Update on a batch of transitions; returns losses and metrics as floats."""
        return self.updater.batch_update(S, A, Rn, In, S_next, A_next)

    def bootstrap_target(self, Rn: Any, In: Any, S_next: Any, A_next: Any = None) -> np.ndarray:
        r"""The bootstrapped target :math:`G^{(n)}_t`, computed by the update strategy."""
        return self.updater.bootstrap_target(Rn, In, S_next, A_next)


class QTypeI(BaseQ):
    r"""A type-I state-action value function :math:`(s,a)\mapsto q(s,a)\in\mathbb{R}`.

    Works with discrete and ``Box`` action spaces; :math:`q(s,.)` (and so ``q_learning`` and
    ``double_q_learning``) needs a discrete one. Parameters as in :class:`BaseQ`.
    """

    HEAD: ClassVar[str] = "q1"

    def _action_input(self, A: Array) -> Array:
        if self.function_approximator.action_is_discrete:
            return ops.one_hot(A, self.num_actions, dtype="float32")
        return A

    def apply(self, params: Params, non_trainable: Params, S: Array, A: Array | None = None,
              training: bool = False) -> tuple[Array, Params]:
        """Pure forward pass :math:`q(S, A)`, parameters as in :meth:`BaseFunction.apply`;
        traceable. Returns ``Q_sa`` of shape [batch_size] and the updated non-trainables."""
        A = self._action_input(self._required(A))
        Q_sa, non_trainable = self._call_head(params, non_trainable, [S, A], training)
        return Q_sa[:, 0], non_trainable

    def apply_q_s(self, params: Params, non_trainable: Params, S: Array,
                  training: bool = False) -> tuple[Array, Params]:
        """Pure forward pass over every action, :math:`q(S, .)`, one ``apply`` per action on the
        same batch; traceable (see :meth:`BaseQ.apply_q_s`). The parts of the network that do not
        depend on the action (the default :meth:`~plugrl.FunctionApproximator.body_q1` applies
        the body to ``S`` alone) are then the same computation in every ``apply``, which XLA
        computes once: a convolutional body runs once, not once per action."""
        batch_size = S.shape[0]
        columns = []
        for a in range(self.num_actions):
            A = ops.full((batch_size,), a, dtype="int32")
            Q_sa, updated = self.apply(params, non_trainable, S, A, training)
            columns.append(Q_sa)
        return ops.stack(columns, axis=1), updated


class QTypeII(BaseQ):
    r"""A type-II state-action value function :math:`s\mapsto q(s,.)\in\mathbb{R}^n`.

    Needs a ``Discrete`` action space. Parameters as in :class:`BaseQ`.
    """

    HEAD: ClassVar[str] = "q2"

    def __init__(self, function_approximator: FunctionApproximator, gamma: float = 0.9,
                 bootstrap_n: int = 1, bootstrap_with_target_model: bool = False,
                 update_strategy: str = "sarsa", *, head_id: str | None = None) -> None:
        if not getattr(function_approximator, "action_is_discrete", True):
            raise TypeError("function_approximator: QTypeII expected a Discrete action space, got "
                            f"{function_approximator.action_space}; use QTypeI for continuous actions")
        super().__init__(function_approximator, gamma, bootstrap_n, bootstrap_with_target_model,
                         update_strategy, head_id=head_id)

    def apply_q_s(self, params: Params, non_trainable: Params, S: Array,
                  training: bool = False) -> tuple[Array, Params]:
        """Pure forward pass :math:`q(S, .)`; traceable (see :meth:`BaseQ.apply_q_s`)."""
        return self._call_head(params, non_trainable, S, training)

    def apply(self, params: Params, non_trainable: Params, S: Array, A: Array | None = None,
              training: bool = False) -> tuple[Array, Params]:
        """Pure forward pass :math:`q(S, A)`, read off :meth:`apply_q_s`; parameters as in
        :meth:`BaseFunction.apply`; traceable. Returns ``Q_sa`` of shape [batch_size] and the
        updated non-trainables."""
        A = self._required(A)
        Q_s, non_trainable = self.apply_q_s(params, non_trainable, S, training)
        return ops.take_along_axis(Q_s, A[:, None], axis=1)[:, 0], non_trainable
