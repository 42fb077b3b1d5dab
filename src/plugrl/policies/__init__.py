"""Policies that are not learned directly: value-based and special policies."""

from plugrl.policies.epsilon_greedy import EpsilonGreedy
from plugrl.policies.random import RandomPolicy
from plugrl.policies.user_input import UserInputPolicy

__all__ = ["EpsilonGreedy", "RandomPolicy", "UserInputPolicy"]
