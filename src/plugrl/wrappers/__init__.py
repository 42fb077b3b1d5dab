"""Gymnasium wrappers: observation preprocessing and training monitoring."""

from __future__ import annotations

from plugrl.wrappers.default_preprocessor import DefaultPreprocessor
from plugrl.wrappers.train_monitor import TrainMonitor

__all__ = ["DefaultPreprocessor", "TrainMonitor"]
