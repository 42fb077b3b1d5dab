"""File-system helpers for atomic writes that leave files with the usual permissions."""

from __future__ import annotations

import os

__all__ = ["give_default_mode", "umask"]


def umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def give_default_mode(path: str | os.PathLike, directory: bool = False) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would have: ``tempfile`` makes files
    0600 and directories 0700, which a file renamed into place would otherwise keep."""
    os.chmod(path, (0o777 if directory else 0o666) & ~umask())
