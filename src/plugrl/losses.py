"""Loss functions, ``plugrl.losses`` (defined in :mod:`plugrl.updaters.losses`)."""

from plugrl.updaters.losses import (
    LoglossSign,
    ProjectedSemiGradientLoss,
    RootMeanSquaredError,
    huber,
    mse,
)

__all__ = ["LoglossSign", "ProjectedSemiGradientLoss", "RootMeanSquaredError", "huber", "mse"]
