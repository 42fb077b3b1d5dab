"""The state value function."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from plugrl._backend import Array, Params, jit
from plugrl.function_approximators.base import FunctionApproximator
from plugrl.updaters.td_learning import Sarsa
from plugrl.utils.validation import check_gamma, check_positive_int
from plugrl.value_functions.base import BaseFunction

__all__ = ["V"]


class V(BaseFunction):
    r"""A state value function :math:`s\mapsto v(s)`.

    It is updated by TD(n) (:class:`plugrl.td_learning.Sarsa`) towards
    :math:`G^{(n)}_t = R^{(n)}_t + I^{(n)}_t\,v(S_{t+n})`.

    Parameters
    ----------
    function_approximator : FunctionApproximator
        The main function approximator.
    gamma : float, optional
        The discount factor :math:`\gamma\in[0,1]`.
    bootstrap_n : positive int, optional
        The number of steps over which to delay bootstrapping (1: TD(0); large: Monte Carlo).
    bootstrap_with_target_model : bool, optional
        Whether to bootstrap with the target model instead of the primary model.
    head_id : str, optional
        Give this value function a head of its own on a shared function approximator.
    """

    HEAD: ClassVar[str] = "v"
    is_q_function: ClassVar[bool] = False

    def __init__(self, function_approximator: FunctionApproximator, gamma: float = 0.9,
                 bootstrap_n: int = 1, bootstrap_with_target_model: bool = False, *,
                 head_id: str | None = None) -> None:
        self.gamma = check_gamma(gamma)
        self.bootstrap_n = check_positive_int(bootstrap_n, "bootstrap_n")
        self.bootstrap_with_target_model = bool(bootstrap_with_target_model)
        super().__init__(function_approximator, head_id)
        self._eval = jit(lambda params, non_trainable, S: self.apply(params, non_trainable, S)[0])
        self._no_action = _zero_action(function_approximator)
        self.updater = Sarsa(self)

    def apply(self, params: Params, non_trainable: Params, S: Array, A: Array | None = None,
              training: bool = False) -> tuple[Array, Params]:
        """Pure forward pass :math:`v(S)`, parameters as in :meth:`BaseFunction.apply` (``A`` is
        ignored); traceable. Returns ``V`` of shape [batch_size] and the updated non-trainables."""
        V, non_trainable = self._call_head(params, non_trainable, S, training)
        return V[:, 0], non_trainable

    def __call__(self, s: Any, use_target_model: bool = False) -> float:
        """The estimated value :math:`v(s)` of a single state."""
        s = self.check_state(s)
        return np.asarray(self._eval(*self._weights(use_target_model), s[None]))[0].item()

    def batch_eval(self, S: Any, use_target_model: bool = False) -> np.ndarray:
        """State values :math:`v(S)`, shape [batch_size]."""
        S = self.check_states(S)
        return np.asarray(self._eval(*self._weights(use_target_model), S))

    def update(self, s: Any, r: float, done: bool | None = None, *,
               terminated: bool | None = None, truncated: bool = False,
               s_next: Any = None) -> None:
        """Update on a single transition (see :meth:`plugrl.td_learning.Sarsa.update`).

        ``done`` means *terminated* (Gymnasium's ``terminated``, not ``terminated or
        truncated``); ``update(s, r, terminated=..., truncated=..., s_next=...)`` is the same
        call with Gymnasium's keyword.
        """
        self.updater.update(s, self._no_action, r, done, terminated=terminated,
                            truncated=truncated, s_next=s_next)

    def batch_update(self, S: Any, Rn: Any, In: Any, S_next: Any) -> dict[str, float]:
        """Update on a batch of transitions; returns losses and metrics as floats."""
        return self.updater.batch_update(S, None, Rn, In, S_next)

    def bootstrap_target(self, Rn: Any, In: Any, S_next: Any) -> np.ndarray:
        r"""The bootstrapped target :math:`G^{(n)}_t = R^{(n)}_t + I^{(n)}_t\,v(S_{t+n})`."""
        return self.updater.bootstrap_target(Rn, In, S_next)


def _zero_action(function_approximator: FunctionApproximator) -> Any:
    """A valid placeholder action: a state value function ignores actions."""
    space = function_approximator.action_space
    if isinstance(space, gym.spaces.Discrete):
        return int(space.start)
    return np.zeros(space.shape, np.float32)
