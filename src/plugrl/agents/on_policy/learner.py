"""The on-policy agents' learner: a policy and a value function trained on GAE advantages.

Its pure functions are what both training paths run: :meth:`OnPolicyLearner.forward`,
:meth:`~OnPolicyLearner.sample`, :meth:`~OnPolicyLearner.loss` and
:meth:`~OnPolicyLearner.update_step` (every epoch and minibatch of one rollout's update). The
ordinary path calls them jitted, once per vector step and once per rollout; the fast path
(:mod:`plugrl.agents.on_policy.fast_path`) calls the same functions inside its compiled loop.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from plugrl._backend import (
    GradientHook,
    Metrics,
    Optimizer,
    TrainState,
    as_optax,
    copy_arrays,
    in_chunks,
    init_train_state,
    jit_for,
    keras,
    minibatch_epochs,
    on_raveled_params,
    scheduled_adam,
    train_step,
    with_gradient_clipping,
    with_learning_rate,
)
from plugrl.agents.config import OnPolicyConfig
from plugrl.caching.gae import GAE, standardize
from plugrl.function_approximators.parameter_groups import ParameterGroups, grouped
from plugrl.function_approximators.predefined.atari import is_image_space
from plugrl.function_approximators.predefined.mlp import SpacesOnly, default_network, policy_spaces
from plugrl.policies import GaussianPolicy, SoftmaxPolicy
from plugrl.updaters.policy_objectives import PolicyObjective, PPOClip, VanillaPG
from plugrl.utils.pickling import Rebuildable
from plugrl.utils.schedules import schedule_value
from plugrl.value_functions import V

ops = keras.ops

__all__ = ["Coefficients", "OnPolicyLearner", "make_policy_objective", "pack_columns", "update_coefficients",
           "value_loss"]

#: The columns of a packed rollout after the observations and actions (see ``update_step``).
_SCALAR_FIELDS = ("logP", "V", "Adv", "R")

#: Rows per chunk of a convolutional network's batches (see :func:`~plugrl._backend.in_chunks`).
CONVOLUTION_CHUNK = 32


class Coefficients(NamedTuple):
    """The numbers of one update that schedules change between updates; the fast path traces
    them, so that one compiled program serves every value (host floats or traced scalars)."""

    lr: Any
    clip: Any
    entropy_coeff: Any
    vfcn_coeff: Any


def update_coefficients(config: OnPolicyConfig, progress: Any, start: Any = None,
                        iteration: Any = 0) -> Coefficients:
    """The update's coefficients at ``progress`` (the fraction of training done, in [0, 1]),
    after ``iteration`` updates (what pyrado's ``lr_scheduler`` counts).

    ``start``: anything with the fields of :class:`Coefficients` (the fast path's traced
    hyperparameters), whose values replace the configuration's: the constants, and the initial
    values of the ``lr`` and ``clip`` schedules.
    """
    first = Coefficients(None, None, config.entropy_coeff, config.vfcn_coeff) if start is None else start
    return Coefficients(schedule_value(config.lr, progress, first.lr, iteration),
                        schedule_value(config.clip, progress, first.clip),
                        first.entropy_coeff, first.vfcn_coeff)


class OnPolicyLearner(Rebuildable):
    """Networks, policy objective, optimizer and the pure functions of an on-policy agent
    (picklable: Ray's rollout workers get a copy).

    Parameters
    ----------
    observation_space, action_space : gymnasium.Space
        The spaces of one environment.
    config : OnPolicyConfig
        The hyperparameters; ``config.policy_objective`` picks :attr:`objective` once, here.
    seed : int
        Seeds the weight initialisation.
    function_approximator : FunctionApproximator, optional
        A user-made body shared by actor and critic (``head_pi`` and ``head_v``); by default
        MLPs of ``config.hidden_sizes``, shared or separate as ``config.shared_network`` says;
        for image observations one shared Nature-DQN network (``AtariFunctionApproximator``).
    policy : SoftmaxPolicy or GaussianPolicy, optional
        pyrado's ``policy``: the user's policy object, used as the actor.
    critic : GAE, optional
        pyrado's ``critic``: a :class:`~plugrl.caching.GAE` critic, whose value function is the
        learner's. With ``critic_updates_itself`` (pyrado's PPO) :meth:`update_critic` trains it
        with the critic's own settings and the policy loss has no value term; otherwise (A2C,
        PPO2) the value function is trained in the combined loss as without a critic.
    value_approximator : FunctionApproximator, optional
        The critic's own function approximator (``head_v``); ``function_approximator`` (or the
        default MLP) is then the actor's alone (TF-Agents' separate ``value_network``).
    optimizer : optax.GradientTransformation or keras.optimizers.Optimizer, optional
        Used instead of the scheduled Adam of ``config.lr`` (DeepChem's ``optimizer``), after
        clipping the gradients to ``config.max_grad_norm``; ``config.lr`` is then not used.
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, config: OnPolicyConfig,
                 seed: int, function_approximator: Any = None, policy: Any = None,
                 critic: GAE | None = None, critic_updates_itself: bool = False, *,
                 value_approximator: Any = None,
                 optimizer: Optimizer | keras.optimizers.Optimizer | None = None) -> None:
        self.config = config
        spaces = policy_spaces(observation_space, action_space)  # raises on other kinds of spaces
        assert isinstance(observation_space, gym.spaces.Box)  # what policy_spaces has checked
        assert isinstance(action_space, (gym.spaces.Discrete, gym.spaces.Box))  # likewise
        self.observation_space: gym.spaces.Box = observation_space
        self.action_space: gym.spaces.Discrete | gym.spaces.Box = action_space
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.policy, self.v_func = _build_functions(spaces, self.discrete, config, seed,
                                                    function_approximator, value_approximator, policy, critic,
                                                    self.default_network)
        #: The critic that trains the value function itself (None: the combined loss does).
        self.critic = critic if critic is not None and critic_updates_itself else None
        if self.critic is not None and self.v_func.function_approximator is self.policy.function_approximator:
            raise ValueError("critic: expected a value function on a function approximator of its "
                             "own, got the policy's (the critic and the policy train apart)")
        #: Networks with convolutions, which XLA's CPU backend runs fastest with the update's
        #: steps traced one by one (see scan_steps), batches in chunks (see forward) and
        #: LLVM's default optimisation level (see jit_for).
        self.convolutional = any(getattr(getattr(f, "function_approximator", None), "convolutional", False)
                                 for f in (self.policy, self.v_func))
        self.objective = make_policy_objective(config)
        self._groups = ParameterGroups([self.policy, self.v_func])
        # Raveled parameters, as update_step gives them (init_train_state sees the tuple):
        # as_optax ravels a user's optimizer, scheduled_adam is told to.
        self.scheduled = optimizer is None
        self.optimizer = (scheduled_adam(schedule_value(config.lr, 0.0), config.max_grad_norm, raveled=True)
                          if optimizer is None else
                          with_gradient_clipping(as_optax(optimizer), config.max_grad_norm))
        #: Added to the Gaussian policy's log-variance: ``2 log config.std_init`` (0 by default).
        self.logvar_offset = 2.0 * float(np.log(config.std_init))
        self.state = init_train_state(*self._groups.gather(), self.optimizer)
        #: Replaces the loss's gradients before each optimizer step of :meth:`update_step`
        #: (:func:`~plugrl._backend.train_step`'s ``gradient_hook``; SVPG's Stein direction).
        self.gradient_hook: GradientHook | None = None
        self._gae = GAE(config.gamma, config.gae_lambda)
        compile_ = jit_for(self.convolutional)
        self._act = compile_(lambda params, non_trainable, S, noise: pack_columns(
            *self.sample(params, non_trainable, S, noise), self.forward(params, non_trainable, S)[0]))
        self._forward = compile_(self.forward)
        self._update = compile_(self.update_step)

    #: Whether the networks carry a recurrent state (see :mod:`plugrl.agents.on_policy.recurrent`).
    recurrent = False

    def default_network(self, spaces: SpacesOnly, seed: int, critic: bool = False) -> Any:
        """The default network of the actor (or of the ``critic``), when the user gave none."""
        return default_network(spaces, self.config.hidden_sizes, self.config.activation, seed)

    @property
    def name(self) -> str:
        """The prefix of the learner's own metrics (``"OnPolicyLearner/value_loss"``)."""
        return type(self).__name__

    # ------------------------------------------------------------------ pure functions
    def forward(self, params: tuple, non_trainable: tuple, S: Any) -> tuple[Any, Any]:
        """The policy's distribution parameters ``Z`` (logits [batch, num_actions], or ``(mu,
        logvar)``) and the values ``V`` [batch] of a batch of (normalised) observations;
        convolutional networks see the batch in chunks of :data:`CONVOLUTION_CHUNK`."""
        if self.convolutional:
            return in_chunks(lambda S: self._apply_heads(params, non_trainable, S), S, CONVOLUTION_CHUNK)
        return self._apply_heads(params, non_trainable, S)

    def _apply_heads(self, params: tuple, non_trainable: tuple, S: Any) -> tuple[Any, Any]:
        weights_pi = self._groups.select(params, non_trainable, 0)
        weights_v = self._groups.select(params, non_trainable, 1)
        Z = self.with_logvar_offset(self.policy.apply(*weights_pi, S)[0])
        return Z, self.v_func.apply(*weights_v, S)[0]

    def with_logvar_offset(self, Z: Any) -> Any:
        """A Gaussian policy's parameters with :attr:`logvar_offset` added to the log-variance."""
        if not self.discrete and self.logvar_offset:
            return (Z[0], Z[1] + self.logvar_offset)
        return Z

    def sample(self, params: tuple, non_trainable: tuple, S: Any, noise: Any) -> tuple[Any, Any, Any]:
        """Actions ``A`` drawn with ``noise`` (Gumbel [batch, num_actions], or standard normal
        [batch, *action_shape]; see ``policy.noise_block``), their log-probabilities ``logP``
        [batch] and the values ``V`` [batch]."""
        Z, V_pred = self.forward(params, non_trainable, S)
        return self.draw_actions(Z, noise) + (V_pred,)

    def draw_actions(self, Z: Any, noise: Any) -> tuple[Any, Any]:
        """Actions ``A`` drawn from distribution parameters ``Z`` with ``noise`` (as in
        :meth:`sample`) and their log-probabilities ``logP``."""
        if self.discrete:
            A = ops.argmax(Z + noise, axis=-1)
        else:
            mu, logvar = Z
            A = mu + ops.exp(0.5 * logvar) * noise
        return A, self.policy.make_dist(Z).log_proba(A)

    def greedy_actions(self, Z: Any) -> Any:
        """The most likely actions of distribution parameters ``Z`` (NumPy or traced)."""
        return Z.argmax(axis=-1) if self.discrete else Z[0]

    def env_actions(self, A: Any) -> Any:
        """Actions for the environment: ``Box`` actions clipped to the bounds if
        ``config.clip_actions`` (log-probabilities stay those of the unclipped samples). Array
        methods only, so the host's NumPy actions and the fast path's traced ones go through
        this one function."""
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            return A
        A = A.reshape(len(A), *space.shape)
        return A.clip(space.low, space.high) if self.config.clip_actions else A

    def loss(self, params: tuple, state: TrainState, batch: dict[str, Any], key: Any,
             coefficients: Coefficients) -> tuple[Any, tuple[tuple, dict[str, Any]]]:
        r"""The loss of one minibatch, :math:`J_\pi + c_v\,L_V` with the policy objective's
        :math:`J_\pi` (its entropy bonus included) and the value loss :math:`L_V` (see
        :func:`value_loss`), in :func:`~plugrl._backend.train_step`'s form.

        ``batch`` holds ``S``, ``A``, ``logP`` (recorded at collection), ``V`` (likewise), ``Adv``
        and ``R`` (the TD(:math:`\lambda`) returns); ``key`` is unused.
        """
        Z, V_pred = self.forward(params, state.non_trainable, batch["S"])
        return self.loss_of_outputs(Z, V_pred, state, batch, coefficients)

    def loss_of_outputs(self, Z: Any, V_pred: Any, state: TrainState, batch: dict[str, Any],
                        coefficients: Coefficients) -> tuple[Any, tuple[tuple, dict[str, Any]]]:
        """:meth:`loss` from the networks' outputs ``Z`` and ``V_pred`` on ``batch`` (flat
        [batch] fields ``A``, ``logP``, ``V``, ``Adv``, ``R``)."""
        dist = self.policy.make_dist(Z)
        # A critic that trains itself has standardized the advantages as it was told to.
        by_minibatch = self.config.standardize_advantages and self.critic is None
        Adv = standardize(batch["Adv"]) if by_minibatch else batch["Adv"]
        policy_loss, metrics = self.objective.log_proba_loss(
            dist.log_proba(batch["A"]), batch["logP"], Adv, ops.mean(dist.entropy()),
            entropy_beta=coefficients.entropy_coeff, ppo_clip_eps=coefficients.clip)
        if self.critic is not None:
            return policy_loss, (state.non_trainable, metrics)
        v_loss = value_loss(V_pred, batch["V"], batch["R"], self.config.clip_value)
        metrics[f"{self.name}/value_loss"] = v_loss
        return policy_loss + coefficients.vfcn_coeff * v_loss, (state.non_trainable, metrics)

    def update_step(self, state: TrainState, batch: dict[str, Any], indices: Any, key: Any,
                    coefficients: Coefficients) -> tuple[TrainState, Metrics]:
        """Every epoch of minibatch steps on one rollout: pure, jitted by :meth:`update` and
        called as it is inside the fast path's compiled loop.

        Parameters
        ----------
        state : TrainState
            The learner's state before the update.
        batch : dict of arrays
            The rollout's ``S`` (normalised) [size, *obs_shape], ``A`` [size, ...], ``logP``,
            ``V``, ``Adv`` and ``R`` [size].
        indices : int array, shape ``[num_epoch, num_minibatches, batch_size]``
            Each epoch's shuffle of the samples.
        key : raw JAX key, or keys [num_epoch, num_minibatches, 2]
            Split into one key per step, or one per step already (the losses here draw nothing).
        coefficients : Coefficients
            This update's learning rate, clipping and loss weights.

        Returns ``(state, metrics)``, the metrics averaged over all steps. The rollout is packed
        into one [size, features] array, so that a minibatch is one gather, and the weights are
        one vector meanwhile (:func:`~plugrl._backend.on_raveled_params`): gradient clipping
        takes the norm of that vector.
        """
        rows = self._pack(batch)
        if self.scheduled:  # a user's optimizer keeps its own learning rate
            state = state._replace(opt_state=with_learning_rate(state.opt_state, coefficients.lr))

        def epochs(state: TrainState, unravel: Any) -> tuple[TrainState, Metrics]:
            step = train_step(lambda flat, st, minibatch, k: self.loss(
                unravel(flat), st, minibatch, k, coefficients), self.optimizer, self.name,
                gradient_hook=self.gradient_hook)
            return minibatch_epochs(lambda st, X, k: step(st, self._unpack(X), k), state, rows,
                                    indices, key, unroll=self.convolutional)

        return on_raveled_params(epochs, state)

    def _pack(self, batch: dict[str, Any]) -> Any:
        size = batch["S"].shape[0]
        columns = [ops.reshape(batch["S"], (size, -1)),
                   ops.reshape(ops.cast(batch["A"], "float32"), (size, -1))]
        return ops.concatenate(columns + [ops.reshape(batch[k], (size, 1)) for k in _SCALAR_FIELDS],
                               axis=1)

    def _unpack(self, X: Any) -> dict[str, Any]:
        d_obs, d = int(np.prod(self.observation_space.shape)), X.shape[1] - len(_SCALAR_FIELDS)
        space = self.action_space
        A = (ops.reshape(X[:, d_obs:d], (-1, *space.shape)) if isinstance(space, gym.spaces.Box)
             else ops.cast(X[:, d_obs], "int32"))
        return {"S": ops.reshape(X[:, :d_obs], (-1, *self.observation_space.shape)), "A": A,
                **{k: X[:, d + i] for i, k in enumerate(_SCALAR_FIELDS)}}

    # ------------------------------------------------------------------ host side
    def act(self, S: np.ndarray, noise: np.ndarray) -> dict[str, np.ndarray]:
        """Sample actions for a batch of (normalised) observations; returns the policy info
        ``A``, ``logP``, ``V`` and the distribution parameters ``Z`` (logits [batch,
        num_actions], or ``mu`` and ``logvar`` side by side, [batch, 2 * action size]), in one
        transfer from the device."""
        return self.unpack_act(self._act(self.state.params, self.state.non_trainable, S, noise))

    def unpack_act(self, packed: Any) -> dict[str, np.ndarray]:
        """The policy info of :meth:`act` from the one array the device returned."""
        packed = np.asarray(packed)
        width = 1 if self.discrete else int(np.prod(self.action_space.shape or ()))
        A = packed[:, 2].astype(np.int64) if self.discrete else packed[:, 2:2 + width]
        return {"logP": packed[:, 0], "V": packed[:, 1], "A": A, "Z": packed[:, 2 + width:]}

    def policy_params(self, S: np.ndarray) -> Any:
        """Distribution parameters (logits, or ``(mu, logvar)``) of a batch of observations."""
        Z = self._forward(self.state.params, self.state.non_trainable, S)[0]
        return np.asarray(Z) if self.discrete else tuple(np.asarray(z) for z in Z)

    def values(self, S: np.ndarray) -> np.ndarray:
        """State values of a batch of (normalised) observations."""
        return np.asarray(self._forward(self.state.params, self.state.non_trainable, S)[1])

    def advantages(self, R: Any, V_old: Any, V_next: Any, terminated: Any,
                   truncated: Any) -> tuple[np.ndarray, np.ndarray]:
        """GAE advantages and TD(lambda) returns, time-major [T, N]."""
        Adv, Rlambda = self._gae(R, V_old, V_next, terminated, truncated)
        return np.asarray(Adv), np.asarray(Rlambda)

    def update_critic(self, rollout: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """pyrado's order: the critic fits its value function to the rollout (observations
        normalised) first; returns its advantages and TD(lambda) returns [T, N] afterwards."""
        assert self.critic is not None
        Adv = self.critic.update(rollout, rng=rng)
        params, non_trainable = self._groups.gather()  # the value weights the critic has fitted
        self.state = self.state._replace(params=copy_arrays(params), non_trainable=copy_arrays(non_trainable))
        return Adv, self.critic.tdlamda_returns(concat_ros=rollout)

    def shuffles(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Each epoch's order of ``size`` samples, [num_epoch, num_minibatches, batch_size]
        int32; samples beyond whole minibatches sit that epoch out."""
        cfg = self.config
        num_minibatches = size // cfg.batch_size
        orders = [rng.permutation(size)[: num_minibatches * cfg.batch_size] for _ in range(cfg.num_epoch)]
        return np.stack(orders).reshape(cfg.num_epoch, num_minibatches, cfg.batch_size).astype(np.int32)

    def update(self, batch: dict[str, np.ndarray], coefficients: Coefficients, key: Any,
               indices: np.ndarray) -> dict[str, float]:
        """:meth:`update_step` on the learner's state, in one jitted call; returns the metrics."""
        coefficients = Coefficients(*(np.float32(c) for c in coefficients))
        self.state, metrics = self._update(self.state, batch, indices, key, coefficients)
        self._groups.scatter(grouped(self.state.params), grouped(self.state.non_trainable))
        return metrics.to_dict()

    def load_state(self, state: TrainState) -> None:
        """Replace the learner's state (e.g. from a checkpoint) and the networks' weights."""
        self.state = state
        self._groups.scatter(grouped(state.params), grouped(state.non_trainable))

    def policy_mask(self) -> np.ndarray:
        """Which entries of the raveled trainable weights (the vector that :meth:`update_step`
        trains, :func:`~plugrl._backend.on_raveled_params`) the policy uses: its own, and a body
        it shares with the critic. Boolean [number of weights]."""
        group, trainable, _ = self._groups.member(0)
        used = {(group, i) for i in trainable}
        return np.concatenate([np.full(np.size(w), (g, i) in used)
                               for g, weights in enumerate(self.state.params)
                               for i, w in enumerate(weights)])

    def get_weights(self) -> list[np.ndarray]:
        """Every trainable array of the learner's state, in a fixed order."""
        return [np.asarray(x) for x in keras.tree.flatten(self.state.params)]


def make_policy_objective(config: OnPolicyConfig) -> PolicyObjective:
    """The policy objective that ``config.policy_objective`` names, with the configuration's
    entropy coefficient (and initial clipping); the learner passes each update's values."""
    if config.policy_objective == "ppo":
        return PPOClip(ppo_clip_eps=schedule_value(config.clip, 0.0), entropy_beta=config.entropy_coeff)
    return VanillaPG(entropy_beta=config.entropy_coeff)


def value_loss(V_pred: Any, V_old: Any, R: Any, clip_value: float | None) -> Any:
    r"""Squared error to the returns; with ``clip_value`` (PPO2) the pessimistic maximum of the
    clipped and unclipped errors, :math:`\max\{(v-R)^2, (v_\text{old} + \mathrm{clip}(v -
    v_\text{old}, \pm c) - R)^2\}`."""
    error = ops.square(V_pred - R)
    if clip_value is None:
        return ops.mean(error)
    V_clipped = V_old + ops.clip(V_pred - V_old, -clip_value, clip_value)
    return ops.mean(ops.maximum(error, ops.square(V_clipped - R)))


def _build_functions(spaces: SpacesOnly, discrete: bool, config: OnPolicyConfig, seed: int,
                     function_approximator: Any, value_approximator: Any = None, policy: Any = None,
                     gae_critic: GAE | None = None, network: Any = None) -> tuple[Any, Any]:
    policy_class = SoftmaxPolicy if discrete else GaussianPolicy
    if function_approximator is not None or value_approximator is not None:
        actor = function_approximator if function_approximator is not None else network(spaces, seed)
        critic = value_approximator if value_approximator is not None else actor
    else:
        actor = network(spaces, seed)
        shared = config.shared_network or is_image_space(spaces.observation_space)
        critic = actor if shared else network(spaces, seed + 1, critic=True)
    if policy is not None and not isinstance(policy, policy_class):
        raise TypeError(f"policy: expected a plugrl {policy_class.__name__} for this action space, "
                        f"got {type(policy).__name__}")
    pi = policy if policy is not None else policy_class(actor, entropy_beta=0.0, random_seed=seed)
    if gae_critic is None:
        return pi, V(critic, gamma=config.gamma)
    if gae_critic.vfcn is None:
        raise ValueError(f"critic: expected a critic with a value function, GAE(vfcn, ...), "
                         f"got {gae_critic!r}")
    return pi, gae_critic.vfcn


def pack_columns(A: Any, logP: Any, V_pred: Any, Z: Any) -> Any:
    """``logP``, ``V``, ``A`` and ``Z`` as one array [batch, columns]: one transfer to the host."""
    size = A.shape[0]
    Z = [Z] if not isinstance(Z, tuple) else list(Z)
    columns = [logP[:, None], V_pred[:, None], ops.cast(A, "float32"), *Z]
    return ops.concatenate([ops.reshape(c, (size, -1)) for c in columns], axis=-1)
