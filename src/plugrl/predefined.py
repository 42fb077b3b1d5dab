"""Ready-made function approximators, ``plugrl.predefined``."""

from plugrl.function_approximators.predefined import (
    AtariFunctionApproximator,
    ConnectFourFunctionApproximator,
    LinearFunctionApproximator,
)

__all__ = ["AtariFunctionApproximator", "ConnectFourFunctionApproximator", "LinearFunctionApproximator"]
