"""Backend selection: plugrl runs Keras 3 on JAX.

Keras reads ``KERAS_BACKEND`` once, when it is first imported, so plugrl sets it here before
anything imports Keras. A user who imported Keras with another backend gets a clear error
instead of a silent mix of backends.

plugrl also turns off JAX's asynchronous dispatch on the CPU, unless the user chose a setting
with the ``JAX_CPU_ENABLE_ASYNC_DISPATCH`` environment variable. Update steps here are tiny
computations, for which handing each one to a worker thread costs more than it saves: measured
on a 2-core CPU (``benchmarks/value_loop.py``), synchronous dispatch made the seed's
single-transition loop about 15% faster and a batch update about 40% faster.

These are plugrl's only import-time effects; both only fill in defaults.
"""

from __future__ import annotations

import os
import sys

_BACKEND = "jax"

if "keras" not in sys.modules:
    os.environ.setdefault("KERAS_BACKEND", _BACKEND)

import jax  # noqa: E402
import keras  # noqa: E402  (must follow the environment variable above)

if keras.backend.backend() != _BACKEND:
    raise ImportError(
        f"plugrl needs Keras with the JAX backend, got backend={keras.backend.backend()!r}. "
        "Import plugrl before keras, or set KERAS_BACKEND=jax."
    )

if "JAX_CPU_ENABLE_ASYNC_DISPATCH" not in os.environ:
    jax.config.update("jax_cpu_enable_async_dispatch", False)

__all__ = ["keras"]
