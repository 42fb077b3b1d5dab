"""Low-level utilities: array helpers, environment inspection, media and logging.

These depend only on NumPy and Gymnasium (imageio and Pillow are imported lazily, when a GIF is
written), never on JAX or Keras; the exception, keras-gym's tensor helpers (``*_tf``,
``check_tensor``) in :mod:`plugrl.utils.tensors`, is imported only when one of them is used.
"""

from __future__ import annotations

from typing import Any

from plugrl.utils.arrays import (
    argmax,
    argmin,
    idx,
    log_softmax,
    one_hot,
    project_onto_actions_np,
    softmax,
)
from plugrl.utils.box import (
    box_to_reals_np,
    box_to_unit_interval_np,
    clipped_logit_np,
    reals_to_box_np,
    unit_interval_to_box_np,
)
from plugrl.utils.checks import is_policy, is_qfunction, is_vfunction
from plugrl.utils.env import get_env_attr, get_transition, has_env_attr
from plugrl.utils.frame_diff import diff_transform_matrix
from plugrl.utils.log import enable_logging
from plugrl.utils.media import episode_return, generate_gif, render_episode
from plugrl.utils.spaces import feature_dim, feature_space, feature_vector
from plugrl.utils.validation import NumpyArrayCheckError, check_numpy_array

__all__ = [
    "NumpyArrayCheckError",
    "argmax",
    "argmin",
    "box_to_reals_np",
    "box_to_unit_interval_np",
    "check_numpy_array",
    "clipped_logit_np",
    "diff_transform_matrix",
    "enable_logging",
    "feature_dim",
    "feature_space",
    "feature_vector",
    "episode_return",
    "generate_gif",
    "get_env_attr",
    "get_transition",
    "has_env_attr",
    "idx",
    "is_policy",
    "is_qfunction",
    "is_vfunction",
    "log_softmax",
    "one_hot",
    "project_onto_actions_np",
    "reals_to_box_np",
    "render_episode",
    "softmax",
    "unit_interval_to_box_np",
]

_TENSOR_HELPERS = ("TensorCheckError", "box_to_reals_tf", "box_to_unit_interval_tf", "check_tensor",
                   "clipped_logit_tf", "log_softmax_tf", "project_onto_actions_tf",
                   "reals_to_box_tf", "unit_interval_to_box_tf")
__all__ += _TENSOR_HELPERS


def __getattr__(name: str) -> Any:
    # The tensor helpers import Keras; load them on first use only (PEP 562).
    if name in _TENSOR_HELPERS:
        from plugrl.utils import tensors

        return getattr(tensors, name)
    raise AttributeError(f"module 'plugrl.utils' has no attribute {name!r}")
