"""Ready-made function approximators."""

from plugrl.function_approximators.predefined.linear import LinearFunctionApproximator
from plugrl.function_approximators.predefined.mlp import CriticMLP, MLP
from plugrl.function_approximators.predefined.q_network import QNetwork

__all__ = ["CriticMLP", "LinearFunctionApproximator", "MLP", "QNetwork"]
