"""Policies: updateable (softmax, Gaussian), value-based (epsilon-greedy), special ones, and
DeepChem's ``Policy`` (a user's Keras model that the on-policy agents train)."""

from plugrl.policies.deepchem import Policy
from plugrl.policies.epsilon_greedy import EpsilonGreedy
from plugrl.policies.gaussian import GaussianPolicy
from plugrl.policies.random import RandomPolicy
from plugrl.policies.softmax import SoftmaxPolicy
from plugrl.policies.user_input import UserInputPolicy

__all__ = ["EpsilonGreedy", "GaussianPolicy", "Policy", "RandomPolicy", "SoftmaxPolicy", "UserInputPolicy"]
