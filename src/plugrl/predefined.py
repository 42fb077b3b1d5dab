"""Ready-made function approximators, ``plugrl.predefined``."""

from plugrl.function_approximators.predefined import LinearFunctionApproximator

__all__ = ["LinearFunctionApproximator"]
