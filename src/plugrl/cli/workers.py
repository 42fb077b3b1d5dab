"""``--workers N`` of ``plugrl train`` and ``plugrl tune``: the environments on N Ray actors."""

from __future__ import annotations

import argparse
from typing import Any

from plugrl.cli.console import UsageError
from plugrl.cli.options import hyperparameter_overrides

__all__ = ["add_workers_option", "workers_overrides"]


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    """``--workers N``: the environments on N Ray actors (the cluster: ``--address``)."""
    parser.add_argument("--workers", type=int, metavar="N",
                        help="step the environments on N Ray actors (vectorization='ray', num_envs "
                        "= N * envs_per_worker; plugrl[ray]); the cluster is --address or "
                        "RAY_ADDRESS, else a local Ray instance")


def workers_overrides(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with ``--workers``' vectorization and number of environments."""
    workers = getattr(args, "workers", None)
    if workers is None:
        return config
    if workers < 1:
        raise UsageError(f"--workers: expected an int >= 1, got {workers}")
    per_worker = int(config.get("envs_per_worker", 1))
    given = hyperparameter_overrides(args)
    num_envs = given.get("num_envs", given.get("num_workers"))
    if num_envs is not None and int(num_envs) != workers * per_worker:
        raise UsageError(f"--workers: expected num_envs = workers * envs_per_worker = "
                         f"{workers * per_worker}, got num_envs={num_envs}; give one of the two")
    config = {k: v for k, v in config.items() if k != "num_workers"}  # pyrado's alias of num_envs
    return {**config, "vectorization": "ray", "num_envs": workers * per_worker}
