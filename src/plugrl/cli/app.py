"""The ``plugrl`` command line: the parser and :func:`main` (see :mod:`plugrl.cli.main`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from plugrl.cli.console import EXIT_USAGE, UsageError, make_consoles, print_error

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``plugrl`` parser with its sub-commands ``train``, ``eval``, ``play``, ``presets`` and
    ``tune``."""
    from plugrl.cli.commands import add_eval_parser, add_play_parser, add_presets_parser
    from plugrl.cli.train import add_train_parser
    from plugrl.cli.tune import add_tune_parser

    parser = argparse.ArgumentParser(
        prog="plugrl", description="Train, evaluate and watch plugrl agents on Gymnasium environments.",
        epilog="Run 'plugrl COMMAND --help' for a command's options.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_train_parser(subparsers)
    add_eval_parser(subparsers)
    add_play_parser(subparsers)
    add_presets_parser(subparsers)
    add_tune_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``plugrl`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 on success, 2 on bad input (printed as one error message, without a
        traceback), 130 when training was stopped with Ctrl-C.
    """
    import plugrl  # noqa: F401  (selects the JAX backend before anything imports Keras)

    argv = list(sys.argv[1:] if argv is None else argv)
    console, error_console = make_consoles()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse's way of reporting --help and usage errors
        return int(exit_.code) if isinstance(exit_.code, int) else EXIT_USAGE
    args.argv = argv
    try:
        return args.handler(args, console)
    except UsageError as error:
        print_error(error_console, str(error))
        return EXIT_USAGE
