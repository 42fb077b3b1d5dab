"""Ready-made function approximators."""

from plugrl.function_approximators.predefined.atari import AtariFunctionApproximator
from plugrl.function_approximators.predefined.connect_four import ConnectFourFunctionApproximator
from plugrl.function_approximators.predefined.linear import LinearFunctionApproximator
from plugrl.function_approximators.predefined.mlp import MLP, CriticMLP
from plugrl.function_approximators.predefined.q_network import QNetwork

__all__ = ["MLP", "AtariFunctionApproximator", "ConnectFourFunctionApproximator", "CriticMLP",
           "LinearFunctionApproximator", "QNetwork"]
