"""Gymnasium wrappers: observation preprocessing, action transforms, training monitoring."""

from __future__ import annotations

from plugrl.wrappers.box_to_reals import BoxActionsToReals
from plugrl.wrappers.default_preprocessor import DefaultPreprocessor
from plugrl.wrappers.train_monitor import TrainMonitor

#: The name keras-gym's own notes use for :class:`BoxActionsToReals` (same class).
BoxToReals = BoxActionsToReals

__all__ = ["BoxActionsToReals", "BoxToReals", "DefaultPreprocessor", "TrainMonitor"]
