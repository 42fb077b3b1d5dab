r"""keras-gym's ``predefined.ConnectFourFunctionApproximator``: the policy-value network of
AlphaZero for :class:`~plugrl.envs.ConnectFourEnv` (any board size)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from plugrl._backend import Optimizer, keras
from plugrl.function_approximators.base import FunctionApproximator

__all__ = ["ConnectFourFunctionApproximator"]

ops = keras.ops

#: What an illegal move's logit loses: its probability is then exactly 0 in float32.
_ILLEGAL_LOGIT = 1e9


class ConnectFourFunctionApproximator(FunctionApproximator):
    r"""A convolutional policy-value network for Connect Four.

    The body reads the tokens (rows 1 on of the observation) with ``len(filters)``
    :math:`3\times 3` convolutions that keep the board's size, then a dense layer:

    .. math::

        S_{1:,:,:}\ \xrightarrow{\ \text{conv}_{3\times3}^{f_1}\ \to\ \cdots\ \to\
        \text{conv}_{3\times3}^{f_k}\ }\ \text{dense}^{d}\ \to\ X

    The body's output also carries the legal-move mask (row 0 of the observation), so that the
    policy head gives illegal moves a logit lowered by :math:`10^9` (probability 0), and the
    value head is :math:`v = \tanh(w^\top X + b) \in (-1, 1)`, the expected outcome for the
    player to move.

    Parameters
    ----------
    env : ConnectFourEnv
        The environment (or any object with its two spaces): observations ``[rows + 1, cols, 2]``,
        ``Discrete(cols)`` actions.
    optimizer : optax.GradientTransformation or keras.optimizers.Optimizer, optional
        If left unspecified, the default Adam optimizer with ``**optimizer_kwargs``.
    filters : tuple of int, optional
        Channels of each convolution.
    dense : int, optional
        Units of the dense layer.
    random_seed : int, optional
        Seed of the weight initialisation.
    **optimizer_kwargs
        Keyword arguments of the default optimizer, e.g. ``lr=0.001``.
    """

    def __init__(self, env: Any, optimizer: Optimizer | keras.optimizers.Optimizer | None = None, *,
                 filters: tuple[int, ...] = (32, 32, 32), dense: int = 128, random_seed: int | None = None,
                 **optimizer_kwargs: Any) -> None:
        space, actions = env.observation_space, env.action_space
        shape = getattr(space, "shape", None)
        if (not isinstance(actions, gym.spaces.Discrete) or shape is None or len(shape) != 3
                or shape[1:] != (int(actions.n), 2)):
            raise TypeError(f"env: expected Connect Four's spaces, observations [rows + 1, cols, 2] "
                            f"and Discrete(cols) actions, got {space} and {actions}")
        self.filters, self.dense = tuple(int(f) for f in filters), int(dense)
        super().__init__(env, optimizer, random_seed=random_seed, **optimizer_kwargs)

    def body(self, S: Any) -> Any:
        X = ops.cast(S, "float32")
        legal, X = X[:, 0, :, 0], X[:, 1:, :, :]
        for filters in self.filters:
            X = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(X)
        X = keras.layers.Flatten()(X)
        X = keras.layers.Dense(self.dense, activation="relu")(X)
        return keras.layers.Concatenate()([X, legal])

    def head_pi(self, X: Any) -> Any:
        features, legal = self._split(X)
        logits = keras.layers.Dense(self.num_actions, name="head_pi")(features)
        return logits + (legal - 1.0) * _ILLEGAL_LOGIT

    def head_v(self, X: Any) -> Any:
        features, _ = self._split(X)
        return keras.layers.Dense(1, activation="tanh", name="head_v")(features)

    def _split(self, X: Any) -> tuple[Any, Any]:
        """The body's features and the legal-move mask it carries along."""
        return X[:, :-self.num_actions], X[:, -self.num_actions:]
