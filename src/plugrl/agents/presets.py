"""Read hyperparameter presets: YAML files, one per agent, with one entry per Gymnasium id.

A preset maps the field names of its agent's configuration dataclass
(:class:`~plugrl.agents.config.OnPolicyConfig`, :class:`~plugrl.agents.config.DQNConfig`, ...),
or their aliases, to values, plus the non-config keys in :data:`NON_CONFIG_KEYS`
(``total_steps``: the training budget). Values are checked against the dataclass's field types
here, so a preset and a command-line option (``--set lr=1e-3``) are parsed by the same rules.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib.resources
import os
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # agents.base imports this module
    from plugrl.agents.base import BaseAgent

__all__ = ["NON_CONFIG_KEYS", "canonical_agent_name", "coerce_field", "config_classes", "field_types",
           "list_presets", "load_preset", "load_preset_file", "split_preset", "type_name"]

#: Preset keys that are not configuration fields: the training budget in env steps.
NON_CONFIG_KEYS = ("total_steps",)

_NONE_WORDS = ("none", "null", "~")
_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")


def list_presets() -> dict[str, list[str]]:
    """The env ids with a preset, per agent name (every agent of ``plugrl.agents.AGENTS``).

    Returns
    -------
    dict[str, list[str]]
        Agent name (``"PPO"``) to the sorted env ids of its presets; empty for an agent
        without a preset file.
    """
    return {name: sorted(_read_agent_presets(name)) for name in _agent_names()}


def load_preset(agent_name: str | type[BaseAgent], env_id: str) -> tuple[dict[str, Any], int | None]:
    """The preset of an agent for an environment, checked against the configuration.

    Parameters
    ----------
    agent_name : str or agent class
        An agent of ``plugrl.agents.AGENTS``, any case (``"ppo"``), or an agent class (its
        ``AGENT_TYPE`` names the preset file; its ``CONFIG`` and ``DEFAULTS`` check the values).
    env_id : str
        A Gymnasium id with a preset for this agent (see :func:`list_presets`).

    Returns
    -------
    config_overrides : dict[str, Any]
        Configuration fields to pass to the agent (``PPO(env_id, **config_overrides)``).
    total_steps : int or None
        The preset's training budget in env steps, if it has one.

    Raises
    ------
    ValueError
        On an unknown agent or env id (the message lists the valid ones), or an invalid preset.
    """
    agent = canonical_agent_name(agent_name.AGENT_TYPE if isinstance(agent_name, type) else agent_name)
    presets = _read_agent_presets(agent)
    if env_id not in presets:
        close = difflib.get_close_matches(str(env_id), list(presets), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"env_id: expected an env with a {agent} preset, got {env_id!r}{hint} "
                         f"Presets exist for: {sorted(presets) or 'none'}")
    return split_preset(presets[env_id], source=f"{agent} preset for {env_id}",
                        agent=agent_name if isinstance(agent_name, type) else agent)


def load_preset_file(path: str | os.PathLike[str], env_id: str | None = None,
                     agent_name: str | None = None) -> tuple[dict[str, Any], int | None]:
    """A user's preset from a YAML file: a flat mapping, or one entry per env id.

    Parameters
    ----------
    path : str or os.PathLike
        The YAML file.
    env_id : str, optional
        The entry to take when the file holds one mapping per env id.
    agent_name : str, optional
        If given, the preset is validated against this agent's defaults.

    Returns
    -------
    config_overrides, total_steps
        As :func:`load_preset`.
    """
    import yaml

    with open(path, encoding="utf-8") as file:
        data = yaml.safe_load(file) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of hyperparameters, got {type(data).__name__}")
    if data and all(isinstance(v, dict) for v in data.values()):
        if env_id not in data:
            raise ValueError(f"{path}: expected an entry for env {env_id!r}; entries: {sorted(data)}")
        data = data[env_id]
    agent = canonical_agent_name(agent_name) if agent_name is not None else None
    return split_preset(data, source=str(path), agent=agent)


def split_preset(preset: Mapping[str, Any], source: str = "preset",
                 agent: str | type[BaseAgent] | None = None) -> tuple[dict[str, Any], int | None]:
    """Separate a preset's configuration fields from its budget and check both.

    Configuration values are type-checked with :func:`coerce_field`; with ``agent`` given (a
    name in ``plugrl.agents.AGENTS`` or an agent class), the whole configuration is also
    validated by building it on that agent's defaults.
    """
    from plugrl.agents import AGENTS
    from plugrl.agents.config import build_config

    config = {k: v for k, v in preset.items() if k not in NON_CONFIG_KEYS}
    total_steps = preset.get("total_steps")
    if total_steps is not None and (isinstance(total_steps, bool) or not isinstance(total_steps, int)
                                    or total_steps < 1):
        raise ValueError(f"{source}: total_steps: expected an int >= 1, got {total_steps!r}")
    try:
        config = {name: coerce_field(name, value) for name, value in config.items()}
        if agent is not None:
            agent_class = agent if isinstance(agent, type) else AGENTS[agent]
            build_config(agent_class.CONFIG, agent_class.config_defaults(config), config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{source}: {error}") from error
    return config, total_steps


def canonical_agent_name(agent_name: str) -> str:
    """The name of an agent in ``plugrl.agents.AGENTS``, matched case-insensitively.

    Raises
    ------
    ValueError
        If no agent has this name; the message lists the valid names.
    """
    by_lower = {name.lower(): name for name in _agent_names()}
    if not isinstance(agent_name, str) or agent_name.lower() not in by_lower:
        raise ValueError(f"agent: expected one of {list(by_lower.values())} (any case), "
                         f"got {agent_name!r}")
    return by_lower[agent_name.lower()]


def coerce_field(name: str, value: Any) -> Any:
    """Check ``value`` against the type of configuration field ``name``; parse it if a string.

    A string is parsed by the field's type, trying the members of a union in order: so
    ``"1e-3"`` for ``lr`` (``float | str | Callable``) is the float 0.001 and ``"lin_0.001"``
    stays a string; ``"none"`` is None, ``"64,64"`` or ``"[64, 64]"`` a tuple of ints.
    Unknown names are returned unchanged, for ``build_config`` to reject with its message.

    Raises
    ------
    TypeError
        If the value fits none of the field's types.
    """
    annotation = _field_types().get(_canonical_field(name))
    if annotation is None:
        return value
    for member in _union_members(annotation):
        try:
            return _convert(member, value)
        except (TypeError, ValueError):
            continue
    raise TypeError(f"{name}: expected {type_name(annotation)}, got {value!r}")


def type_name(annotation: Any) -> str:
    """A short readable name of a field type (``'float | None'``, ``'tuple of int'``)."""
    names = []
    for member in _union_members(annotation):
        if member is type(None):
            names.append("None")
        elif typing.get_origin(member) is tuple:
            names.append(f"tuple of {type_name(typing.get_args(member)[0])}")
        elif _is_callable(member):
            names.append("callable (Python API only)")
        elif member is str:
            names.append("str")
        else:
            names.append(getattr(member, "__name__", str(member)))
    return " | ".join(names)


def field_types() -> dict[str, Any]:
    """The resolved type of every configuration field of every agent, by name."""
    return dict(_field_types())


def config_classes() -> list[type]:
    """The configuration dataclasses of the agents in ``plugrl.agents.AGENTS``, each once."""
    from plugrl.agents import AGENTS

    return list(dict.fromkeys(agent.CONFIG for agent in AGENTS.values()))


@functools.cache
def _field_types() -> dict[str, Any]:
    types_by_name: dict[str, Any] = {}
    for config_class in config_classes():
        hints = typing.get_type_hints(config_class)
        for field in dataclasses.fields(config_class):
            types_by_name.setdefault(field.name, hints[field.name])
    return types_by_name


def _canonical_field(name: str) -> str:
    from plugrl.agents.config import ALIASES

    return ALIASES.get(name, name)


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _is_callable(annotation: Any) -> bool:
    return typing.get_origin(annotation) is Callable or annotation is Callable


def _convert(annotation: Any, value: Any) -> Any:
    """``value`` as ``annotation``, parsed if a string; TypeError or ValueError if it does not fit."""
    is_text = isinstance(value, str)
    text = value.strip().lower() if is_text else ""
    if annotation is type(None):
        if value is None or text in _NONE_WORDS:
            return None
    elif annotation is bool:
        if isinstance(value, bool):
            return value
        if text in _TRUE_WORDS + _FALSE_WORDS:
            return text in _TRUE_WORDS
    elif annotation is int:
        # bool is an int subclass, but True is no layer count
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if is_text:
            return int(text)
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if is_text:
            return float(text)
    elif annotation is str:
        if is_text:
            return value
    elif typing.get_origin(annotation) is tuple:
        return _convert_tuple(annotation, value)
    raise TypeError(f"expected {type_name(annotation)}, got {value!r}")


def _convert_tuple(annotation: Any, value: Any) -> tuple[Any, ...]:
    item_type = typing.get_args(annotation)[0]
    if isinstance(value, str):
        value = [v for v in value.strip().strip("[]()").split(",") if v.strip()]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a sequence, got {value!r}")
    return tuple(_convert(item_type, v) for v in value)


def _agent_names() -> list[str]:
    from plugrl.agents import AGENTS

    return list(AGENTS)


def _read_agent_presets(agent: str) -> dict[str, dict[str, Any]]:
    """The raw presets of ``agent`` (canonical name) from ``<agent lower>.yaml``, if it exists."""
    import yaml

    resource = importlib.resources.files("plugrl.presets") / f"{agent.lower()}.yaml"
    if not resource.is_file():
        return {}
    data = yaml.safe_load(resource.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{resource}: expected a mapping from env id to hyperparameters")
    return data
