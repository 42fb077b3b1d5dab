"""The CLI's consoles and its one error type for bad input (exit code 2)."""

from __future__ import annotations

from typing import Any

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "UsageError", "make_consoles", "print_error"]

EXIT_OK = 0
#: Bad input: unknown agent, env, preset or hyperparameter, or an existing run without --force.
EXIT_USAGE = 2
#: Stopped by the user: Ctrl-C (the shell's convention, 128 + SIGINT), or leaving a game of
#: ``plugrl play GAME`` with Ctrl-D (the end of input).
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input from the user: printed without a traceback, exit code 2."""


def make_consoles() -> tuple[Any, Any]:
    """Rich consoles for results (stdout) and for errors (stderr).

    Made per call rather than at import, so each picks up the streams of the moment (a test's
    captured ``sys.stdout``, for one).
    """
    from rich.console import Console

    return Console(), Console(stderr=True)


def print_error(console: Any, message: str) -> None:
    """Print ``error: message`` in red, without rich markup or wrapping mid-word.

    Error messages hold ``[...]`` lists that rich would otherwise read as markup.
    """
    from rich.text import Text

    console.print(Text("error: ", style="bold red") + Text(str(message)), soft_wrap=True)
