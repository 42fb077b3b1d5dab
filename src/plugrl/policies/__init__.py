"""Policies: updateable (softmax, Gaussian), value-based (epsilon-greedy) and special ones."""

from plugrl.policies.epsilon_greedy import EpsilonGreedy
from plugrl.policies.gaussian import GaussianPolicy
from plugrl.policies.random import RandomPolicy
from plugrl.policies.softmax import SoftmaxPolicy
from plugrl.policies.user_input import UserInputPolicy

__all__ = ["EpsilonGreedy", "GaussianPolicy", "RandomPolicy", "SoftmaxPolicy", "UserInputPolicy"]
