r"""AlphaZero's learner: the policy-value network, its pure forward pass for the search, and
the update that fits it to the search's visit counts and the games' outcomes.

.. math::

    L(\theta)\ =\ \hat{\mathbb{E}}\Big\{-\sum_a \pi(a|S)\,\log p_\theta(a|S)\
        +\ w\,\big(z - v_\theta(S)\big)^2\Big\}

with :math:`\pi` the search's visit distribution and :math:`z` the outcome of the game for
the player to move in :math:`S`. The policy term is :class:`~plugrl.policy_objectives.CrossEntropy`
(the seed's update strategy, taking the visit distribution in place of actions) and the value
term the squared error of the on-policy agents' :func:`value_loss`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from plugrl._backend import (
    TrainState,
    copy_arrays,
    init_train_state,
    jit_for,
    keras,
    scheduled_adam,
    train_step,
)
from plugrl.agents.alphazero.config import AlphaZeroConfig
from plugrl.agents.on_policy.learner import value_loss
from plugrl.function_approximators.predefined.connect_four import ConnectFourFunctionApproximator
from plugrl.proba_dists import CategoricalDist
from plugrl.updaters.policy_objectives import CrossEntropy

__all__ = ["AlphaZeroLearner", "PositionBatch"]

ops = keras.ops


class PositionBatch(NamedTuple):
    """Positions to learn from.

    Attributes
    ----------
    S : uint8 array, shape: [batch_size, rows + 1, cols, 2]
        Observations, seen by the player to move.
    P : float32 array, shape: [batch_size, num_actions]
        The search's visit distributions.
    Z : float32 array, shape: [batch_size]
        The games' outcomes for the player to move: +1 a win, 0 a draw, -1 a loss.
    """

    S: Any
    P: Any
    Z: Any


class AlphaZeroLearner:
    """The network of AlphaZero and its update.

    Parameters
    ----------
    env : gymnasium.Env or SpacesOnly
        Gives the spaces of the default network.
    config : AlphaZeroConfig
        ``lr``, ``max_grad_norm``, ``value_loss_weight``, ``filters`` and ``dense``.
    seed : int
        Seeds the default network's weights.
    function_approximator : FunctionApproximator, optional
        A user's network instead: its ``'pi'`` head must give logits over the moves (illegal
        ones lowered, as :class:`ConnectFourFunctionApproximator` does) and its ``'v'`` head
        values in [-1, 1].
    """

    def __init__(self, env: Any, config: AlphaZeroConfig, seed: int,
                 function_approximator: Any = None) -> None:
        self.config = config
        self.func = function_approximator or ConnectFourFunctionApproximator(
            env, filters=config.filters, dense=config.dense, random_seed=seed)
        self.func.head_model("pi")
        self.func.head_model("v")
        self.head = self.func.joint_head_model(("pi", "v"))
        self.optimizer = scheduled_adam(config.lr, config.max_grad_norm)
        self.state = init_train_state(self.func.gather(self.head.trainable),
                                      self.func.gather(self.head.non_trainable), self.optimizer)
        self._objective = CrossEntropy(entropy_beta=0.0)
        self._step = jit_for(True)(train_step(self._loss, self.optimizer, "AlphaZero"))

    # ------------------------------------------------------------------ the network
    def forward(self, weights: tuple[Any, Any], S: Any) -> tuple[Any, Any]:
        """Logits [B, num_actions] and values [B] of observations ``S`` (pure: ``weights`` is
        ``(params, non_trainable)``, as :attr:`weights` gives them)."""
        (Z, V), _ = self.head.model.stateless_call(list(weights[0]), list(weights[1]), S)
        return Z, V[:, 0]

    @property
    def weights(self) -> tuple[Any, Any]:
        """The current ``(params, non_trainable)``, what :meth:`forward` and the search take."""
        return self.state.params, self.state.non_trainable

    # ------------------------------------------------------------------ the update
    def update(self, batch: PositionBatch, key: Any) -> dict[str, float]:
        """One gradient step on a batch; returns the losses."""
        self.state, metrics = self._step(self.state, batch, key)
        return metrics.to_dict()

    def _loss(self, params: Any, state: TrainState, batch: PositionBatch, key: Any) -> tuple[Any, Any]:
        (Z, V), non_trainable = self.head.model.stateless_call(list(params), list(state.non_trainable),
                                                               batch.S, training=True)
        policy_loss, _ = self._objective.surrogate(CategoricalDist(Z), CategoricalDist(Z), batch.P, None)
        v_loss = value_loss(V[:, 0], None, batch.Z, None)
        metrics = {"AlphaZero/policy_loss": policy_loss, "AlphaZero/value_loss": v_loss}
        return policy_loss + self.config.value_loss_weight * v_loss, (tuple(non_trainable), metrics)

    # ------------------------------------------------------------------ state
    def load_state(self, state: TrainState) -> None:
        """Replace the learner's state (e.g. from a checkpoint)."""
        self.state = state

    def set_weights(self, weights: tuple[Any, Any]) -> None:
        """Replace the network's weights (not the optimizer's state)."""
        params, non_trainable = weights
        self.state = self.state._replace(params=copy_arrays(params), non_trainable=copy_arrays(non_trainable))

    def keras_models(self) -> dict[str, Any]:
        """The policy-value network as a Keras model ``S -> [logits, V]``, with the current weights."""
        self.func.scatter(self.head.trainable, self.state.params)
        self.func.scatter(self.head.non_trainable, self.state.non_trainable)
        self.func.sync_keras_variables()
        return {"policy_value": self.head.model}

    def get_weights(self) -> list[np.ndarray]:
        """Every trainable array, in a fixed order."""
        return [np.asarray(x) for x in self.state.params]
