"""What plugrl sets up when it is imported: Keras on JAX, dispatch and the compilation cache."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = ("import plugrl, jax, keras; print(keras.backend.backend(), "
         "jax.config.values['jax_cpu_enable_async_dispatch'], jax.config.jax_compilation_cache_dir)")


def run(**env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("PLUGRL_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR", "KERAS_BACKEND")}
    environment.update(env)
    out = subprocess.run([sys.executable, "-c", CHECK], env=environment, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def test_defaults(tmp_path):
    backend, async_dispatch, cache = run(XDG_CACHE_HOME=str(tmp_path))
    assert (backend, async_dispatch) == ("jax", "False")
    assert cache == str(tmp_path / "plugrl" / "jax")


def test_user_choices_win(tmp_path):
    assert run(PLUGRL_COMPILATION_CACHE="off")[2] == "None"
    assert run(PLUGRL_COMPILATION_CACHE=str(tmp_path))[2] == str(tmp_path)
    assert run(JAX_CPU_ENABLE_ASYNC_DISPATCH="1")[1] == "True"


def test_keras_with_another_backend_is_a_clear_error():
    out = subprocess.run([sys.executable, "-c", "import keras; import plugrl"],
                         env={**os.environ, "KERAS_BACKEND": "numpy"}, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0
    assert "plugrl needs Keras with the JAX backend, got backend='numpy'" in out.stderr
