"""Temporal-difference updaters for value functions (level 2 of the API)."""

from plugrl.updaters.td_learning.base import BaseTDLearning, td_target
from plugrl.updaters.td_learning.clipped_double_q_learning import (
    ClippedDoubleQLearning,
    clipped_double_q,
)
from plugrl.updaters.td_learning.double_q_learning import DoubleQLearning
from plugrl.updaters.td_learning.expected_sarsa import ExpectedSarsa
from plugrl.updaters.td_learning.q_learning import QLearning
from plugrl.updaters.td_learning.sarsa import Sarsa
from plugrl.updaters.td_learning.soft_q_learning import SoftQLearning

__all__ = [
    "BaseTDLearning",
    "ClippedDoubleQLearning",
    "DoubleQLearning",
    "ExpectedSarsa",
    "QLearning",
    "Sarsa",
    "SoftQLearning",
    "clipped_double_q",
    "td_target",
]
