"""Ready-made function approximators, ``plugrl.predefined``."""

from plugrl.function_approximators.predefined import AtariFunctionApproximator, LinearFunctionApproximator

__all__ = ["AtariFunctionApproximator", "LinearFunctionApproximator"]
