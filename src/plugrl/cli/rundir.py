"""A training run's directory: what it holds, refusing to overwrite it, and atomic writes.

Layout of ``<run-dir>``::

    run.json             what ran and how it went (status "running" until the end)
    history.json         the training records (one per rollout update)
    agent/               the trained agent (``Agent.load``)
    checkpoints/         periodic checkpoints (``--checkpoint-interval``)
    tensorboard/         TensorBoard event files
    learning_curve.png   mean training return (and evaluations) vs env steps
    episode.gif          one greedy episode
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from plugrl.cli.console import UsageError
from plugrl.utils.files import give_default_mode

__all__ = ["RUN_ARTIFACTS", "check_run_dir", "clear_run_dir", "read_json", "write_atomically",
           "write_json"]

#: Everything a run writes; any of them marks the directory as holding a run.
RUN_ARTIFACTS = ("run.json", "history.json", "agent", "checkpoints", "tensorboard",
                 "learning_curve.png", "episode.gif")


def check_run_dir(run_dir: pathlib.Path, force: bool) -> None:
    """Refuse a directory that already holds a run, unless ``force``.

    Raises
    ------
    UsageError
        If ``run_dir`` is a file, or holds a run and ``force`` is false.
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"--run-dir: expected a directory, got the file {run_dir}")
    found = [name for name in RUN_ARTIFACTS if (run_dir / name).exists()]
    if found and not force:
        raise UsageError(f"--run-dir: {run_dir} already holds a run ({', '.join(found)}); "
                         "choose another --run-dir or --seed, or pass --force to replace it")


def clear_run_dir(run_dir: pathlib.Path) -> None:
    """Remove a previous run's artefacts (only those: other files in the directory stay)."""
    for name in RUN_ARTIFACTS:
        path = run_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def write_atomically(path: pathlib.Path, write: Callable[[pathlib.Path], Any]) -> pathlib.Path:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it to ``path``.

    A failure leaves ``path`` as it was: readers never see a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(pathlib.Path(tmp))
        give_default_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: pathlib.Path, data: Any) -> pathlib.Path:
    """Write ``data`` as indented JSON, atomically; NaN and infinities become ``null``."""
    text = json.dumps(_finite(data), indent=2, allow_nan=False) + "\n"
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_json(path: pathlib.Path) -> Any:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(path.read_text(encoding="utf-8"))


def _finite(data: Any) -> Any:
    """``data`` with non-finite floats replaced by None (strict JSON has no NaN)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {str(k): _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    if hasattr(data, "item") and callable(data.item):  # NumPy scalars
        return _finite(data.item())
    return data
