"""Temporal-difference updaters, ``plugrl.td_learning`` (defined in :mod:`plugrl.updaters`)."""

from plugrl.updaters.td_learning import (
    BaseTDLearning,
    ClippedDoubleQLearning,
    DoubleQLearning,
    ExpectedSarsa,
    QLearning,
    Sarsa,
    SoftQLearning,
)

__all__ = [
    "BaseTDLearning",
    "ClippedDoubleQLearning",
    "DoubleQLearning",
    "ExpectedSarsa",
    "QLearning",
    "Sarsa",
    "SoftQLearning",
]
