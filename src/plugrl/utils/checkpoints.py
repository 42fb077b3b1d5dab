"""Safe, atomic, versioned checkpoints: arrays in ``.npz``, everything else in JSON.

Nothing is pickled, so loading a checkpoint never runs code from it. A checkpoint is a directory::

    ckpt-000000012345/
        checkpoint.json   format version, agent type, config, state, array index, checksums
        arrays.npz        the arrays under positional keys ``a0, a1, ...`` (names in the index)
        ...               files written by ``write_extra`` (a Keras model, say)

It is written into a ``.tmp-`` sibling, fsynced and renamed into place, so its final name only
ever holds a complete checkpoint, and a SHA-256 of every file but ``checkpoint.json`` detects
truncation and tampering.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from plugrl._version import __version__
from plugrl.utils.files import give_default_mode
from plugrl.utils.rng import rng_from_json, rng_state_to_json

__all__ = ["FORMAT_VERSION", "Checkpoint", "CheckpointError", "checkpoint_name",
           "checkpoint_state", "delete_checkpoint", "latest_checkpoint", "list_checkpoints",
           "load_checkpoint", "prune_checkpoints", "rng_from_json", "rng_state_to_json", "save_checkpoint"]

#: The newest checkpoint layout this module writes and reads.
FORMAT_VERSION: int = 1

PathLike = str | os.PathLike[str]

_MARKER = "plugrl-checkpoint"
_JSON_FILE = "checkpoint.json"
_ARRAYS_FILE = "arrays.npz"
_TMP_PREFIX = ".tmp-"
# A replaced checkpoint is complete, so it gets its own prefix: scratch cleaners must spare it.
_OLD_PREFIX = ".old-"
_NAME_PATTERN = re.compile(r"ckpt-(\d{12,})")
_KEY_TYPES = {"agent_type": str, "plugrl_version": str, "config": dict, "state": dict,
              "arrays": list, "checksums": dict}
# 'O' would need pickle to load, and structured 'V' dtypes do not round trip through dtype.str.
_ARRAY_KINDS = "biufcSUmM"
# The name comes from a file, so it may only pick one of these classes from np.random.


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: missing, foreign, newer, of another agent, corrupted."""


# eq=False: comparing dicts of arrays with == is ambiguous, identity is the honest equality.
@dataclasses.dataclass(frozen=True, eq=False)
class Checkpoint:
    """A checkpoint read back by `load_checkpoint`.

    Attributes
    ----------
    path : pathlib.Path
    agent_type : str
        The agent that wrote it, e.g. ``'PPO'``.
    config, state : dict
        The JSON data as saved; tuples come back as lists, NumPy scalars as Python scalars.
    arrays : dict of str to numpy.ndarray
        The arrays by name, in the order they were saved.
    format_version : int
    plugrl_version : str
        ``plugrl.__version__`` of the writer.
    """

    path: pathlib.Path
    agent_type: str
    config: dict[str, Any]
    state: dict[str, Any]
    arrays: dict[str, np.ndarray]
    format_version: int
    plugrl_version: str


def save_checkpoint(directory: PathLike, name: str, *, agent_type: str, config: Mapping[str, Any],
                    state: Mapping[str, Any], arrays: Mapping[str, Any],
                    write_extra: Callable[[pathlib.Path], None] | None = None) -> pathlib.Path:
    """Write the checkpoint ``directory/name`` atomically, replacing any previous one.

    Parameters
    ----------
    directory : str or os.PathLike
        Parent directory, created if missing.
    name : str
        Checkpoint directory name, one path component (see `checkpoint_name`).
    agent_type : str
        Agent class name, checked by ``load_checkpoint(expected_agent_type=...)``.
    config, state : Mapping
        JSON data with str keys (NumPy scalars and tuples accepted); RNGs via `rng_state_to_json`.
    arrays : Mapping of str to array_like
        Named arrays of any shape; names may contain ``'/'``. No object or structured dtypes.
    write_extra : callable, optional
        ``write_extra(tmp_dir)`` writes more files into the unfinished checkpoint; they are
        fsynced and covered by the checksums. It must not write the reserved file names.

    Returns
    -------
    pathlib.Path
        ``directory/name``. On any exception it is untouched and no temporary directory remains.
    """
    _check_name(name)
    if not isinstance(agent_type, str) or not agent_type:
        raise TypeError(f"agent_type must be a non-empty str, got {agent_type!r}")
    # Validate everything before touching the disk.
    meta = {"format": _MARKER, "format_version": FORMAT_VERSION, "agent_type": agent_type,
            "plugrl_version": __version__, "config": _jsonable(config, "config"),
            "state": _jsonable(state, "state")}
    named = _check_arrays(arrays)
    meta["arrays"] = [{"name": k, "shape": list(a.shape), "dtype": a.dtype.str} for k, a in named]
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{name}-", dir=directory))
    give_default_mode(tmp, directory=True)
    try:
        _write_files(tmp, meta, named, write_extra)
        _swap_into_place(tmp, directory / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory / name


def load_checkpoint(path: PathLike, *, expected_agent_type: str | None = None) -> Checkpoint:
    """Read and verify a checkpoint written by `save_checkpoint`.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint directory.
    expected_agent_type : str, optional
        If given, the checkpoint must have been written by this agent type.

    Returns
    -------
    Checkpoint

    Raises
    ------
    CheckpointError
        Naming the path: missing, not a plugrl checkpoint, a newer format version, another
        agent type, corrupted or truncated.
    """
    path = pathlib.Path(path)
    meta = _read_meta(path)
    if expected_agent_type is not None and meta["agent_type"] != expected_agent_type:
        raise CheckpointError(f"{path} is a checkpoint of a {meta['agent_type']} agent, "
                              f"expected {expected_agent_type}")
    _verify_checksums(path, meta["checksums"])
    arrays = _read_arrays(path, meta["arrays"])
    return Checkpoint(path=path, agent_type=meta["agent_type"], config=meta["config"],
                      state=meta["state"], arrays=arrays, format_version=meta["format_version"],
                      plugrl_version=meta["plugrl_version"])


def checkpoint_state(path: PathLike) -> dict[str, Any]:
    """The JSON ``state`` of the checkpoint at ``path``, read without its arrays (and without
    verifying them): enough to tell which run wrote it."""
    return _read_meta(pathlib.Path(path))["state"]


def checkpoint_name(step: int) -> str:
    """Return the name of the checkpoint at env step ``step``: ``'ckpt-000000012345'``."""
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise ValueError(f"step must be an int >= 0, got {step!r}")
    return f"ckpt-{int(step):012d}"


def list_checkpoints(directory: PathLike) -> list[pathlib.Path]:
    """Return the checkpoints in ``directory`` (``ckpt-<step>`` with a ``checkpoint.json``).

    Sorted by step, oldest first; a missing directory has none. Contents are not verified.
    """
    directory = pathlib.Path(directory)
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise NotADirectoryError(f"directory must be a directory of checkpoints, "
                                 f"found a file: {directory}")
    found = []
    for entry in directory.iterdir():
        match = _NAME_PATTERN.fullmatch(entry.name)
        if match and (entry / _JSON_FILE).is_file():
            found.append((int(match.group(1)), entry))
    return [entry for _, entry in sorted(found)]


def latest_checkpoint(directory: PathLike) -> pathlib.Path | None:
    """Return the checkpoint with the highest step in ``directory``, or None if there is none."""
    checkpoints = list_checkpoints(directory)
    return checkpoints[-1] if checkpoints else None


def prune_checkpoints(directory: PathLike, keep_last: int,
                      among: Callable[[pathlib.Path], bool] | None = None) -> list[pathlib.Path]:
    """Delete all but the newest ``keep_last`` checkpoints of `list_checkpoints` (of those for
    which ``among(path)`` is true, if given: the others are kept whatever their step).

    Other files and directories are never touched. Returns the deleted paths, oldest first.
    """
    if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1:
        raise ValueError(f"keep_last must be an int >= 1, got {keep_last!r}")
    candidates = [path for path in list_checkpoints(directory) if among is None or among(path)]
    doomed = candidates[:-keep_last]
    for path in doomed:
        delete_checkpoint(path)
    return doomed


def delete_checkpoint(path: PathLike) -> None:
    """Delete the checkpoint directory ``path``: renamed first, so that an interrupted deletion
    never leaves a half-deleted checkpoint under a name `list_checkpoints` would offer."""
    path = pathlib.Path(path)
    trash = path.with_name(f"{_TMP_PREFIX}pruned-{path.name}-{os.urandom(4).hex()}")
    os.rename(path, trash)
    shutil.rmtree(trash)


def _read_meta(path: pathlib.Path) -> dict[str, Any]:
    """Parse ``checkpoint.json`` and check its format version and the types of its keys."""
    json_path = path / _JSON_FILE
    if not path.is_dir():
        raise CheckpointError(f"no checkpoint at {path}: expected a directory, found "
                              f"{'a file' if path.exists() else 'nothing'}")
    if not json_path.is_file():
        raise CheckpointError(f"{path} is not a plugrl checkpoint: {_JSON_FILE} is missing")
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{json_path} is not valid JSON ({error}): not a plugrl "
                              f"checkpoint, or a corrupted or truncated one") from None
    found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
    if found != _MARKER:
        raise CheckpointError(f"{json_path} is not a plugrl checkpoint: expected 'format' "
                              f"{_MARKER!r}, found {found!r}")
    version = meta.get("format_version")
    if type(version) is not int or version < 1:
        raise CheckpointError(f"{json_path} is not a plugrl checkpoint: expected an int "
                              f"format_version >= 1, found {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer plugrl "
                              f"({meta.get('plugrl_version')}): format version {version}, this "
                              f"plugrl reads up to {FORMAT_VERSION}")
    for key, kind in _KEY_TYPES.items():
        if not isinstance(meta.get(key), kind):
            raise CheckpointError(f"{json_path} is not a plugrl checkpoint: expected {key!r} "
                                  f"of type {kind.__name__}, found {meta.get(key)!r:.80}")
    return meta


def _verify_checksums(path: pathlib.Path, checksums: dict[str, Any]) -> None:
    if _ARRAYS_FILE not in checksums:
        raise CheckpointError(f"{path} is corrupted: {_JSON_FILE} has no checksum of "
                              f"{_ARRAYS_FILE}")
    for relative, expected in checksums.items():
        parts = pathlib.PurePosixPath(relative).parts
        if not isinstance(expected, str) or relative.startswith("/") or ".." in parts:
            raise CheckpointError(f"{path} is corrupted: {_JSON_FILE} lists {relative!r}: "
                                  f"{expected!r}, expected a path inside it and a SHA-256")
        file = path / relative
        if not file.is_file():
            raise CheckpointError(f"{path} is corrupted or truncated: {relative} is missing")
        actual = _sha256(file)
        if actual != expected:
            raise CheckpointError(f"{file} is corrupted or truncated: its SHA-256 is {actual}, "
                                  f"{_JSON_FILE} expects {expected}")


def _read_arrays(path: pathlib.Path, index: list[Any]) -> dict[str, np.ndarray]:
    file = path / _ARRAYS_FILE
    try:
        with np.load(file, allow_pickle=False) as npz:
            stored = {key: npz[key] for key in npz.files}
    # zipfile and numpy raise many types for a damaged file; all mean the same thing here.
    except Exception as error:  # noqa: BLE001
        raise CheckpointError(f"{file} is corrupted or truncated: {error!r}") from None
    if sorted(stored) != sorted(f"a{i}" for i in range(len(index))):
        raise CheckpointError(f"{file} is corrupted: it holds {len(stored)} arrays, the index "
                              f"in {_JSON_FILE} lists {len(index)}")
    arrays = {}
    for i, entry in enumerate(index):
        try:
            name, shape, dtype = entry["name"], tuple(entry["shape"]), np.dtype(entry["dtype"])
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{path / _JSON_FILE} is corrupted: array index entry {i} is "
                                  f"{entry!r:.80}, expected name, shape and dtype") from error
        array = stored[f"a{i}"]
        if array.shape != shape or array.dtype != dtype or name in arrays:
            raise CheckpointError(f"{file} is corrupted: array {name!r} has shape {array.shape} "
                                  f"and dtype {array.dtype}, the index in {_JSON_FILE} expects "
                                  f"shape {shape} and dtype {dtype} (names must be unique)")
        arrays[name] = array
    return arrays


def _check_name(name: str) -> None:
    if (not isinstance(name, str) or name in ("", ".", "..") or pathlib.Path(name).name != name
            or "\\" in name or name.startswith((_TMP_PREFIX, _OLD_PREFIX))):
        raise ValueError(f"name must be one path component not starting with {_TMP_PREFIX!r} "
                         f"or {_OLD_PREFIX!r}, got {name!r}")


def _jsonable(obj: Any, where: str) -> Any:
    """Return ``obj`` as plain JSON types, or raise a TypeError naming the offending entry."""
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                # json.dumps would silently turn it into a string key.
                raise TypeError(f"{where} has key {key!r} of type {type(key).__name__}, "
                                f"expected str keys")
            out[key] = _jsonable(value, f"{where}[{key!r}]")
        return out
    if isinstance(obj, list | tuple):
        return [_jsonable(item, f"{where}[{i}]") for i, item in enumerate(obj)]
    if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
        return obj.item()
    if obj is None or isinstance(obj, str | bool | int | float):
        return obj
    raise TypeError(f"{where} is a {type(obj).__name__}, expected JSON data (dict, list, str, "
                    f"int, float, bool, None); put arrays in `arrays`, RNGs in rng_state_to_json")


def _check_arrays(arrays: Mapping[str, Any]) -> list[tuple[str, np.ndarray]]:
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a mapping of names to arrays, got {type(arrays).__name__}")
    named = []
    for name, value in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"arrays has key {name!r} of type {type(name).__name__}, expected str")
        array = np.asarray(value)
        if array.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"arrays[{name!r}] has dtype {array.dtype}, expected a bool, numeric, "
                            f"string or datetime dtype (others would need pickle)")
        named.append((name, array))
    return named


def _write_files(tmp: pathlib.Path, meta: dict[str, Any], named: list[tuple[str, np.ndarray]],
                 write_extra: Callable[[pathlib.Path], None] | None) -> None:
    """Fill ``tmp`` with the extra files, ``arrays.npz`` and ``checkpoint.json``, all fsynced."""
    if write_extra is not None:
        write_extra(tmp)
    for reserved in (_ARRAYS_FILE, _JSON_FILE):
        if os.path.lexists(tmp / reserved):
            raise ValueError(f"write_extra wrote {reserved!r}; that file name is reserved")
    with open(tmp / _ARRAYS_FILE, "xb") as file:
        # Positional keys: npz member names are file names inside a zip, array names need not be.
        # (numpy >= 2.1's stubs let **kwds reach savez's allow_pickle: bool, hence the ignore.)
        np.savez(file, **{f"a{i}": array for i, (_, array) in enumerate(named)})  # type: ignore[arg-type]
        _flush(file)
    meta = {**meta, "checksums": _hash_tree(tmp)}
    with open(tmp / _JSON_FILE, "x", encoding="utf-8") as file:
        json.dump(meta, file, indent=1)
        _flush(file)
    _fsync_dir(tmp)


def _flush(file: Any) -> None:
    file.flush()
    os.fsync(file.fileno())


def _fsync_dir(path: pathlib.Path) -> None:
    # Makes renames and new entries durable; Windows cannot open a directory, so it is skipped.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: pathlib.Path, *, fsync: bool = False) -> str:
    digest = hashlib.sha256()
    # "r+b" because fsync needs a writable handle on some platforms.
    with open(path, "r+b" if fsync else "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
        if fsync:
            os.fsync(file.fileno())
    return digest.hexdigest()


def _hash_tree(root: pathlib.Path) -> dict[str, str]:
    """Hash and fsync every file below ``root``; write_extra may not have fsynced its own."""
    checksums = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            checksums[path.relative_to(root).as_posix()] = _sha256(path, fsync=True)
        elif path.is_dir():
            _fsync_dir(path)
    return checksums


def _swap_into_place(tmp: pathlib.Path, final: pathlib.Path) -> None:
    # A non-empty directory cannot be replaced by one rename, so the old one goes aside first;
    # a crash between the two renames leaves both complete, under .old- and .tmp- names.
    aside = final.with_name(_OLD_PREFIX + tmp.name.removeprefix(_TMP_PREFIX))
    had_old = os.path.lexists(final)
    if had_old:
        os.rename(final, aside)
    try:
        os.rename(tmp, final)
    except BaseException:
        if had_old:
            os.rename(aside, final)
        raise
    _fsync_dir(final.parent)
    if had_old:
        shutil.rmtree(aside, ignore_errors=True)
