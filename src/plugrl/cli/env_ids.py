"""``--env``: a Gymnasium id as the user typed it, resolved to the id a run records.

``ConnectFour`` and ``CartPole`` are unversioned ids; Gymnasium's own ``make`` would pick the
highest registered version with a warning, but the presets are keyed by versioned ids and
``run.json`` should say which version ran, so the CLI resolves the id once, up front.
"""

from __future__ import annotations

import difflib

from plugrl.cli.console import UsageError

__all__ = ["resolve_env_id"]


def resolve_env_id(env_id: str, option: str = "--env") -> str:
    """The registered Gymnasium id that ``env_id`` names: itself, or for an unversioned id the
    highest registered version (``ConnectFour`` is ``ConnectFour-v0``).

    Versioned ids and ``module:name`` ids are returned unchanged: making the env reports what
    is wrong with them (and the Atari samplers take old ids that Gymnasium no longer registers).

    Parameters
    ----------
    env_id : str
        What the user typed, e.g. ``"ConnectFour"``, ``"ALE/Pong"`` or ``"CartPole-v1"``.
    option : str, optional
        The option named in errors.

    Returns
    -------
    str
        The id to make the env with, look presets up with and record.

    Raises
    ------
    UsageError
        If ``env_id`` is malformed, or unversioned with no registered version.
    """
    import gymnasium
    from gymnasium.envs.registration import find_highest_version, get_env_id, parse_env_id

    try:
        namespace, name, version = parse_env_id(env_id)
    except gymnasium.error.Error as error:
        raise UsageError(f"{option}: expected a Gymnasium id, [namespace/]name[-vN] such as "
                         f"CartPole-v1, got {env_id!r}") from error
    if version is not None or ":" in env_id or env_id in gymnasium.registry:
        return env_id
    if namespace == "ALE":
        _register_atari_games()
    latest = find_highest_version(namespace, name)
    if latest is None:
        raise UsageError(f"{option}: expected a registered Gymnasium id, with or without its "
                         f"version, got {env_id!r}{_suggestion(env_id)}")
    return get_env_id(namespace, name, latest)


def _register_atari_games() -> None:
    """ale-py registers its ``ALE/`` ids only when imported (and may not be installed)."""
    import gymnasium

    try:
        import ale_py
    except ImportError:
        return  # the id stays unknown; the error says so
    gymnasium.register_envs(ale_py)


def _suggestion(env_id: str) -> str:
    """``"; did you mean 'CartPole-v1'?"`` for a near miss, else ``""``."""
    import gymnasium

    latest: dict[str, tuple[int, str]] = {}  # unversioned id: (highest version, its id)
    for spec in gymnasium.registry.values():
        base = spec.id.removesuffix(f"-v{spec.version}")
        if spec.version is not None and spec.version >= latest.get(base, (-1, ""))[0]:
            latest[base] = (spec.version, spec.id)
    close = difflib.get_close_matches(env_id, list(latest), n=3)
    return f"; did you mean {', '.join(repr(latest[c][1]) for c in close)}?" if close else ""
