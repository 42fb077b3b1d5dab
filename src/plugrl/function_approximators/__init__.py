"""Function approximators: a Keras body shared by value functions and policies, plus heads."""

from plugrl.function_approximators import predefined
from plugrl.function_approximators.base import FunctionApproximator, HeadModel

__all__ = ["FunctionApproximator", "HeadModel", "predefined"]
