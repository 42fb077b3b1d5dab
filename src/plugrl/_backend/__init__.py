"""Backend selection: plugrl runs Keras 3 on JAX.

Keras reads ``KERAS_BACKEND`` once, when it is first imported, so plugrl sets it here before
anything imports Keras. This is the one import-time effect in plugrl and it only fills in a
default: a user who imported Keras with another backend gets a clear error instead of a
silent mix of backends.
"""

from __future__ import annotations

import os
import sys

_BACKEND = "jax"

if "keras" not in sys.modules:
    os.environ.setdefault("KERAS_BACKEND", _BACKEND)

import keras  # noqa: E402  (must follow the environment variable above)

if keras.backend.backend() != _BACKEND:
    raise ImportError(
        f"plugrl needs Keras with the JAX backend, got backend={keras.backend.backend()!r}. "
        "Import plugrl before keras, or set KERAS_BACKEND=jax."
    )

__all__ = ["keras"]
