"""The updateable policy for continuous (Box) action spaces."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl._backend import keras
from plugrl.function_approximators.base import FunctionApproximator
from plugrl.policies.base import BaseUpdateablePolicy, DistParams
from plugrl.proba_dists import NormalDist

ops = keras.ops

__all__ = ["GaussianPolicy"]


class GaussianPolicy(BaseUpdateablePolicy):
    r"""Updateable policy for continuous action spaces,
    :math:`\pi_\theta(a|s) = \mathcal{N}(a\,|\,\mu_\theta(s), \sigma^2_\theta(s))`, with
    :math:`(\mu, \log\sigma^2)` from ``head_pi``.

    The environment must be wrapped with :class:`plugrl.wrappers.BoxActionsToReals`, whose
    action space is the whole real line: a normal distribution has unbounded support.

    Parameters
    ----------
    function_approximator : FunctionApproximator
        The main function approximator.
    update_strategy : {'vanilla', 'ppo', 'cross_entropy'} or PolicyObjective, optional
        The policy objective.
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
        if not isinstance(space, gym.spaces.Box):
            raise TypeError(f"function_approximator: GaussianPolicy expected a Box action space, "
                            f"got {space}; use SoftmaxPolicy for discrete actions")
        if not (np.isinf(space.low).all() and np.isinf(space.high).all()):
            raise ValueError(
                "function_approximator: GaussianPolicy expected an unbounded Box action space, "
                f"got {space}; wrap the env with plugrl.wrappers.BoxActionsToReals"
            )

    def make_dist(self, Z: DistParams) -> NormalDist:
        """The normal distribution with parameters ``Z = (mu, logvar)``, each of shape
        [batch_size, *action_shape]; traceable."""
        mu, logvar = Z
        return NormalDist(mu, logvar)

    def _sample(self, Z: Any) -> np.ndarray:
        mu, logvar = Z
        return (mu + np.exp(0.5 * logvar) * self._rng.standard_normal(mu.shape)).astype(np.float32)

    def _mode(self, Z: Any) -> np.ndarray:
        return Z[0]

    def noise_block(self, size: int, rng: np.random.Generator | None = None) -> np.ndarray:
        space = self.function_approximator.action_space
        assert isinstance(space, gym.spaces.Box)  # what _check_action_space has checked
        return (self._rng if rng is None else rng).standard_normal((size, *space.shape), np.float32)

    def _action_from_noise(self, Z: Any, noise: Any) -> Any:
        mu, logvar = Z
        return mu[0] + ops.exp(0.5 * logvar[0]) * noise

    def _to_action(self, output: Any) -> np.ndarray | None:
        a = np.asarray(output)
        return a if np.isfinite(a).all() else None
