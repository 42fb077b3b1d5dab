"""``python -m plugrl.cli``: the same as the ``plugrl`` command."""

from __future__ import annotations

import sys

from plugrl.cli.app import main

sys.exit(main())
