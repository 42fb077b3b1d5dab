"""The on-policy agents' learner: a policy and a value function trained on GAE advantages.

One jitted call per rollout runs every epoch and minibatch (``lax.scan``); one jitted call per
vector step samples actions and records the policy info (log-probabilities, values,
distribution parameters).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl._backend import keras
from plugrl._backend import (
    TrainState,
    init_train_state,
    jit,
    minibatch_epochs,
    scheduled_adam,
    train_step,
    with_learning_rate,
)
from plugrl.function_approximators.parameter_groups import ParameterGroups
from plugrl.agents.config import OnPolicyConfig
from plugrl.function_approximators.predefined.mlp import MLP, policy_spaces
from plugrl.caching.gae import GAE, standardize
from plugrl.policies import GaussianPolicy, SoftmaxPolicy
from plugrl.updaters.policy_objectives import ppo_clip_surrogate
from plugrl.utils.schedules import schedule_value
from plugrl.value_functions import V

ops = keras.ops

__all__ = ["OnPolicyLearner"]


class OnPolicyLearner:
    """Networks, optimizer and the jitted functions of an on-policy agent.

    Parameters
    ----------
    observation_space, action_space : gymnasium.Space
        The spaces of one environment.
    config : OnPolicyConfig
        The hyperparameters.
    seed : int
        Seeds the weight initialisation.
    function_approximator : FunctionApproximator, optional
        A user-made body shared by actor and critic (``head_pi`` and ``head_v``); by default
        MLPs of ``config.hidden_sizes``, shared or separate as ``config.shared_network`` says.
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, config: OnPolicyConfig,
                 seed: int, function_approximator: Any = None) -> None:
        self.config = config
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.policy, self.v_func = self._build_functions(observation_space, action_space, seed,
                                                         function_approximator)
        self._groups = ParameterGroups([self.policy, self.v_func])
        # Small networks of many arrays: Adam on one raveled vector is cheaper.
        self.optimizer = scheduled_adam(schedule_value(config.lr, 0.0), config.max_grad_norm,
                                        raveled=True)
        self.state = init_train_state(*self._groups.gather(), self.optimizer)
        step = train_step(self._loss_fn, self.optimizer, type(self).__name__)
        self._update = jit(lambda state, batch, indices, lr, clip, key: minibatch_epochs(
            lambda st, minibatch, k: step(st, {**minibatch, "clip": clip}, k),
            state._replace(opt_state=with_learning_rate(state.opt_state, lr)), batch, indices, key))
        self._act = jit(self._act_fn)
        self._gae = GAE(config.gamma, config.gae_lambda)
        self._values = jit(lambda params, non_trainable, S: self._forward(params, non_trainable, S)[1])
        self._policy_params = jit(lambda params, non_trainable, S:
                                  self._forward(params, non_trainable, S)[0])

    # ------------------------------------------------------------------ construction
    def _build_functions(self, observation_space: gym.Space, action_space: gym.Space, seed: int,
                         function_approximator: Any) -> tuple[Any, V]:
        cfg = self.config
        spaces = policy_spaces(observation_space, action_space)
        policy_class = SoftmaxPolicy if self.discrete else GaussianPolicy
        if function_approximator is not None:
            actor = critic = function_approximator
        else:
            actor = MLP(spaces, cfg.hidden_sizes, cfg.activation, random_seed=seed)
            critic = actor if cfg.shared_network else MLP(spaces, cfg.hidden_sizes, cfg.activation,
                                                          random_seed=seed + 1)
        return policy_class(actor, entropy_beta=0.0, random_seed=seed), V(critic, gamma=cfg.gamma)

    # ------------------------------------------------------------------ pure functions
    def _forward(self, params: Any, non_trainable: Any, S: Any) -> tuple[Any, Any]:
        weights_pi = self._groups.select(params, non_trainable, 0)
        weights_v = self._groups.select(params, non_trainable, 1)
        return self.policy.apply(*weights_pi, S)[0], self.v_func.apply(*weights_v, S)[0]

    def _act_fn(self, params: Any, non_trainable: Any, S: Any, noise: Any) -> Any:
        """Actions, log-probabilities, values and distribution parameters, packed in one array."""
        Z, V_pred = self._forward(params, non_trainable, S)
        dist = self.policy.make_dist(Z)
        if self.discrete:
            A = ops.argmax(Z + noise, axis=-1)
            columns = [ops.cast(A, "float32")[:, None], Z]
        else:
            mu, logvar = Z
            A = mu + ops.exp(0.5 * logvar) * noise
            columns = [_flat(A), _flat(mu), _flat(logvar)]
        logP = dist.log_proba(A)
        return ops.concatenate([logP[:, None], V_pred[:, None], *columns], axis=-1)

    def _loss_fn(self, params: Any, state: TrainState, batch: dict, key: Any) -> tuple[Any, Any]:
        cfg = self.config
        Z, V_pred = self._forward(params, state.non_trainable, batch["S"])
        dist = self.policy.make_dist(Z)
        logP = dist.log_proba(batch["A"])
        Adv = batch["Adv"]
        if cfg.standardize_advantages:
            Adv = standardize(Adv)
        if cfg.policy_objective == "ppo":
            policy_loss, clip_fraction = ppo_clip_surrogate(logP, batch["logP"], Adv, batch["clip"])
        else:
            policy_loss, clip_fraction = -ops.mean(Adv * logP), ops.zeros(())
        value_loss = _value_loss(V_pred, batch["V"], batch["R"], cfg.clip_value)
        entropy = ops.mean(dist.entropy())
        # The fast path passes the coefficients in the batch, so that they can be traced.
        vfcn_coeff = batch.get("vfcn_coeff", cfg.vfcn_coeff)
        entropy_coeff = batch.get("entropy_coeff", cfg.entropy_coeff)
        loss = policy_loss + vfcn_coeff * value_loss - entropy_coeff * entropy
        metrics = {"policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy,
                   "approx_kl": ops.mean(batch["logP"] - logP), "clip_fraction": clip_fraction}
        return loss, (state.non_trainable, metrics)

    # ------------------------------------------------------------------ host side
    def act(self, S: np.ndarray, noise: np.ndarray) -> dict[str, np.ndarray]:
        """Sample actions for a batch of (normalised) observations; returns the policy info."""
        packed = np.asarray(self._act(self.state.params, self.state.non_trainable, S, noise))
        info = {"logP": packed[:, 0], "V": packed[:, 1]}
        if self.discrete:
            info["A"], info["Z"] = packed[:, 2].astype(np.int64), packed[:, 3:]
        else:
            size = (packed.shape[1] - 2) // 3
            info["A"], info["mu"], info["logvar"] = np.split(packed[:, 2:], [size, 2 * size], axis=1)
        return info

    def policy_params(self, S: np.ndarray) -> Any:
        """Distribution parameters (logits, or ``(mu, logvar)``) of a batch of observations."""
        Z = self._policy_params(self.state.params, self.state.non_trainable, S)
        return np.asarray(Z) if self.discrete else tuple(np.asarray(z) for z in Z)

    def values(self, S: np.ndarray) -> np.ndarray:
        """State values of a batch of (normalised) observations."""
        return np.asarray(self._values(self.state.params, self.state.non_trainable, S))

    def advantages(self, R: Any, V_old: Any, V_next: Any, terminated: Any,
                   truncated: Any) -> tuple[np.ndarray, np.ndarray]:
        """GAE advantages and TD(lambda) returns, time-major [T, N]."""
        Adv, Rlambda = self._gae(R, V_old, V_next, terminated, truncated)
        return np.asarray(Adv), np.asarray(Rlambda)

    def update(self, batch: dict[str, np.ndarray], lr: float, clip: float, key: Any,
               rng: np.random.Generator) -> dict[str, float]:
        """All epochs of minibatch updates on one rollout, in one jitted call; ``rng`` shuffles
        the samples for every epoch (samples beyond whole minibatches sit that epoch out)."""
        size, cfg = len(batch["S"]), self.config
        num_minibatches = size // cfg.batch_size
        indices = np.stack([rng.permutation(size)[: num_minibatches * cfg.batch_size]
                            for _ in range(cfg.num_epoch)]).reshape(cfg.num_epoch, num_minibatches,
                                                                    cfg.batch_size)
        self.state, metrics = self._update(self.state, batch, indices.astype(np.int32),
                                           np.float32(lr), np.float32(clip), key)
        self._groups.scatter(self.state.params, self.state.non_trainable)
        return metrics.to_dict()

    def load_state(self, state: TrainState) -> None:
        """Replace the learner's state (e.g. from a checkpoint) and the networks' weights."""
        self.state = state
        self._groups.scatter(state.params, state.non_trainable)

    def get_weights(self) -> list[np.ndarray]:
        """Every trainable array of the learner's state, in a fixed order."""
        return [np.asarray(x) for x in _leaves(self.state.params)]


def _value_loss(V_pred: Any, V_old: Any, R: Any, clip_value: float | None) -> Any:
    r"""Squared error to the returns; with ``clip_value`` (PPO2) the pessimistic maximum of the
    clipped and unclipped errors, :math:`\max\{(v-R)^2, (v_\text{old} + \mathrm{clip}(v -
    v_\text{old}, \pm c) - R)^2\}`."""
    error = ops.square(V_pred - R)
    if clip_value is None:
        return ops.mean(error)
    V_clipped = V_old + ops.clip(V_pred - V_old, -clip_value, clip_value)
    return ops.mean(ops.maximum(error, ops.square(V_clipped - R)))


def _flat(x: Any) -> Any:
    return ops.reshape(x, (x.shape[0], -1))


def _leaves(tree: Any) -> list[Any]:
    return keras.tree.flatten(tree)
