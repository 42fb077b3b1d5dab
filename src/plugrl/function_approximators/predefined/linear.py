"""A linear function approximator with optional feature interactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym

from plugrl._backend import Optimizer, keras, sgd
from plugrl.function_approximators.base import FunctionApproximator
from plugrl.function_approximators.layers import ElementwiseQuadratic, FullQuadratic

__all__ = ["LinearFunctionApproximator"]

_INTERACTIONS: dict[str, type[keras.layers.Layer]] = {
    "full_quadratic": FullQuadratic, "elementwise_quadratic": ElementwiseQuadratic,
}


class LinearFunctionApproximator(FunctionApproximator):
    r"""A linear function approximator.

    The body flattens the observation and optionally adds feature interactions; the heads are
    linear, so every value is linear in the (interacted) features.

    Parameters
    ----------
    env : gymnasium.Env
        The environment.
    interaction : str or keras.layers.Layer, optional
        ``'full_quadratic'``: all linear, bilinear and quadratic terms, :math:`(b, n) \to
        (b, (n+1)(n+2)/2 - 1)`; ``'elementwise_quadratic'``: linear and quadratic terms,
        :math:`(b, n) \to (b, 2n)`; or a custom Keras layer. ``None`` (default) omits it.
    optimizer : optax.GradientTransformation or keras.optimizers.Optimizer, optional
        Defaults to plain SGD.
    random_seed : int, optional
        Seed of the weight initialisation.
    **optimizer_kwargs
        Keyword arguments of the default optimizer, e.g. ``lr=0.01``.
    """

    DEFAULT_OPTIMIZER: ClassVar[Callable[..., Optimizer]] = sgd
    DEFAULT_LEARNING_RATE: ClassVar[float] = 1e-2

    def __init__(self, env: gym.Env, interaction: str | keras.layers.Layer | None = None,
                 optimizer: Optimizer | keras.optimizers.Optimizer | None = None, *,
                 random_seed: int | None = None, **optimizer_kwargs: Any) -> None:
        self.interaction = _check_interaction(interaction)
        super().__init__(env, optimizer, random_seed=random_seed, **optimizer_kwargs)

    def body(self, S: keras.KerasTensor) -> keras.KerasTensor:
        X = keras.layers.Flatten()(S)
        if self.interaction is None:
            return X
        if isinstance(self.interaction, str):
            return _INTERACTIONS[self.interaction]()(X)
        return self.interaction(X)


def _check_interaction(interaction: Any) -> Any:
    if interaction is None or isinstance(interaction, keras.layers.Layer):
        return interaction
    if isinstance(interaction, str) and interaction in _INTERACTIONS:
        return interaction
    raise ValueError(
        f"interaction: expected None, one of {sorted(_INTERACTIONS)} or a keras Layer, "
        f"got {interaction!r}"
    )
