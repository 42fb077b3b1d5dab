r"""Soft actor-critic: the learner (optimizers, jitted steps) and the :class:`SAC` agent.

One jitted call samples actions (the noise comes from the host's NumPy generator); one jitted
call runs a whole round of ``num_updates_per_step`` gradient steps (the backend's ``scan_steps``),
each of which updates, as Stable-Baselines3 does, the entropy coefficient, the twin critics, the
actor (a backend ``train_step`` each) and, every ``target_update_intvl`` gradient steps, the
target critics (Polyak, weight ``tau``). The losses are in
:mod:`plugrl.updaters.policy_objectives.sac`, the networks in
:mod:`plugrl.agents.off_policy.sac_networks`; ``Box`` actions use the tanh-squashed Gaussian of
:mod:`plugrl.proba_dists.squashed_normal`, discrete actions a categorical policy.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from plugrl._backend import (
    Metrics,
    TrainState,
    jit,
    keras,
    scan_steps,
    scheduled_adam,
    split_key,
    split_keys,
    sync_target,
    train_step,
    with_learning_rate,
)
from plugrl.agents.config import SACConfig
from plugrl.agents.off_policy.agent import OffPolicyAgent, check_update_batch
from plugrl.agents.off_policy.sac_networks import SACModules, SACNetworks, SACState
from plugrl.caching.gae import standardize
from plugrl.proba_dists.squashed_normal import rescale_actions, squashed_median, squashed_sample
from plugrl.updaters.policy_objectives.sac import (
    actor_loss,
    critic_loss,
    default_target_entropy,
    ent_coeff_loss,
    mean_log_proba,
    soft_bootstrap,
)
from plugrl.updaters.td_learning.base import td_target
from plugrl.utils.pickling import Rebuildable
from plugrl.utils.schedules import schedule_value
from plugrl.utils.validation import check_observations

ops = keras.ops

__all__ = ["SAC", "SACLearner"]


class SACLearner(Rebuildable):  # picklable: Ray's rollout workers get a copy
    r"""Networks, optimizers, entropy coefficient and the jitted functions of SAC.

    The parameters (``observation_space, action_space, config, seed, function_approximator``)
    are those of :class:`~plugrl.agents.off_policy.sac_networks.SACNetworks`, which builds the
    networks from them; ``config`` also gives the learning rate, ``tau``, the entropy settings
    and the reward scaling.

    Attributes
    ----------
    state : SACState
        Everything trained, as one pytree.
    target_entropy : float
        :math:`\bar{\mathcal{H}}`: ``config.target_entropy``, or
        :func:`~plugrl.updaters.policy_objectives.sac.default_target_entropy` if that is None.
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, config: SACConfig,
                 seed: int, function_approximator: Any = None) -> None:
        self.config = config
        self.nets = SACNetworks(observation_space, action_space, config, seed, function_approximator)
        self.action_space = self.nets.action_space  # checked: Discrete, or Box with finite bounds
        self.discrete = self.nets.discrete
        self.target_entropy = (default_target_entropy(self.action_space) if config.target_entropy is None
                               else float(config.target_entropy))
        self.optimizer = scheduled_adam(schedule_value(config.lr, 0.0), config.max_grad_norm)
        self.state = self.nets.init_state(self.optimizer, config.ent_coeff_init)
        self._critic_step = train_step(self._critic_loss_fn, self.optimizer, "SAC/critic",
                                       with_outputs=True)
        self._actor_step = train_step(self._actor_loss_fn, self.optimizer, "SAC/actor",
                                      with_outputs=True)
        self._ent_coeff_step = train_step(self._ent_coeff_loss_fn, self.optimizer, "SAC/ent_coeff")
        self._act = jit(self._act_fn)
        self._greedy = jit(self._greedy_fn)
        self._probabilities = jit(self._predict_fn)
        self._update = jit(self._update_fn)

    # ------------------------------------------------------------------ pure update
    def _critic_loss_fn(self, critic: tuple, state: TrainState, batch: dict,
                        key: Any) -> tuple[Any, tuple]:
        r"""The critics' loss on one batch; ``batch`` also holds the actor's parameters
        (``'actor'``) and the entropy coefficient (``'ent_coeff'``). Per-sample outputs: the TD
        errors [batch_size]."""
        actor, nt, nets = batch["actor"], state.non_trainable, self.nets
        A_next, logP_next, probs_next = nets.sample(nets.policy_params(actor, critic, nt, batch["S_next"]),
                                                    key)
        Q1_next, Q2_next = nets.critics(actor, state.targets(), state.target_non_trainable,
                                        batch["S_next"], A_next)
        V_next = soft_bootstrap(Q1_next, Q2_next, logP_next, batch["ent_coeff"], probs_next)
        G = ops.stop_gradient(td_target(self._rewards(batch["Rn"]), batch["In"], V_next))
        A = ops.cast(batch["A"], "int32") if self.discrete else batch["A"]
        Q1, Q2 = nets.critics(actor, critic, nt, batch["S"], A)
        metrics = {"SAC/q_mean": ops.mean(ops.minimum(Q1, Q2))}
        return critic_loss(Q1, Q2, G, batch["W"]), (nt, metrics, G - 0.5 * (Q1 + Q2))

    def _actor_loss_fn(self, actor: tuple, state: TrainState, batch: dict,
                       key: Any) -> tuple[Any, tuple]:
        """The actor's loss against the (just updated) critics, whose parameters and
        non-trainables ``batch`` holds (``'critic'``, ``'non_trainable'``) with ``'S'`` and
        ``'ent_coeff'``. Output: the mean log-probability, for the entropy coefficient's loss."""
        S, critic, nt = batch["S"], batch["critic"], batch["non_trainable"]
        A, logP, probs = self.nets.sample(self.nets.policy_params(actor, critic, nt, S), key)
        Q1, Q2 = self.nets.critics(actor, critic, nt, S, A)
        logP_mean = mean_log_proba(logP, probs)
        loss = actor_loss(Q1, Q2, logP, batch["ent_coeff"], probs)
        return loss, (state.non_trainable, {"SAC/entropy": -logP_mean}, logP_mean)

    def _ent_coeff_loss_fn(self, params: tuple, state: TrainState, logP_mean: Any,
                           key: Any) -> tuple[Any, tuple]:
        """The entropy coefficient's loss; its batch is the actor's mean log-probability."""
        return ent_coeff_loss(params[0], logP_mean, self.target_entropy), (state.non_trainable, {})

    def _rewards(self, Rn: Any) -> Any:
        """``Rn`` scaled by ``rew_scale``, then standardised over the batch if ``standardize_rew``."""
        Rn = Rn * self.config.rew_scale
        return standardize(Rn) if self.config.standardize_rew else Rn

    def _gradient_step(self, state: SACState, xs: tuple) -> tuple[SACState, tuple]:
        """Entropy coefficient, critics, actor, targets, in SB3's order. The new coefficient
        first weighs the next step's losses, and the actor's log-probabilities that its loss
        needs come from the same weights either way, so it is updated last here, from the
        actor's forward pass, rather than first from a pass of its own. Three train steps; what
        a loss needs of the other networks travels in its batch."""
        batch, key = xs
        key_next, key_pi = split_key(key)
        ent_coeff = ops.exp(state.ent_coeff.params[0])
        critic, (critic_metrics, td_errors) = self._critic_step(
            state.critic, {**batch, "actor": state.actor.params, "ent_coeff": ent_coeff}, key_next)
        actor, (actor_metrics, logP_mean) = self._actor_step(
            state.actor, {"S": batch["S"], "critic": critic.params,
                          "non_trainable": critic.non_trainable, "ent_coeff": ent_coeff}, key_pi)
        ent_state, alpha_loss = state.ent_coeff, ops.zeros(())
        if self.config.learn_ent_coeff:
            ent_state, ent_metrics = self._ent_coeff_step(ent_state, logP_mean, key)  # key unused
            alpha_loss = ent_metrics["SAC/ent_coeff/loss"]
        # Not the train steps' gradient norms: left out, XLA drops their computation (16
        # reductions over all weights and 42 more kernels in each gradient step).
        metrics = {"SAC/critic_loss": critic_metrics["SAC/critic/loss"],
                   "SAC/q_mean": critic_metrics["SAC/q_mean"],
                   "SAC/actor_loss": actor_metrics["SAC/actor/loss"],
                   "SAC/entropy": actor_metrics["SAC/entropy"], "SAC/ent_coeff_loss": alpha_loss,
                   "SAC/ent_coeff": ops.exp(ent_state.params[0])}
        num_updates = state.num_updates + 1
        due = ops.cast(num_updates % self.config.target_update_intvl == 0, "float32")
        critic = sync_target(critic, self.config.tau * due)
        return SACState(actor, critic, ent_state, num_updates), (Metrics.pack(metrics), td_errors)

    def _update_fn(self, state: SACState, batch: dict, lr: Any, key: Any) -> tuple[SACState, Any, Any]:
        """``K`` gradient steps (:func:`scan_steps` over the batches' leading axis) at learning
        rate ``lr``; returns the state, the metrics averaged over the steps and the TD errors
        [K, batch_size]."""
        state = state._replace(actor=_with_lr(state.actor, lr), critic=_with_lr(state.critic, lr),
                               ent_coeff=_with_lr(state.ent_coeff, lr))
        return scan_steps(self._gradient_step, state, (batch, split_keys(key, batch["S"].shape[0])))

    def _act_fn(self, params: tuple, non_trainable: tuple, S: Any, noise: Any) -> Any:
        """Gumbel-max samples (discrete) or squashed Gaussian samples in [-1, 1] (``Box``)."""
        Z = self.nets.policy_forward(params, non_trainable, S)
        if self.discrete:
            return ops.argmax(Z + noise, axis=-1)
        mu, log_std = Z
        return squashed_sample(mu, log_std, noise)[0]

    def _greedy_fn(self, params: tuple, non_trainable: tuple, S: Any) -> Any:
        Z = self.nets.policy_forward(params, non_trainable, S)
        return ops.argmax(Z, axis=-1) if self.discrete else squashed_median(Z[0])

    def _predict_fn(self, params: tuple, non_trainable: tuple, S: Any) -> Any:
        Z = self.nets.policy_forward(params, non_trainable, S)
        return ops.softmax(Z, axis=-1) if self.discrete else Z

    # ------------------------------------------------------------------ host side
    def buffer_action_space(self) -> gym.Space:
        """The space of stored actions: ``Box(-1, 1)`` of the action shape, or the env's
        ``Discrete`` space shifted to start at 0."""
        if isinstance(self.action_space, gym.spaces.Discrete):
            return gym.spaces.Discrete(int(self.action_space.n))
        return gym.spaces.Box(-1.0, 1.0, self.action_space.shape, np.float32)

    def random_actions(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` uniformly random actions, as ``(A_env, A_buffer)``."""
        if isinstance(self.action_space, gym.spaces.Discrete):
            A = rng.integers(int(self.action_space.n), size=n)
        else:
            A = rng.uniform(-1.0, 1.0, (n, *self.action_space.shape)).astype(np.float32)
        return self._to_env(A), A

    def act(self, S: np.ndarray, rng: np.random.Generator,
            exploration: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Actions sampled from the policy for a batch of observations, as ``(A_env, A_buffer)``;
        the noise comes from ``rng``. ``exploration`` is ignored (SAC explores by sampling)."""
        S = self._states(S)
        if isinstance(self.action_space, gym.spaces.Discrete):
            noise = rng.gumbel(size=(len(S), int(self.action_space.n))).astype(np.float32)
        else:
            noise = rng.standard_normal((len(S), *self.action_space.shape), np.float32)
        A = np.asarray(self._act(*self.nets.actor_weights(self.state), S, noise))
        return self._to_env(A), A

    def greedy(self, S: np.ndarray) -> np.ndarray:
        """The deterministic actions (``tanh`` of the mean, rescaled; or the most probable)."""
        return self._to_env(np.asarray(self._greedy(*self.nets.actor_weights(self.state), self._states(S))))

    def predict(self, S: np.ndarray) -> Any:
        """``(mu, log_std)`` of the Gaussian before squashing (``Box``), or the action
        probabilities [N, num_actions] (discrete)."""
        Z = self._probabilities(*self.nets.actor_weights(self.state), self._states(S))
        return np.asarray(Z) if self.discrete else tuple(np.asarray(z) for z in Z)

    def update(self, batch: dict[str, np.ndarray], lr: float, key: Any,
               steps: tuple[int, int] | None = None) -> tuple[dict[str, float], np.ndarray]:
        r"""``K`` gradient steps in one jitted call.

        Parameters
        ----------
        batch : dict of arrays
            ``S, A, Rn, In, S_next, W``, each with leading axes [K, batch_size]; ``A`` in the
            buffer's action space.
        lr : float
            The learning rate of the actor, the critics and the entropy coefficient.
        key : jax.Array
            The randomness of the sampled actions.
        steps : (int, int), optional
            The agent's env-step counters; unused (SAC counts gradient steps itself).

        Returns
        -------
        metrics : dict of str to float
            Averages over the ``K`` steps.
        td_errors : 2d array, shape [K, batch_size]
            :math:`G - \tfrac12(q_1 + q_2)(S, A)` of each step, before that step's update.
        """
        batch = check_update_batch(batch)
        self.state, metrics, td_errors = self._update(self.state, batch, np.float32(lr), key)
        return metrics.to_dict(), np.asarray(td_errors)

    def load_state(self, state: SACState) -> None:
        """Replace the learner's state (e.g. from a checkpoint)."""
        self.state = SACState(*state)

    def keras_models(self) -> dict[str, keras.Model]:
        """The actor and both critics as Keras models (``actor``, ``q1``, ``q2``), with the
        current weights."""
        return self.nets.keras_models(self.state)

    def _to_env(self, A: np.ndarray) -> np.ndarray:
        if isinstance(self.action_space, gym.spaces.Discrete):
            return A + int(self.action_space.start)
        return rescale_actions(A, self.action_space.low, self.action_space.high)

    def _states(self, S: Any) -> np.ndarray:
        func = self.nets.policy.function_approximator
        return check_observations(S, func.observation_space.shape, func.observation_dtype)


def _with_lr(state: TrainState, lr: Any) -> TrainState:
    return state._replace(opt_state=with_learning_rate(state.opt_state, lr))


class SAC(OffPolicyAgent):
    """Soft actor-critic (Haarnoja et al. 2018; pyrado's ``SAC``, SB3's defaults): a stochastic
    actor, twin critics with Polyak-averaged targets and a learned entropy coefficient.

    ``Box`` actions (finite bounds) get a tanh-squashed Gaussian policy, ``Discrete`` ones a
    categorical policy with exact expectations over actions (Christodoulou 2019). Parameters as
    in :class:`~plugrl.agents.OffPolicyAgent`; hyperparameters in
    :class:`~plugrl.agents.config.SACConfig`.
    """

    AGENT_TYPE: ClassVar[str] = "SAC"
    CONFIG: ClassVar[type] = SACConfig
    LEARNER: ClassVar[type] = SACLearner
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, env: Any, policy: Any = None, qfcn_1: Any = None, qfcn_2: Any = None, *,
                 seed: int | None = None, function_approximator: Any = None, **config: Any) -> None:
        """``policy``, ``qfcn_1`` and ``qfcn_2`` are pyrado's (seed 004): the actor and the twin
        critics as plugrl objects or function approximators (see
        :class:`~plugrl.agents.off_policy.sac_networks.SACModules`); any left out is the default
        MLP. ``function_approximator`` is one body shared by all three instead."""
        modules = SACModules(policy, qfcn_1, qfcn_2)
        if any(m is not None for m in modules):
            if function_approximator is not None:
                raise TypeError("function_approximator: expected either one shared body or pyrado's "
                                "policy / qfcn_1 / qfcn_2, got both")
            function_approximator = modules
        super().__init__(env, seed=seed, function_approximator=function_approximator, **config)

    @property
    def ent_coeff(self) -> float:
        """The current entropy coefficient alpha (pyrado's ``ent_coeff``)."""
        return float(np.exp(np.asarray(self.learner.state.ent_coeff.params[0])))
