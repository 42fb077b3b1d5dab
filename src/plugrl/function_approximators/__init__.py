"""Function approximators: a Keras body shared by value functions and policies, plus heads."""

from plugrl.function_approximators import predefined
from plugrl.function_approximators.base import FunctionApproximator, HeadModel
from plugrl.function_approximators.keras_models import (
    ActorModel,
    NamedOutputsModel,
    RecurrentNamedOutputsModel,
    ValueModel,
)
from plugrl.function_approximators.parameter_groups import (
    GroupedParams,
    HeadFunction,
    Member,
    MemberPositions,
    ParameterGroups,
    grouped,
)
from plugrl.function_approximators.recurrent import RecurrentFunctionApproximator, RecurrentMLP

__all__ = ["ActorModel", "FunctionApproximator", "GroupedParams", "HeadFunction", "HeadModel", "Member",
           "MemberPositions", "NamedOutputsModel", "ParameterGroups", "RecurrentFunctionApproximator",
           "RecurrentMLP", "RecurrentNamedOutputsModel", "ValueModel", "grouped", "predefined"]
