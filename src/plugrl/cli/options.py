"""Command-line options generated from the configuration dataclass.

Every field of the agents' configuration dataclasses (:class:`~plugrl.agents.config.OnPolicyConfig`,
:class:`~plugrl.agents.config.DQNConfig`, :class:`~plugrl.agents.config.SACConfig`) becomes an option
``--<field-with-dashes>`` whose help is the field's docstring and whose values are parsed by
the field's type (:func:`plugrl.agents.presets.coerce_field`); ``--set key=value`` does the
same for any field or alias. Nothing here names a field, so a new field is a new option.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from plugrl.cli.console import UsageError

__all__ = ["add_hyperparameter_options", "field_docs", "hyperparameter_overrides"]

#: Namespace prefix of the generated options, so they never collide with the CLI's own.
_DEST_PREFIX = "hyperparameter__"


@functools.cache
def field_docs(config_class: type) -> dict[str, str]:
    """The docstring after each field of a dataclass (the string literal below its annotation);
    a field documented in a base class keeps that docstring unless the class documents it again.

    Parameters
    ----------
    config_class : type
        A dataclass whose source is available to :func:`inspect.getsource`.

    Returns
    -------
    dict[str, str]
        Field name to its docstring, one line; fields without a docstring are left out.
    """
    docs = {}
    for cls in reversed([c for c in config_class.__mro__ if dataclasses.is_dataclass(c)]):
        docs.update(_own_field_docs(cls))
    return docs


def _own_field_docs(config_class: type) -> dict[str, str]:
    class_def = ast.parse(textwrap.dedent(inspect.getsource(config_class))).body[0]
    assert isinstance(class_def, ast.ClassDef)  # the source of a class is its class statement
    body = class_def.body  # the class's statements, in order
    docs = {}
    for statement, following in zip(body[:-1], body[1:], strict=True):
        doc = _string_statement(following)
        if (doc is not None and isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)):
            docs[statement.target.id] = " ".join(doc.split())
    return docs


def _string_statement(statement: ast.stmt) -> str | None:
    """The string of a statement that is a bare string literal (a field's docstring), or None."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return statement.value.value if isinstance(statement.value.value, str) else None
    return None


def add_hyperparameter_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--<field>`` for every configuration field and ``--set key=value`` to ``parser``."""
    from plugrl.agents.presets import config_classes, field_types, type_name

    classes = config_classes()
    group = parser.add_argument_group(
        "hyperparameters", f"Fields of {', '.join(c.__name__ for c in classes)} (each agent takes "
        "its own); they override the preset, which overrides the agent's defaults. Strings are "
        "parsed by the field's type ('none' for None, '64,64' for a tuple).")
    docs: dict[str, str] = {}
    for config_class in reversed(classes):  # the first class documenting a field wins
        docs.update(field_docs(config_class))
    types = field_types()
    for name, annotation in types.items():
        flag = "--" + name.replace("_", "-")
        # '%' would be read as an argparse format directive
        help_text = f"{docs.get(name, '')} [{type_name(annotation)}]".replace("%", "%%")
        dest = _DEST_PREFIX + name
        if annotation is bool:
            group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
        else:
            group.add_argument(flag, dest=dest, type=_field_parser(name), default=argparse.SUPPRESS,
                               metavar=_metavar(annotation), help=help_text)
    group.add_argument("--set", dest="set_values", action="append", default=[],
                       metavar="KEY=VALUE", help="Set any hyperparameter, aliases included "
                       "(repeatable; applied after the --<field> options).")


def hyperparameter_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The hyperparameters given on the command line: ``--<field>`` options, then ``--set``.

    Raises
    ------
    UsageError
        On a ``--set`` without ``=`` or with a value that does not fit the field's type.
    """
    from plugrl.agents.presets import coerce_field

    overrides = {name[len(_DEST_PREFIX):]: value for name, value in vars(args).items()
                 if name.startswith(_DEST_PREFIX)}
    for item in getattr(args, "set_values", []):
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set: expected KEY=VALUE, e.g. --set n_steps=64, got {item!r}")
        try:
            overrides[key.strip()] = coerce_field(key.strip(), text)
        except TypeError as error:
            raise UsageError(f"--set {item}: {error}") from error
    return overrides


def _field_parser(name: str) -> Callable[[str], Any]:
    """An argparse ``type`` that parses one field's value, with the field named in errors."""
    from plugrl.agents.presets import coerce_field

    def parse(text: str) -> Any:
        try:
            return coerce_field(name, text)
        except TypeError as error:
            raise argparse.ArgumentTypeError(str(error)) from error

    parse.__name__ = name
    return parse


def _metavar(annotation: Any) -> str:
    from plugrl.agents.presets import type_name

    words = [w for w in type_name(annotation).split(" | ") if not w.startswith("callable")]
    return "|".join(w.replace("tuple of ", "").upper() + ("[,...]" if w.startswith("tuple") else "")
                    if w != "None" else "none" for w in words)
