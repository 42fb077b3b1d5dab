r"""Generalized advantage estimation (GAE): advantages and TD(:math:`\lambda`) returns.

:func:`gae_advantages` is the one implementation of the GAE recursion in plugrl. It is written in
``keras.ops``, so the same code runs eagerly on NumPy arrays and inside a fully jitted training
step; :class:`GAE` wraps it for NumPy batches from a rollout, with argument checks.

References
----------
J. Schulman, P. Moritz, S. Levine, M. Jordan, P. Abbeel, "High-Dimensional Continuous Control
Using Generalized Advantage Estimation", ICLR 2016.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from plugrl._backend import init_train_state, is_concrete, jit, keras
from plugrl.caching.value_fit import ValueFit, ValueFunctionLike, as_value_function
from plugrl.utils.pickling import Rebuildable
from plugrl.utils.running_moments import Moments, RunningNormalizer
from plugrl.utils.schedules import schedule_value, scheduled_lr
from plugrl.utils.validation import check_unit_interval

__all__ = ["GAE", "gae_advantages", "standardize"]

ops = keras.ops

_EPSILON = 1e-8
_FIELDS = ("R", "V", "V_next", "terminated", "episode_end")


def gae_advantages(
    R: Any, V: Any, V_next: Any, terminated: Any, episode_end: Any, gamma: Any, gae_lambda: Any
) -> tuple[Any, Any]:
    r"""Generalized advantage estimates and TD(:math:`\lambda`) returns of a time-major batch.

    With :math:`d_t` the episode-end flag and :math:`\tau_t` the termination flag,

    .. math::

        \delta_t = r_t + \gamma\,(1 - \tau_t)\,V(s'_t) - V(s_t), \qquad
        A_t = \delta_t + \gamma\lambda\,(1 - d_t)\,A_{t+1}, \qquad A_T = 0,

    and the value targets are :math:`R^\lambda_t = A_t + V(s_t)`. Each column (env) is an
    independent sequence; the recursion never crosses an episode end.

    Parameters
    ----------
    R : array, shape ``[T, N]``
        The rewards :math:`r_t`.
    V : array, shape ``[T, N]``
        The values :math:`V(s_t)` of the observations at which the actions were taken.
    V_next : array, shape ``[T, N]``
        The values :math:`V(s'_t)` of the observations that followed each step. After a
        truncated step :math:`s'_t` is the episode's *final* observation (not the reset one);
        after a terminated step the entry is ignored (it may even be NaN).
    terminated : array of bool or {0, 1}, shape ``[T, N]``
        Whether the episode terminated at step :math:`t` (no bootstrapping from :math:`s'_t`).
    episode_end : array of bool or {0, 1}, shape ``[T, N]``
        Whether the episode ended (terminated or truncated) at step :math:`t`; it stops the
        recursion. A terminated step counts as an end even if this flag is not set.
    gamma : float or scalar array
        The discount factor :math:`\gamma \in [0, 1]`; may be a traced value under ``jit``.
    gae_lambda : float or scalar array
        The bias-variance trade-off :math:`\lambda \in [0, 1]`; 0 gives one-step TD errors,
        1 gives Monte-Carlo returns minus :math:`V(s_t)` within an episode.

    Returns
    -------
    Adv : tensor, float32, shape ``[T, N]``
        The advantages :math:`A_t`.
    Rlambda : tensor, float32, shape ``[T, N]``
        The TD(:math:`\lambda`) returns :math:`R^\lambda_t = A_t + V(s_t)`.

    Raises
    ------
    ValueError
        If the inputs do not share one shape with a leading time axis, or (concrete inputs
        only) if ``gamma`` or ``gae_lambda`` is outside [0, 1] or an input holds NaN.

    Notes
    -----
    Called eagerly, the scan is traced anew each time (tens of milliseconds); call it inside a
    jitted function, or use :class:`GAE`, which compiles it once, for repeated NumPy batches.
    """
    R, V, V_next, terminated, episode_end = _as_float32(R, V, V_next, terminated, episode_end)
    if is_concrete(gamma, gae_lambda):
        check_unit_interval(gamma, "gamma")
        check_unit_interval(gae_lambda, "gae_lambda")
    if is_concrete(R, V, V_next, terminated):
        _check_no_nan(R=R, V=V, V_next=ops.where(terminated > 0, 0.0, V_next))
    # where, not multiplication: V_next after a termination is a placeholder that may be NaN.
    delta = R + gamma * ops.where(terminated > 0, 0.0, V_next) - V
    decay = gamma * gae_lambda * (1.0 - ops.maximum(terminated, episode_end))

    def backward(A_next: Any, step: tuple[Any, Any]) -> tuple[Any, Any]:
        delta_t, decay_t = step
        A_t = delta_t + decay_t * A_next
        return A_t, A_t

    _, Adv = ops.scan(backward, ops.zeros_like(delta[0]), (delta, decay), reverse=True)
    return Adv, Adv + V


def standardize(Adv: Any) -> Any:
    r"""Standardize advantages over the whole batch.

    .. math::

        \hat{A} = \frac{A - \operatorname{mean}(A)}{\operatorname{std}(A) + \epsilon},
        \qquad \epsilon = 10^{-8},

    with the population standard deviation over all entries (time and envs together).

    Parameters
    ----------
    Adv : array, shape ``[T, N]`` (any shape)
        The advantages.

    Returns
    -------
    tensor, float32, same shape as ``Adv``
    """
    Adv = ops.cast(ops.convert_to_tensor(Adv), "float32")
    return (Adv - ops.mean(Adv)) / (ops.std(Adv) + _EPSILON)


class GAE(Rebuildable):
    r"""Generalized advantage estimation: a calculator, or pyrado's critic that trains a value function.

    ``GAE(gamma, gae_lambda)`` is a calculator: a checked front end to :func:`gae_advantages`
    (see there for the formulas), compiled once, called on NumPy batches from a rollout. The
    discount factors are arguments of the compiled function, so changing them does not
    recompile.

    ``GAE(vfcn, gamma, lamda, ...)`` is pyrado's critic (seed 004, ``pyrado.algorithms.step_based.gae.GAE``):
    it owns the value function ``vfcn`` and trains it itself (:meth:`update`), with its own
    Adam, epochs, minibatches, gradient clipping and learning rate, and computes the states'
    values (:meth:`values`), the advantages (:meth:`gae`) and the TD(:math:`\lambda`) returns
    (:meth:`tdlamda_returns`) of rollouts. Given to an on-policy agent as ``critic=``, it
    replaces the agent's own value function and advantage settings.

    Parameters
    ----------
    vfcn : plugrl.V or FunctionApproximator, optional
        The critic's value function (a function approximator gives its ``head_v``). A number in
        this place is ``gamma``: the calculator's positional form ``GAE(gamma, gae_lambda,
        standardize)`` keeps working.
    gamma : float, optional
        The discount factor :math:`\gamma \in [0, 1]`; default 0.99.
    lamda : float, optional
        The bias-variance trade-off :math:`\lambda \in [0, 1]`, pyrado's spelling of
        ``gae_lambda`` (give one of the two); default 0.95.
    num_epoch : int, optional
        Critic only: passes over the samples in one :meth:`update`.
    batch_size : int, optional
        Critic only: samples per gradient step of the value function.
    standardize_adv : bool, optional
        Standardize the advantages over the batch (:func:`standardize`), alias ``standardize``;
        default True for a critic (pyrado), False for the calculator (as before). The returns
        :math:`R^\lambda` are always computed from the raw advantages.
    standardizer : RunningNormalizer, optional
        Critic only: standardize the advantages with running statistics of all advantages so
        far instead of the batch's own (pyrado's ``RunningStandardizer``); make it with
        ``plugrl.utils.running_moments.RunningNormalizer(())``.
    max_grad_norm : float, optional
        Critic only: clip the value function's gradient to this global norm (None: no clipping).
    lr : float, optional
        Critic only: the (initial) learning rate of the value function's Adam.
    lr_scheduler, lr_scheduler_hparam : optional
        Critic only: pyrado's learning-rate scheduler, stepped once per epoch of
        :meth:`update` (as pyrado's GAE steps it), and its hyperparameters: a torch scheduler's
        name such as ``'ExponentialLR'`` with ``{'gamma': 0.9}``, or an optax schedule of the
        epoch count; see :func:`plugrl.utils.schedules.scheduled_lr`.
    gae_lambda : float, optional
        plugrl's name of ``lamda``.
    standardize : bool, optional
        plugrl's name of ``standardize_adv``.

    Examples
    --------
    >>> gae = GAE(gamma=0.99, gae_lambda=0.95)  # doctest: +SKIP
    >>> Adv, Rlambda = gae(R, V, V_next, terminated, truncated)  # doctest: +SKIP
    >>> critic = GAE(plugrl.V(func), gamma=0.99, lamda=0.95, num_epoch=5, lr=1e-3)  # doctest: +SKIP
    >>> agent = plugrl.agents.PPO("CartPole-v1", critic=critic)  # doctest: +SKIP

    A critic pickles (its value function, optimizer state, schedule clock and standardizer
    with it), and an agent's checkpoints hold its :meth:`state`.
    """

    def __init__(self, vfcn: Any = None, gamma: float | None = None, lamda: float | None = None,
                 num_epoch: int = 10, batch_size: int = 64, standardize_adv: bool | None = None,
                 standardizer: RunningNormalizer | None = None, max_grad_norm: float | None = None,
                 lr: float = 5e-4, lr_scheduler: Any = None, lr_scheduler_hparam: dict | None = None,
                 *, gae_lambda: float | None = None, standardize: bool | None = None) -> None:
        if isinstance(vfcn, numbers.Real) and not isinstance(vfcn, (bool, np.bool_)):
            vfcn, gamma, gae_lambda, standardize = None, vfcn, *_shifted(
                gamma, gae_lambda, "gae_lambda", lamda, standardize, "standardize")
            lamda = None
        self.gamma = check_unit_interval(0.99 if gamma is None else gamma, "gamma")
        self.gae_lambda = check_unit_interval(
            _one_of("lamda", lamda, "gae_lambda", gae_lambda, 0.95),
            "lamda" if lamda is not None else "gae_lambda")
        flag = _one_of("standardize_adv", standardize_adv, "standardize", standardize, vfcn is not None)
        if not isinstance(flag, (bool, np.bool_)):
            name = "standardize" if standardize is not None else "standardize_adv"
            raise TypeError(f"{name}: expected a bool, got {type(flag).__name__} {flag!r}")
        self.standardize = bool(flag)
        self.vfcn: ValueFunctionLike | None = None
        self.fitter: ValueFit | None = None
        if vfcn is None:
            _check_calculator_only(num_epoch=(num_epoch, 10), batch_size=(batch_size, 64),
                                   standardizer=(standardizer, None), max_grad_norm=(max_grad_norm, None),
                                   lr=(lr, 5e-4), lr_scheduler=(lr_scheduler, None),
                                   lr_scheduler_hparam=(lr_scheduler_hparam, None))
        else:
            self.vfcn = as_value_function(vfcn)
            self._lr_schedule = scheduled_lr(lr, lr_scheduler, lr_scheduler_hparam)
            first_lr = float(schedule_value(self._lr_schedule, 0.0, iteration=0))
            self.fitter = ValueFit(self.vfcn, num_epoch, batch_size, max_grad_norm, first_lr)
            self._values = jit(lambda params, non_trainable, S: self.vfcn.apply(params, non_trainable, S)[0])
        self.standardizer = standardizer
        self.lr_scheduler, self.lr_scheduler_hparam = lr_scheduler, lr_scheduler_hparam
        #: Epochs of :meth:`update` since the start or the last :meth:`reset` (the schedule's clock).
        self.epochs_done = 0
        self.metrics: dict[str, float] = {}

    @property
    def lamda(self) -> float:
        """pyrado's name of :attr:`gae_lambda`."""
        return self.gae_lambda

    @property
    def standardize_adv(self) -> bool:
        """pyrado's name of :attr:`standardize`."""
        return self.standardize

    def __repr__(self) -> str:
        if self.fitter is None:
            return f"GAE(gamma={self.gamma}, gae_lambda={self.gae_lambda}, standardize={self.standardize})"
        f = self.fitter
        return (f"GAE({type(self.vfcn).__name__}, gamma={self.gamma}, lamda={self.gae_lambda}, "
                f"num_epoch={f.num_epoch}, batch_size={f.batch_size}, standardize_adv={self.standardize}, "
                f"max_grad_norm={f.max_grad_norm}, lr={f.lr})")

    def __call__(
        self,
        R: npt.ArrayLike,
        V: npt.ArrayLike,
        V_next: npt.ArrayLike,
        terminated: npt.ArrayLike,
        truncated: npt.ArrayLike,
        *,
        gae_lambda: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""Compute advantages and TD(:math:`\lambda`) returns.

        Parameters
        ----------
        R, V, V_next : array-like, shape ``[T, N]``
            Rewards, values of the observations and values of the following observations (the
            final observation after an episode end), as in :func:`gae_advantages`.
        terminated, truncated : array-like of bool, shape ``[T, N]``
            Gymnasium's episode-end flags for each step.
        gae_lambda : float, optional
            Replaces :attr:`gae_lambda` for this call (1 gives the empirical returns).

        Returns
        -------
        Adv : ndarray, float32, shape ``[T, N]``
            The advantages, standardized if ``standardize=True`` (with the ``standardizer``'s
            running statistics, if there is one, which this call updates).
        Rlambda : ndarray, float32, shape ``[T, N]``
            The TD(:math:`\lambda`) returns :math:`A_t + V(s_t)` from the raw advantages.

        Raises
        ------
        ValueError
            On mismatched shapes or NaN inputs.
        """
        arrays = [np.asarray(x, dtype=np.float32) for x in (R, V, V_next, terminated, truncated)]
        _check_shapes(arrays, names=(*_FIELDS[:4], "truncated"))
        R_, V_, V_next_, term_, trunc_ = arrays
        _check_no_nan(R=R_, V=V_, V_next=np.where(term_ > 0, 0.0, V_next_))
        end = np.maximum(term_, trunc_)
        lam = self.gae_lambda if gae_lambda is None else check_unit_interval(gae_lambda, "gae_lambda")
        in_batch = self.standardize and self.standardizer is None
        Adv, Rlambda = _gae_jitted(R_, V_, V_next_, term_, end, self.gamma, lam, in_batch)
        Adv, Rlambda = np.asarray(Adv), np.asarray(Rlambda)
        if self.standardize and self.standardizer is not None:
            self.standardizer.update(Adv.reshape(-1))
            Adv = self.standardizer(Adv)
        return Adv, Rlambda

    # ------------------------------------------------------------------ the critic (pyrado)
    def values(self, concat_ros: Any) -> np.ndarray:
        """The states' values: ``V`` [T, N] of a rollout's ``S`` (a :class:`~plugrl.samplers.Rollout`),
        or ``V`` [batch] of an array of observations [batch, *obs_shape]."""
        fitter = self._critic("values")
        S = np.asarray(getattr(concat_ros, "S", concat_ros), np.float32)
        obs_shape = tuple(fitter.vfcn.function_approximator.observation_space.shape)
        lead = S.shape[: S.ndim - len(obs_shape)]
        V = self._values(*fitter.weights(), S.reshape(-1, *obs_shape))
        return np.asarray(V).reshape(lead)

    def gae(self, concat_ros: Any, v_pred: npt.ArrayLike | None = None) -> np.ndarray:
        """The advantages [T, N] of a rollout (standardized as the critic says); ``v_pred``: the
        values [T, N] of its ``S`` if already computed (those of ``S_next`` are computed here)."""
        return self._advantages(concat_ros, v_pred)[0]

    def tdlamda_returns(self, v_pred: npt.ArrayLike | None = None, adv: npt.ArrayLike | None = None,
                        concat_ros: Any = None) -> np.ndarray:
        r"""The TD(:math:`\lambda`) returns :math:`R^\lambda = V + A` [T, N]: of the given values and
        advantages, or computed from ``concat_ros`` where they are None (the advantages then
        raw, not standardized)."""
        if adv is None or v_pred is None:
            if concat_ros is None:
                raise ValueError("concat_ros: expected a rollout when v_pred or adv is None, got None")
            v_pred = self.values(concat_ros) if v_pred is None else v_pred
            # standardize=False: the returns need the raw advantages, and a standardizer must not
            # count this rollout's advantages a second time.
            adv = self._advantages(concat_ros, v_pred, standardize=False)[1] - np.asarray(v_pred, np.float32)
        return np.asarray(v_pred, np.float32) + np.asarray(adv, np.float32)

    def update(self, rollouts: Any, use_empirical_returns: bool = False, *,
               rng: np.random.Generator | None = None) -> np.ndarray:
        r"""Fit the value function to the rollout's returns; return its advantages after the fit.

        The targets are computed once, before the fit, with the current values: the
        TD(:math:`\lambda`) returns, or with ``use_empirical_returns`` the discounted returns
        of the rollout (:math:`\lambda = 1`: bootstrapped only where an episode was truncated or
        the rollout cut it). Then :attr:`num_epoch` epochs of minibatches minimise
        :math:`\operatorname{mean}(v(s) - G)^2`, each epoch at the learning rate of
        :meth:`learning_rates`.

        Parameters
        ----------
        rollouts : Rollout
            Time-major steps ``S``, ``R``, ``terminated``, ``truncated``, ``S_next`` [T, N, ...]
            (:class:`plugrl.samplers.Rollout`); observations as the value function takes them.
        use_empirical_returns : bool, optional
            Fit the Monte-Carlo returns instead of the TD(:math:`\lambda`) returns.
        rng : numpy.random.Generator, optional
            Draws the minibatches' shuffles (an agent passes its own; default: a fresh one).

        Returns
        -------
        Adv : ndarray, float32, shape ``[T, N]``
        """
        fitter = self._critic("update")
        _, G = self._advantages(rollouts, None, gae_lambda=1.0 if use_empirical_returns else None,
                                standardize=False)
        S = np.asarray(rollouts.S, np.float32)
        #: The last update's metrics ("GAE/value_loss", "GAE/grad_norm", ...), averaged over its steps.
        self.metrics = fitter.fit(S.reshape(G.size, *S.shape[G.ndim:]), G.reshape(-1),
                                  self.learning_rates(self.epochs_done, fitter.num_epoch),
                                  rng if rng is not None else np.random.default_rng())
        self.epochs_done += fitter.num_epoch
        return self.gae(rollouts)

    def learning_rates(self, first_epoch: int, num_epoch: int) -> np.ndarray:
        """The learning rates of epochs ``first_epoch, ..., first_epoch + num_epoch - 1``
        [num_epoch] (counted since the start or the last :meth:`reset`): ``lr`` throughout
        without a scheduler."""
        self._critic("learning_rates")
        return np.array([schedule_value(self._lr_schedule, 0.0, iteration=e)
                         for e in range(first_epoch, first_epoch + num_epoch)], np.float32)

    def reset(self) -> None:
        """Reset the critic to its initial state, as pyrado's: the learning-rate schedule starts
        again and a ``standardizer`` forgets its statistics (the weights stay)."""
        self.epochs_done = 0
        if self.standardizer is not None:
            shape = np.shape(self.standardizer.mean)
            self.standardizer.load_moments(Moments(np.zeros(shape), np.ones(shape), 0.0))

    def state(self) -> dict[str, np.ndarray]:
        """The critic's state beyond its value function's weights, as named arrays (to save in a
        checkpoint): the epochs done, its optimizer's state (once it has one) and the
        standardizer's statistics."""
        fitter = self._critic("state")
        arrays = {"epochs_done": np.asarray(self.epochs_done)}
        if fitter.state is not None:
            leaves = keras.tree.flatten(fitter.state.opt_state)
            arrays.update({f"optimizer/{i}": np.array(leaf) for i, leaf in enumerate(leaves)})
        if self.standardizer is not None:
            arrays.update({f"standardizer/{k}": v for k, v in self.standardizer.state().items()})
        return arrays

    def load_state(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Restore what :meth:`state` saved (the value function's weights are restored apart)."""
        fitter = self._critic("load_state")
        self.epochs_done = int(arrays["epochs_done"])
        if "optimizer/0" in arrays:
            fitter.state = init_train_state(*fitter.weights(), fitter.optimizer)
            template = keras.tree.flatten(fitter.state.opt_state)
            leaves = [np.asarray(arrays[f"optimizer/{i}"]) for i in range(len(template))]
            fitter.state = fitter.state._replace(
                opt_state=keras.tree.pack_sequence_as(fitter.state.opt_state, leaves))
        else:
            fitter.state = None
        if self.standardizer is not None:
            self.standardizer.load_state({k: arrays[f"standardizer/{k}"] for k in ("mean", "var", "count")})

    def _critic(self, method: str) -> ValueFit:
        if self.fitter is None:
            raise ValueError(f"{method}: expected a critic, GAE(vfcn, ...), got the calculator {self!r}")
        return self.fitter

    def _advantages(self, ros: Any, v_pred: npt.ArrayLike | None, gae_lambda: float | None = None,
                    standardize: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Advantages (standardized if ``standardize`` and the critic says so) and returns [T, N]."""
        V = self.values(ros) if v_pred is None else np.asarray(v_pred, np.float32)
        V_next = self.values(np.asarray(ros.S_next))
        keep, self.standardize = self.standardize, self.standardize and standardize
        try:
            return self(ros.R, V, V_next, ros.terminated, ros.truncated, gae_lambda=gae_lambda)
        finally:
            self.standardize = keep


def _gae_and_standardize(
    R: Any, V: Any, V_next: Any, terminated: Any, episode_end: Any,
    gamma: Any, gae_lambda: Any, standardize_adv: bool,
) -> tuple[Any, Any]:
    Adv, Rlambda = gae_advantages(R, V, V_next, terminated, episode_end, gamma, gae_lambda)
    return (standardize(Adv) if standardize_adv else Adv), Rlambda


# Compiled lazily on first call; static in the flag only, so gamma and lambda may change freely.
_gae_jitted = jit(_gae_and_standardize, static_argnums=(7,))


def _as_float32(*arrays: Any) -> list[Any]:
    """Convert to float32 tensors, checking for one common shape with a leading time axis."""
    tensors = [ops.cast(ops.convert_to_tensor(x), "float32") for x in arrays]
    _check_shapes(tensors, names=_FIELDS)
    return tensors


def _check_shapes(arrays: list[Any], names: tuple[str, ...]) -> None:
    """Raise a ValueError unless all arrays share the first one's shape ``[T, ...]``."""
    shape = tuple(arrays[0].shape)
    if len(shape) < 1:
        raise ValueError(f"{names[0]}: expected an array of shape [T, N], got a scalar")
    for name, x in zip(names[1:], arrays[1:]):
        if tuple(x.shape) != shape:
            raise ValueError(
                f"{name}: expected the shape of {names[0]}, {shape}, got {tuple(x.shape)}"
            )


def _check_no_nan(**arrays: Any) -> None:
    """Raise a ValueError naming the first input that holds NaN and where."""
    for name, x in arrays.items():
        nan = np.isnan(np.asarray(x))
        if nan.any():
            index = tuple(int(i) for i in np.argwhere(nan)[0])
            raise ValueError(
                f"{name}: expected no NaN, got {int(nan.sum())} NaN entries (first at index {index})"
            )


def _one_of(name: str, value: Any, alias: str, alias_value: Any, default: Any) -> Any:
    """The value of a parameter that has two names (pyrado's and plugrl's): at most one given."""
    if value is not None and alias_value is not None:
        raise TypeError(f"{name}: got it both as {name}={value!r} and as {alias}={alias_value!r}; "
                        "expected one of the two")
    return default if value is None and alias_value is None else (
        value if value is not None else alias_value)


def _shifted(second: Any, gae_lambda: Any, lambda_name: str, third: Any, standardize: Any,
             standardize_name: str) -> tuple[Any, Any]:
    """``gae_lambda`` and ``standardize`` of the calculator's positional form ``GAE(gamma,
    gae_lambda, standardize)``, whose 2nd and 3rd values arrive as ``gamma`` and ``lamda``."""
    return (_one_of(lambda_name, second, lambda_name, gae_lambda, None),
            _one_of(standardize_name, third, standardize_name, standardize, None))


def _check_calculator_only(**given: tuple[Any, Any]) -> None:
    """Raise a ValueError for a critic-only argument given to the calculator (no ``vfcn``)."""
    for name, (value, default) in given.items():
        if value is not default and value != default:
            raise ValueError(f"{name}: only a critic, GAE(vfcn, ...), trains a value function; "
                             f"expected vfcn with {name}={value!r}, got vfcn=None")
