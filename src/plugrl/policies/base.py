"""What the updateable policies share: sampling, evaluation, and a jitted policy-gradient step."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar, TypeAlias

import numpy as np

from plugrl._backend import (
    Array,
    Metrics,
    Params,
    TrainState,
    jit,
    keras,
    make_train_step,
    prng_key,
    split_key,
)
from plugrl.function_approximators.base import FunctionApproximator
from plugrl.proba_dists import ProbaDist
from plugrl.updaters import policy_objectives
from plugrl.updaters.policy_objectives.base import (
    check_entropy_beta,
    check_ppo_clip_eps,
)
from plugrl.utils.validation import check_finite
from plugrl.value_functions.base import BaseFunction

ops = keras.ops

__all__ = ["BaseUpdateablePolicy", "DistParams"]

#: Distribution parameters ``Z``: logits [batch_size, num_actions] for a discrete policy, the
#: pair ``(mu, logvar)`` of shape [batch_size, *action_shape] each for a Gaussian one.
DistParams: TypeAlias = Array | tuple[Array, Array]

#: The seed's update strategies and the policy objectives they stand for.
UPDATE_STRATEGIES: dict[str, type[policy_objectives.PolicyObjective]] = {
    "vanilla": policy_objectives.VanillaPG,
    "ppo": policy_objectives.PPOClip,
    "cross_entropy": policy_objectives.CrossEntropy,
    "sac": policy_objectives.SoftPG,
}


class BaseUpdateablePolicy(BaseFunction):
    r"""Base class of :class:`SoftmaxPolicy` and :class:`GaussianPolicy`.

    Parameters
    ----------
    function_approximator : FunctionApproximator
        The main function approximator; its ``head_pi`` gives the distribution parameters.
    update_strategy : {'vanilla', 'ppo', 'cross_entropy', 'sac'} or PolicyObjective, optional
        The policy objective (see :mod:`plugrl.policy_objectives`); ``'sac'`` is used inside a
        :class:`~plugrl.SoftActorCritic`.
    ppo_clip_eps : float, optional
        The clipping parameter :math:`\epsilon > 0` of ``'ppo'``.
    entropy_beta : float, optional
        The coefficient :math:`\beta \ge 0` of the entropy bonus, which rewards exploration.
    random_seed : int, optional
        Seeds action sampling and the randomness of update steps.
    head_id : str, optional
        Give this policy a head of its own on a shared function approximator.

    Notes
    -----
    Single actions are sampled on the host with a NumPy generator from distribution parameters
    computed by one jitted call; measured on a 2-core CPU, that is several times faster than
    drawing JAX random numbers inside the jitted call. Inside update steps, randomness uses
    explicit JAX keys.
    """

    HEAD: ClassVar[str] = "pi"
    is_q_function: ClassVar[bool] = False

    def __init__(self, function_approximator: FunctionApproximator, update_strategy: Any = "vanilla",
                 ppo_clip_eps: float = 0.2, entropy_beta: float = 0.01,
                 random_seed: int | None = None, *, head_id: str | None = None) -> None:
        self._check_action_space(function_approximator)
        ppo_clip_eps, entropy_beta = check_ppo_clip_eps(ppo_clip_eps), check_entropy_beta(entropy_beta)
        self.objective = _make_objective(update_strategy, ppo_clip_eps, entropy_beta)
        self.update_strategy = update_strategy
        self.ppo_clip_eps, self.entropy_beta = ppo_clip_eps, entropy_beta
        self.random_seed = random_seed
        super().__init__(function_approximator, head_id)
        self._rng = np.random.default_rng(random_seed)
        self._noise_buffer: np.ndarray = np.zeros((0,))
        self._noise_index = 0
        self._key = prng_key(random_seed)
        self._eval = jit(lambda params, non_trainable, S: self.apply(params, non_trainable, S)[0])
        self._act = jit(lambda params, non_trainable, S, noise:
                        self._action_from_noise(self.apply(params, non_trainable, S)[0], noise))
        self._step = make_train_step(self._loss_fn, function_approximator.optimizer,
                                     type(self).__name__)
        self.dist: ProbaDist | None = None
        self.target_dist: ProbaDist | None = None
        self._loss_key: Any = None

    # ------------------------------------------------------------------ subclass hooks
    @staticmethod
    @abc.abstractmethod
    def _check_action_space(function_approximator: FunctionApproximator) -> None:
        """Raise a clear error if the action space does not suit the policy."""

    @abc.abstractmethod
    def make_dist(self, Z: DistParams) -> ProbaDist:
        r"""The distribution :math:`\pi(.|S)` for a batch of parameters; traceable.

        Parameters
        ----------
        Z : DistParams
            Distribution parameters as :meth:`apply` returns them, for a batch of states.

        Returns
        -------
        dist : ProbaDist
            A batch of distributions (one per row of ``Z``).
        """

    @abc.abstractmethod
    def _sample(self, Z: Any) -> np.ndarray:
        """Sample actions on the host from NumPy parameters ``Z`` of a batch."""

    @abc.abstractmethod
    def noise_block(self, size: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Host-drawn noise for ``size`` actions (see :meth:`_action_from_noise`), from ``rng``
        or the policy's own generator."""

    def _noise(self) -> np.ndarray:
        """Noise for one action, taken from a block drawn in advance (one draw per call costs
        more than the rest of the host work of sampling an action)."""
        if self._noise_index >= len(self._noise_buffer):
            self._noise_buffer, self._noise_index = self.noise_block(256), 0
        self._noise_index += 1
        return self._noise_buffer[self._noise_index - 1]

    @abc.abstractmethod
    def _action_from_noise(self, Z: Any, noise: Any) -> Any:
        """The action of the single state in ``Z`` for the given noise (traced); invalid
        (negative or non-finite) when the parameters are not finite."""

    @abc.abstractmethod
    def _to_action(self, output: Any) -> Any:
        """The host action from :meth:`_action_from_noise`'s output, or None if invalid."""

    @abc.abstractmethod
    def _mode(self, Z: Any) -> np.ndarray:
        """The most likely actions for NumPy parameters ``Z`` of a batch."""

    # ------------------------------------------------------------------ pure functions
    def apply(self, params: Params, non_trainable: Params, S: Array, A: Array | None = None,
              training: bool = False) -> tuple[DistParams, Params]:
        r"""Pure forward pass: the distribution parameters ``Z`` of :math:`\pi(.|S)`
        (:data:`DistParams`), parameters as in :meth:`BaseFunction.apply` (``A`` is ignored);
        traceable. Returns ``Z`` and the updated non-trainables."""
        return self._call_head(params, non_trainable, S, training)

    def policy_loss_with_metrics(self, Adv: Array,
                                 A: Array | None = None) -> tuple[Array, dict[str, Array]]:
        r"""The policy loss (a scalar) and a dict of scalar metrics; the override point.

        While it runs, ``self.dist`` is the updateable policy :math:`\pi_\theta(.|S)` and
        ``self.target_dist`` the behaviour ("old") policy given by the target model, both
        over the batch. The default applies :attr:`objective` (see
        :mod:`plugrl.policy_objectives`).

        Parameters
        ----------
        Adv : 1d Tensor, shape: [batch_size]
            A batch of advantages.
        A : nd Tensor, shape: [batch_size, ...]
            A batch of actions taken under the behaviour policy.
        """
        assert self.dist is not None and self.target_dist is not None, \
            "policy_loss_with_metrics runs inside policy_loss, which sets the distributions"
        return self.objective(self.dist, self.target_dist, A, Adv, key=self._loss_key)

    def policy_loss(self, Z: DistParams, Z_old: DistParams, A: Array, Adv: Array,
                    key: Array | None = None) -> tuple[Array, dict[str, Array]]:
        r"""The policy loss of a batch, from the current and the old distribution parameters;
        traceable. Update steps that train the policy together with other functions (the
        actor-critics) call it inside their loss.

        It runs :meth:`policy_loss_with_metrics` (the seed's override point) with ``self.dist``
        and ``self.target_dist`` set to ``make_dist(Z)`` and ``make_dist(Z_old)``; no gradient
        flows through ``Z_old``.

        Parameters
        ----------
        Z, Z_old : DistParams
            Distribution parameters of the updateable policy :math:`\pi_\theta(.|S)` and of
            the behaviour ("old") policy, for the same batch of states.
        A : nd array, shape: [batch_size, ...]
            A batch of actions taken under the behaviour policy.
        Adv : 1d array, shape: [batch_size]
            A batch of advantages.
        key : uint32 array, shape: [2], optional
            A raw JAX key for objectives that sample (e.g. ``'sac'`` with continuous actions).

        Returns
        -------
        loss : scalar array
            The loss to minimise.
        metrics : dict of str to scalar array
            Keyed ``"<Objective>/<metric>"``.
        """
        Z_old = keras.tree.map_structure(ops.stop_gradient, Z_old)
        with self._distributions(self.make_dist(Z), self.make_dist(Z_old), key):
            return self.policy_loss_with_metrics(Adv, A)

    def _loss_fn(self, params: Params, state: TrainState, batch: tuple[Array, Array, Array],
                 key: Array) -> tuple[Array, tuple[Params, dict[str, Array]]]:
        S, A, Adv = batch
        Z, non_trainable = self.apply(params, state.non_trainable, S, training=True)
        Z_old, _ = self.apply(state.targets(), state.target_non_trainable, S)
        loss, metrics = self.policy_loss(Z, Z_old, A, Adv, key)
        return loss, (non_trainable, metrics)

    @contextlib.contextmanager
    def _distributions(self, dist: ProbaDist, target_dist: ProbaDist, key: Any) -> Iterator[None]:
        # The seed's override point reads the distributions from attributes; they exist only
        # while a loss is being traced.
        self.dist, self.target_dist, self._loss_key = dist, target_dist, key
        try:
            yield
        finally:
            self.dist, self.target_dist, self._loss_key = None, None, None

    # ------------------------------------------------------------------ public API
    def __call__(self, s: Any, use_target_model: bool = False) -> Any:
        r"""Draw an action :math:`a\sim\pi(.|s)` for a single state observation.

        The noise is drawn on the host and the action computed in the same jitted call as the
        distribution parameters, so one action costs one dispatch and one small transfer.
        """
        S = self.check_state(s)[None]
        weights = self._weights(use_target_model)
        a = self._to_action(self._act(*weights, S, self._noise()))
        if a is None:  # the parameters are not finite: report them clearly
            self._checked_params(self._eval(*weights, S))
        return a

    def greedy(self, s: Any, use_target_model: bool = False) -> Any:
        r"""The most likely action :math:`\arg\max_a\pi(a|s)`."""
        return self._mode(self._params_of(s, use_target_model))[0]

    def dist_params(self, s: Any, use_target_model: bool = False) -> Any:
        """The raw distribution parameters of :math:`\\pi(.|s)` for a single state."""
        return _first(self._params_of(s, use_target_model))

    def batch_eval(self, S: Any, use_target_model: bool = False) -> np.ndarray:
        """Sampled actions for a batch of states, shape [batch_size, ...]."""
        S = self.check_states(S)
        return self._sample(self._checked_params(self._eval(*self._weights(use_target_model), S)))

    def update(self, s: Any, a: Any, advantage: float) -> None:
        """Update the policy on a single transition with advantage :math:`\\mathcal{A}(s,a)`."""
        self.batch_update(self.check_state(s)[None], [self.check_action(a)], [advantage])

    def batch_update(self, S: Any, A: Any, Adv: Any) -> dict[str, float]:
        """Update the policy on a batch; returns losses and metrics as floats.

        Parameters
        ----------
        S : nd array, shape: [batch_size, ...]
            A batch of state observations.
        A : nd array, shape: [batch_size, ...]
            A batch of actions taken by the behaviour policy (for ``'cross_entropy'`` on a
            discrete space, behaviour propensities of shape [batch_size, num_actions]).
        Adv : 1d array, dtype: float, shape: [batch_size]
            Advantages :math:`\\mathcal{A}(s,a) = q(s,a) - v(s)`.
        """
        return self._apply(self._check_batch(S, A, Adv)).to_dict()

    def next_key(self) -> Array:
        """A fresh raw JAX key for one update step, split off the policy's own key (seeded by
        ``random_seed``); update steps that train the policy draw their randomness from it."""
        self._key, key = split_key(self._key)
        return key

    # ------------------------------------------------------------------ internals
    def _apply(self, batch: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Metrics:
        state, metrics = self._step(self.train_state, batch, self.next_key())
        self.train_state = state
        return metrics

    def _params_of(self, s: Any, use_target_model: bool) -> Any:
        S = self.check_state(s)[None]
        return self._checked_params(self._eval(*self._weights(use_target_model), S))

    def _checked_params(self, Z: Any) -> Any:
        parts = [np.asarray(z) for z in Z] if isinstance(Z, (tuple, list)) else [np.asarray(Z)]
        for i, z in enumerate(parts):
            if not np.isfinite(z.sum()):  # the cheapest test first: it runs for every action
                check_finite(z, f"{type(self).__name__} distribution parameters[{i}]")
        return tuple(parts) if isinstance(Z, (tuple, list)) else parts[0]

    def _check_batch(self, S: Any, A: Any, Adv: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        S = self.check_states(S)
        Adv = check_finite(np.asarray(Adv, dtype=np.float32), "Adv")
        if Adv.shape != (len(S),):
            raise ValueError(f"Adv: expected shape [{len(S)}] (the batch size of S), got {Adv.shape}")
        return S, self.check_behaviour_actions(A, len(S)), Adv

    def check_behaviour_actions(self, A: Any, batch_size: int) -> np.ndarray:
        """Check the actions ``A`` of an update batch (a softmax policy with the cross-entropy
        objective also takes propensities [batch_size, num_actions] in their place)."""
        return self.check_actions(A, batch_size, "A")


def _make_objective(update_strategy: Any, ppo_clip_eps: float,
                    entropy_beta: float) -> policy_objectives.PolicyObjective:
    if isinstance(update_strategy, policy_objectives.PolicyObjective):
        return update_strategy
    if update_strategy not in UPDATE_STRATEGIES:
        raise ValueError(f"update_strategy: expected one of {sorted(UPDATE_STRATEGIES)} or a "
                         f"PolicyObjective, got {update_strategy!r}")
    if update_strategy == "ppo":
        return policy_objectives.PPOClip(ppo_clip_eps=ppo_clip_eps, entropy_beta=entropy_beta)
    return UPDATE_STRATEGIES[update_strategy](entropy_beta=entropy_beta)


def _first(Z: Any) -> Any:
    return keras.tree.map_structure(lambda z: z[0], Z)

