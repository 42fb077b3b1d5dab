"""JAX's settings for plugrl, made once on import, and the ``jit`` every program goes through.

plugrl also turns off JAX's asynchronous dispatch on the CPU, unless the user chose a setting
with the ``JAX_CPU_ENABLE_ASYNC_DISPATCH`` environment variable. Update steps here are tiny
computations, for which handing each one to a worker thread costs more than it saves: measured
on a 2-core CPU (``benchmarks/value_loop.py``), synchronous dispatch made the seed's
single-transition loop about 15% faster and a batch update about 40% faster.

plugrl also turns on JAX's persistent compilation cache, so that a second run of the same
program skips compilation (measured: building a PPO agent and its first update took 12.8 s
cold and 1.6 s warm). The cache lives in ``$PLUGRL_COMPILATION_CACHE``, by default
``~/.cache/plugrl/jax``; set the variable to ``off`` to turn it off. A cache directory chosen
for JAX itself (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``) is left alone.

These are plugrl's only import-time effects; each only fills in a default.

Every program plugrl compiles goes through :func:`jit`, ``jax.jit`` with
:data:`COMPILER_OPTIONS`: LLVM's optimisation level 1 instead of the default 3. Matrix products
run in library kernels either way, and the fused elementwise loops of small networks and
environments ran as fast, with identical results, while compiling faster (PPO's fast-path chunk:
2.27 s became 1.85 s).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import jax

if "JAX_CPU_ENABLE_ASYNC_DISPATCH" not in os.environ:
    jax.config.update("jax_cpu_enable_async_dispatch", False)


def _compilation_cache_dir() -> str | None:
    default = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                           "plugrl", "jax")
    directory = os.environ.get("PLUGRL_COMPILATION_CACHE", default)
    return None if directory.strip().lower() in ("", "0", "off", "false", "no") else directory


_jax_cache_chosen = ("JAX_COMPILATION_CACHE_DIR" in os.environ
                     or jax.config.values["jax_compilation_cache_dir"] is not None)
if not _jax_cache_chosen and (_cache_dir := _compilation_cache_dir()):
    jax.config.update("jax_compilation_cache_dir", _cache_dir)
    # Small programs too: an agent compiles many of them, and together they take seconds.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

#: XLA options of every program plugrl compiles.
COMPILER_OPTIONS = {"xla_backend_optimization_level": 1}

jit = functools.partial(jax.jit, compiler_options=COMPILER_OPTIONS)


def jit_for(convolutional: bool) -> Callable[..., Any]:
    """:func:`jit`, or ``jax.jit`` at LLVM's default level for programs with convolutions,
    whose loops level 1 leaves slow: the gradient of a 4x4, stride-2 convolution on 8x8 maps
    (batch 32) took 39.5 ms at level 1 and 2.2 ms at level 3, and DQN's update on 36x36 images
    18.3 ms against 4.8 ms, compiled as fast (2 cores)."""
    return jax.jit if convolutional else jit


__all__ = ["COMPILER_OPTIONS", "jit", "jit_for"]
