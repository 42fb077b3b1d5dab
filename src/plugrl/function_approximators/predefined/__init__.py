"""Ready-made function approximators."""

from plugrl.function_approximators.predefined.linear import LinearFunctionApproximator

__all__ = ["LinearFunctionApproximator"]
