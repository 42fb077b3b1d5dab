r"""The training of a :class:`~plugrl.caching.GAE` critic's value function (pyrado's ``GAE.update``).

:class:`ValueFit` fits a state-value head :math:`v_\phi` to fixed targets :math:`G_t` by
minimising :math:`L(\phi) = \operatorname{mean}_t\,(v_\phi(s_t) - G_t)^2` with its own Adam,
epochs, minibatches, gradient clipping and learning rate. All epochs of one fit are one jitted
call: :func:`~plugrl._backend.train_step` for each minibatch, :func:`~plugrl._backend.minibatch_epochs`
for each epoch, and a scan over the epochs so that the learning rate can change from one epoch to
the next (pyrado's schedulers step once per epoch).

The value function is taken by its public protocol only (``function_approximator``, ``head`` and
a pure ``apply``), so :mod:`plugrl.caching` needs nothing from the packages above it.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import numpy as np

from plugrl._backend import (
    Metrics,
    TrainState,
    init_train_state,
    jit,
    keras,
    minibatch_epochs,
    on_raveled_params,
    prng_key,
    scan_steps,
    scheduled_adam,
    split_key,
    split_keys,
    train_step,
    with_learning_rate,
)
from plugrl.utils.validation import check_positive_int

ops = keras.ops

__all__ = ["ValueFit", "ValueHead", "ValueFunctionLike", "as_value_function"]


class ValueFunctionLike(Protocol):
    """What a critic needs of a value function: a plugrl ``V`` satisfies it, and so does
    :class:`ValueHead`."""

    @property
    def function_approximator(self) -> Any: ...

    @property
    def head(self) -> Any: ...

    def apply(self, params: Any, non_trainable: Any, S: Any, A: Any = None,
              training: bool = False) -> tuple[Any, Any]: ...


class ValueHead(NamedTuple):
    """The ``head_v`` of a function approximator as a value function: ``apply(params,
    non_trainable, S) -> (V [batch], non_trainable)``, as :meth:`plugrl.V.apply` gives it."""

    function_approximator: Any
    head: Any

    def apply(self, params: Any, non_trainable: Any, S: Any, A: Any = None,
              training: bool = False) -> tuple[Any, Any]:
        output, non_trainable = self.head.model.stateless_call(
            list(params), list(non_trainable), S, training=training)
        return output[:, 0], tuple(non_trainable)


def as_value_function(vfcn: Any) -> ValueFunctionLike:
    """A plugrl ``V`` as it is; a :class:`~plugrl.FunctionApproximator` as its ``head_v``.

    Raises
    ------
    TypeError
        For anything else (a Q-function or a policy included).
    """
    if getattr(vfcn, "HEAD", None) == "v" and callable(getattr(vfcn, "apply", None)):
        return vfcn
    if callable(getattr(vfcn, "head_model", None)):
        return ValueHead(vfcn, vfcn.head_model("v"))
    raise TypeError(f"vfcn: expected a plugrl.V or a plugrl.FunctionApproximator, "
                    f"got {type(vfcn).__name__}")


class ValueFit:
    r"""Minibatch epochs of :math:`\operatorname{mean}(v_\phi(s) - G)^2` on one value function.

    Parameters
    ----------
    vfcn : ValueFunctionLike
        The value function; its weights are read from and written back to its function
        approximator's store at every :meth:`fit`.
    num_epoch : int
        Passes over the samples of one fit.
    batch_size : int
        Samples per gradient step; samples beyond whole minibatches sit each epoch out.
    max_grad_norm : float or None
        Clip the gradient to this global norm.
    lr : float
        The initial learning rate (Adam with epsilon 1e-5, as the on-policy learner's).
    """

    def __init__(self, vfcn: ValueFunctionLike, num_epoch: int, batch_size: int,
                 max_grad_norm: float | None, lr: float) -> None:
        self.vfcn = vfcn
        self.num_epoch = check_positive_int(num_epoch, "num_epoch")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        if max_grad_norm is not None and not float(max_grad_norm) > 0:
            raise ValueError(f"max_grad_norm: expected None or a float > 0, got {max_grad_norm!r}")
        if not float(lr) >= 0:
            raise ValueError(f"lr: expected a float >= 0, got {lr!r}")
        self.max_grad_norm, self.lr = max_grad_norm, float(lr)
        self.optimizer = scheduled_adam(self.lr, max_grad_norm, raveled=True)
        self.state: TrainState | None = None  # created at the first fit (it costs a compilation)
        self._key = prng_key(0)  # the loss draws nothing; minibatch_epochs wants keys all the same
        self._fit = jit(self.fit_step)

    def weights(self) -> tuple[Any, Any]:
        """The value head's current trainable and non-trainable variables, from the store."""
        func, head = self.vfcn.function_approximator, self.vfcn.head
        return func.gather(head.trainable), func.gather(head.non_trainable)

    def loss(self, params: Any, state: TrainState, batch: dict[str, Any],
             key: Any) -> tuple[Any, tuple[Any, dict[str, Any]]]:
        """The mean squared error of one minibatch, in :func:`~plugrl._backend.train_step`'s form."""
        V_pred, non_trainable = self.vfcn.apply(params, state.non_trainable, batch["S"], training=True)
        loss = ops.mean(ops.square(V_pred - batch["G"]))
        return loss, (non_trainable, {"GAE/value_loss": loss})

    def fit_step(self, state: TrainState, batch: dict[str, Any], indices: Any, lrs: Any,
                 key: Any) -> tuple[TrainState, Metrics]:
        """Every epoch of one fit; pure (jitted by :meth:`fit`).

        Parameters
        ----------
        state : TrainState
        batch : dict
            ``S`` [size, *obs_shape] and the targets ``G`` [size].
        indices : int array, shape ``[num_epoch, num_minibatches, batch_size]``
            Each epoch's shuffle.
        lrs : float array, shape ``[num_epoch]``
            Each epoch's learning rate.
        key : raw JAX key
        """
        def epochs(state: TrainState, unravel: Any) -> tuple[TrainState, Metrics]:
            step = train_step(lambda flat, st, minibatch, k: self.loss(unravel(flat), st, minibatch, k),
                              self.optimizer, "GAE")

            def epoch(st: TrainState, xs: tuple) -> tuple[TrainState, Metrics]:
                order, lr, k = xs
                st = st._replace(opt_state=with_learning_rate(st.opt_state, lr))
                return minibatch_epochs(step, st, batch, order[None], k)

            state, metrics, _ = scan_steps(epoch, state, (indices, lrs, split_keys(key, len(lrs))))
            return state, metrics

        return on_raveled_params(epochs, state)

    def fit(self, S: np.ndarray, G: np.ndarray, lrs: np.ndarray,
            rng: np.random.Generator) -> dict[str, float]:
        """Fit the value function to the targets ``G`` [size] of observations ``S``
        [size, *obs_shape] with the learning rates ``lrs`` [num_epoch]; returns the metrics
        averaged over all steps."""
        size = len(G)
        if size < self.batch_size:
            raise ValueError(f"batch_size: expected at most the {size} samples of the rollouts, "
                             f"got {self.batch_size}")
        params, non_trainable = self.weights()
        if self.state is None:
            self.state = init_train_state(params, non_trainable, self.optimizer)
        state = self.state._replace(params=params, non_trainable=non_trainable)
        num_minibatches = size // self.batch_size
        indices = np.stack([rng.permutation(size)[: num_minibatches * self.batch_size]
                            for _ in range(self.num_epoch)])
        indices = indices.reshape(self.num_epoch, num_minibatches, self.batch_size).astype(np.int32)
        self._key, key = split_key(self._key)
        batch = {"S": np.asarray(S, np.float32), "G": np.asarray(G, np.float32)}
        self.state, metrics = self._fit(state, batch, indices, np.asarray(lrs, np.float32), key)
        func, head = self.vfcn.function_approximator, self.vfcn.head
        func.scatter(head.trainable, self.state.params)
        func.scatter(head.non_trainable, self.state.non_trainable)
        return metrics.to_dict()
