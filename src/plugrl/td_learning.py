"""Temporal-difference updaters, ``plugrl.td_learning`` (defined in :mod:`plugrl.updaters`)."""

from plugrl.updaters.td_learning import (
    BaseTDLearning,
    DoubleQLearning,
    ExpectedSarsa,
    QLearning,
    Sarsa,
)

__all__ = ["BaseTDLearning", "DoubleQLearning", "ExpectedSarsa", "QLearning", "Sarsa"]
