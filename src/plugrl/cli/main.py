"""``plugrl``: train, evaluate and watch agents from the command line.

The entry point of the ``plugrl`` script and of ``python -m plugrl.cli.main``; the parser and
:func:`main` live in :mod:`plugrl.cli.app`, so that the package can export ``main`` without
importing this module (``python -m`` would otherwise find it imported twice).

Examples
--------
.. code-block:: console

    $ plugrl presets
    $ plugrl train ppo --env CartPole-v1                 # RL-Zoo's preset, 100k steps
    $ plugrl train a2c --env Acrobot-v1 --steps 2e5 --lr 1e-3 --set num_envs=8
    $ plugrl eval runs/ppo-CartPole-v1-seed0 --episodes 20
    $ plugrl play runs/ppo-CartPole-v1-seed0 --gif cartpole.gif
"""

from __future__ import annotations

import sys

from plugrl.cli.app import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
