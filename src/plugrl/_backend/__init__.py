"""The backend seam: every library module reaches the backend through this package.

plugrl runs Keras 3 on JAX. Keras reads ``KERAS_BACKEND`` once, when it is first imported, so
plugrl sets it here before anything imports Keras. A user who imported Keras with another
backend gets a clear error instead of a silent mix of backends.

The backend itself is one module, :mod:`plugrl._backend.jax`: train states, the one
``train_step`` and ``scan_steps``, randomness, weight transfer, tree and array helpers. This
package re-exports its public names; library modules import them from here and never from
``jax``, ``optax`` or ``plugrl._backend.jax`` directly (the JAX environments and the fast path,
JAX by nature, excepted), so that another backend is one more module and a selector here.

Importing the JAX backend sets two JAX options, each only filling in a default that the user
can override (plugrl's one deliberate import-time effect; see :mod:`plugrl._backend.jax`):
synchronous CPU dispatch (``JAX_CPU_ENABLE_ASYNC_DISPATCH``) and a persistent compilation cache
(``PLUGRL_COMPILATION_CACHE=off`` turns it off).
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

from plugrl._backend.jax import *  # noqa: E402,F403  (the selected backend's public names)
from plugrl._backend.jax import __all__ as _backend_names  # noqa: E402

__all__ = ["keras", *_backend_names]
