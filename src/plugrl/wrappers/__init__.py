"""Gymnasium wrappers: observation preprocessing (features, images, frame stacks), action
transforms, training monitoring."""

from __future__ import annotations

from plugrl.wrappers.box_to_reals import BoxActionsToReals
from plugrl.wrappers.default_preprocessor import DefaultPreprocessor
from plugrl.wrappers.frame_stacker import FrameStacker
from plugrl.wrappers.image import ImagePreprocessor
from plugrl.wrappers.mask_velocity import MaskVelocityWrapper
from plugrl.wrappers.train_monitor import TrainMonitor

#: The name keras-gym's own notes use for :class:`BoxActionsToReals` (same class).
BoxToReals = BoxActionsToReals

__all__ = [
    "BoxActionsToReals",
    "BoxToReals",
    "DefaultPreprocessor",
    "FrameStacker",
    "ImagePreprocessor",
    "MaskVelocityWrapper",
    "TrainMonitor",
]
