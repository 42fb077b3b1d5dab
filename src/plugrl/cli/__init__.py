"""The ``plugrl`` command line: ``plugrl train | eval | play | presets`` (see :mod:`plugrl.cli.main`)."""

from __future__ import annotations

from plugrl.cli.app import main

__all__ = ["main"]
