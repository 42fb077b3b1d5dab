"""The updateable policy for discrete action spaces."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl._backend import keras
from plugrl.function_approximators.base import FunctionApproximator
from plugrl.policies.base import BaseUpdateablePolicy, DistParams
from plugrl.proba_dists import CategoricalDist
from plugrl.updaters.policy_objectives import CrossEntropy
from plugrl.utils.validation import check_propensities

ops = keras.ops

__all__ = ["SoftmaxPolicy"]


class SoftmaxPolicy(BaseUpdateablePolicy):
    r"""Updateable policy for discrete action spaces,
    :math:`\pi_\theta(a|s) = \exp z(s,a) / \sum_{a'}\exp z(s,a')` with logits from ``head_pi``.

    Parameters
    ----------
    function_approximator : FunctionApproximator
        The main function approximator.
    update_strategy : {'vanilla', 'ppo', 'cross_entropy'} or PolicyObjective, optional
        The policy objective: :class:`~plugrl.policy_objectives.VanillaPG`,
        :class:`~plugrl.policy_objectives.PPOClip` or
        :class:`~plugrl.policy_objectives.CrossEntropy`.
    ppo_clip_eps : float, optional
        The clipping parameter :math:`\epsilon > 0` of ``'ppo'``.
    entropy_beta : float, optional
        The coefficient :math:`\beta \ge 0` of the entropy bonus.
    random_seed : int, optional
        Sets the random state to get reproducible results.
    """

    @staticmethod
    def _check_action_space(function_approximator: FunctionApproximator) -> None:
        space = function_approximator.action_space
        if not isinstance(space, gym.spaces.Discrete):
            raise TypeError(f"function_approximator: SoftmaxPolicy expected a Discrete action space, "
                            f"got {space}; use GaussianPolicy for Box actions")

    def make_dist(self, Z: DistParams) -> CategoricalDist:
        """The categorical distribution with logits ``Z`` [batch_size, num_actions]; traceable."""
        return CategoricalDist(Z)

    def _sample(self, Z: np.ndarray) -> np.ndarray:
        # Gumbel-max: argmax(z + g) with standard Gumbel g is a sample of softmax(z).
        return np.argmax(Z + self._rng.gumbel(size=Z.shape), axis=-1)

    def _mode(self, Z: np.ndarray) -> np.ndarray:
        return np.argmax(Z, axis=-1)

    def noise_block(self, size: int, rng: np.random.Generator | None = None) -> np.ndarray:
        n = self.function_approximator.num_actions
        return (self._rng if rng is None else rng).gumbel(size=(size, n)).astype(np.float32)

    def _action_from_noise(self, Z: Any, noise: Any) -> Any:
        finite = ops.all(ops.isfinite(Z))
        return ops.where(finite, ops.argmax(Z[0] + noise), -1)

    def _to_action(self, output: Any) -> int | None:
        a = np.asarray(output).item()  # much faster than int() on a fresh JAX array
        return a if a >= 0 else None

    def greedy(self, s: Any, use_target_model: bool = False) -> int:
        return int(super().greedy(s, use_target_model))

    def check_behaviour_actions(self, A: Any, batch_size: int) -> np.ndarray:
        A = np.asarray(A)
        if isinstance(self.objective, CrossEntropy) and A.ndim == 2 and \
                np.issubdtype(A.dtype, np.floating):
            return self._check_propensities(A, batch_size)
        return self.check_actions(A, batch_size, "A")

    def _check_propensities(self, P: np.ndarray, batch_size: int) -> np.ndarray:
        return check_propensities(P, (batch_size, self.function_approximator.num_actions), "A")
