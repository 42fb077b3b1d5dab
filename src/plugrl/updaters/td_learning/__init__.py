"""Temporal-difference updaters for value functions (level 2 of the API)."""

from plugrl.updaters.td_learning.base import BaseTDLearning
from plugrl.updaters.td_learning.double_q_learning import DoubleQLearning
from plugrl.updaters.td_learning.expected_sarsa import ExpectedSarsa
from plugrl.updaters.td_learning.q_learning import QLearning
from plugrl.updaters.td_learning.sarsa import Sarsa

__all__ = ["BaseTDLearning", "DoubleQLearning", "ExpectedSarsa", "QLearning", "Sarsa"]
