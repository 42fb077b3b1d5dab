"""What every learned function (value function or policy) has: weights, a target, input checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np

from plugrl._backend import (
    Array,
    Params,
    TrainState,
    export_weights,
    import_weights,
    init_train_state,
    sync_target,
    unraveler,
)
from plugrl.function_approximators.base import FunctionApproximator, HeadModel
from plugrl.utils.pickling import Rebuildable
from plugrl.utils.validation import check_observation, check_observations

__all__ = ["BaseFunction", "TargetWeights"]


class TargetWeights(NamedTuple):
    """The target model's weights, in the form a jitted step takes them cheaply.

    Attributes
    ----------
    params : 1d array, shape: [num_trainable_weights]
        The trainable weights raveled into one vector (one leaf instead of one per array);
        :meth:`BaseFunction.unravel_params` turns it back into a tuple, inside jitted code too.
    non_trainable : tuple of arrays
        The non-trainable variables, in ``model.non_trainable_variables`` order.
    """

    params: Array
    non_trainable: Params


class BaseFunction(Rebuildable):
    """Common machinery for objects built on one head of a :class:`FunctionApproximator`.

    It owns the head's train state (optimizer state and target weights); the primary weights
    live in the function approximator's store, so that objects built on the same function
    approximator share the body's weights. Objects of the same kind on one function
    approximator share their head too, unless they are given different ``head_id`` values.

    The protocol that updaters and actor-critics build on is public: :attr:`head` (a
    :class:`~plugrl.function_approximators.HeadModel`), the pure forward function
    :meth:`apply`, :attr:`train_state`, :meth:`target_weights` with :meth:`unravel_params`,
    and the ``check_*`` methods.
    """

    HEAD: ClassVar[str]

    def __init__(self, function_approximator: FunctionApproximator,
                 head_id: str | None = None) -> None:
        if not isinstance(function_approximator, FunctionApproximator):
            raise TypeError(
                "function_approximator: expected a plugrl.FunctionApproximator, "
                f"got {type(function_approximator).__name__}"
            )
        self.function_approximator = function_approximator
        self.env = function_approximator.env
        self.head: HeadModel = function_approximator.head_model(self.HEAD, head_id)
        self._state: TrainState | None = None
        self._unravel: Callable[[Array], Params] | None = None
        self._gathered: tuple[Params, Params] = ((), ())
        self._gathered_version = -1

    @property
    def _train_state(self) -> TrainState:
        # Created on first use: agents use the forward functions only, and a train state costs
        # compilation time.
        if self._state is None:
            func = self.function_approximator
            self._state = init_train_state(func.gather(self.head.trainable),
                                           func.gather(self.head.non_trainable), func.optimizer)
        return self._state

    @_train_state.setter
    def _train_state(self, state: TrainState) -> None:
        self._state = state

    # ------------------------------------------------------------------ forward pass
    def apply(self, params: Params, non_trainable: Params, S: Array, A: Array | None = None,
              training: bool = False) -> tuple[Array | tuple[Array, ...], Params]:
        """Pure forward pass of the head over explicit weights; traceable.

        Parameters
        ----------
        params, non_trainable : tuple of arrays
            The head model's trainable and non-trainable variables, in model order (e.g.
            ``train_state.params`` and ``train_state.non_trainable``).
        S : nd array, shape: [batch_size, ...]
            A batch of state observations.
        A : nd array, shape: [batch_size, ...]
            A batch of actions (ints for a ``Discrete`` space): required by Q-functions,
            ignored by state value functions and policies.
        training : bool, optional
            Whether layers run in training mode (dropout, batch statistics).

        Returns
        -------
        output : array or tuple of arrays
            ``V`` [batch_size], ``Q_sa`` [batch_size] or a policy's distribution parameters.
        non_trainable : tuple of arrays
            The updated non-trainable variables.
        """
        raise NotImplementedError

    def _call_head(self, params: Params, non_trainable: Params, inputs: Array | list[Array],
                   training: bool) -> tuple[Any, Params]:
        """The head model called statelessly: its output and updated non-trainables."""
        output, non_trainable = self.head.model.stateless_call(
            list(params), list(non_trainable), inputs, training=training)
        return output, tuple(non_trainable)

    # ------------------------------------------------------------------ train state
    @property
    def train_state(self) -> TrainState:
        """The train state, with the current primary weights from the shared store.

        ``params`` and ``non_trainable`` are in the order of the head model's
        ``trainable_variables`` and ``non_trainable_variables``. Setting it writes the primary
        weights back into the store and keeps the targets and optimizer state.
        """
        func, head = self.function_approximator, self.head
        return self._train_state._replace(
            params=func.gather(head.trainable), non_trainable=func.gather(head.non_trainable)
        )

    @train_state.setter
    def train_state(self, state: TrainState) -> None:
        func, head = self.function_approximator, self.head
        func.scatter(head.trainable, state.params)
        func.scatter(head.non_trainable, state.non_trainable)
        self._train_state = state

    def target_weights(self) -> TargetWeights:
        """The target model's weights, as a jitted step takes them (see :class:`TargetWeights`);
        without gathering the primary weights."""
        state = self._train_state
        return TargetWeights(state.target_params, state.target_non_trainable)

    def unravel_params(self, flat: Array) -> Params:
        """The inverse of raveling this head's trainable weights; traceable.

        Parameters
        ----------
        flat : 1d array, shape: [num_trainable_weights]
            E.g. ``target_weights().params``, possibly traced.

        Returns
        -------
        params : tuple of arrays
            In the order and shapes of ``train_state.params``.
        """
        if self._unravel is None:
            self._unravel = unraveler(self._train_state.params)
        return self._unravel(flat)

    def _weights(self, use_target_model: bool) -> tuple[Params, Params]:
        if use_target_model:
            return self._train_state.targets(), self._train_state.target_non_trainable
        func, head = self.function_approximator, self.head
        if self._gathered_version != func.version:  # acting calls this every step
            self._gathered = func.gather(head.trainable), func.gather(head.non_trainable)
            self._gathered_version = func.version
        return self._gathered

    def sync_target_model(self, tau: float = 1.0) -> None:
        r"""Synchronize the target model with the primary model.

        .. math::

            w_\text{target}\ \leftarrow\ (1 - \tau)\,w_\text{target} + \tau\,w_\text{primary}

        Parameters
        ----------
        tau : float between 0 and 1, optional
            The amount of exponential smoothing; 1 (default) copies the primary weights.
        """
        tau = float(tau)
        if not 0.0 <= tau <= 1.0:
            raise ValueError(f"tau: expected a float in [0, 1], got {tau}")
        self.train_state = sync_target(self.train_state, tau)

    def get_weights(self, use_target_model: bool = False) -> list[np.ndarray]:
        """Trainable weights as NumPy copies, in ``model.trainable_variables`` order."""
        return export_weights(self._weights(use_target_model)[0])

    def set_weights(self, weights: Sequence[Any], use_target_model: bool = False) -> None:
        """Set trainable weights from NumPy arrays (same order and shapes as :meth:`get_weights`)."""
        state = self.train_state
        if use_target_model:
            targets = import_weights(state.targets(), weights, name="weights")
            self.train_state = state.with_targets(targets)
        else:
            self.train_state = state._replace(
                params=import_weights(state.params, weights, name="weights"))

    # ------------------------------------------------------------------ input checks
    def check_state(self, s: Any) -> np.ndarray:
        """One observation, checked against the observation space (see :func:`check_observation`)."""
        func = self.function_approximator
        return check_observation(s, func.observation_space.shape, func.observation_dtype)

    def check_states(self, S: Any, name: str = "S") -> np.ndarray:
        """A batch of observations, checked against the observation space."""
        func = self.function_approximator
        return check_observations(S, func.observation_space.shape, func.observation_dtype, name)

    def check_action(self, a: Any) -> Any:
        space = self.function_approximator.action_space
        if isinstance(space, gym.spaces.Discrete):
            if not (np.ndim(a) == 0 and np.issubdtype(np.asarray(a).dtype, np.integer)):
                raise ValueError(f"a: expected an int action in {space}, got {a!r}")
            if not space.start <= int(a) < space.start + space.n:
                raise ValueError(f"a: expected an action in {space}, got {a!r}")
            return int(a)
        a = np.asarray(a, dtype=np.float32)
        if a.shape != space.shape or not np.all(np.isfinite(a)):
            raise ValueError(f"a: expected a finite action of shape {space.shape}, got {a!r}")
        return a

    def check_actions(self, A: Any, batch_size: int, name: str = "A") -> np.ndarray:
        space = self.function_approximator.action_space
        A = np.asarray(A)
        if isinstance(space, gym.spaces.Discrete):
            if A.ndim == 2 and A.shape == (batch_size, space.n):
                A = A.argmax(axis=1)  # one-hot encoded actions, as the seed allows
            if A.shape != (batch_size,) or not np.issubdtype(A.dtype, np.integer):
                raise ValueError(f"{name}: expected int actions of shape [{batch_size}], "
                                 f"got {A.dtype} of shape {A.shape}")
            if A.size and (A.min() < 0 or A.max() >= space.n):
                raise ValueError(f"{name}: expected actions in [0, {space.n}), got values "
                                 f"in [{A.min()}, {A.max()}]")
            return A.astype(np.int32)
        A = A.astype(np.float32)
        if A.shape != (batch_size, *space.shape):
            raise ValueError(f"{name}: expected shape {(batch_size, *space.shape)}, got {A.shape}")
        return A

