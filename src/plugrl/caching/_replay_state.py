"""Private checks for restoring a replay buffer from ``state()``: arrays, counters and the RNG.

Every check raises before the buffer is touched, with a message that names the offending entry,
the expected value and the actual value.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from plugrl.caching._checks import check_flag, check_positive_int
from plugrl.caching.frames import FINAL, PAD, STEP

__all__ = ["STATE_FORMAT", "check_arrays", "check_counters", "check_mapping", "check_state",
           "generator_from_state", "json_scalar"]

STATE_FORMAT = 1
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def check_state(arrays: Any, meta: Any, config: dict[str, Any],
                templates: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Validate what ``state()`` returned against a buffer; return what to restore.

    Parameters
    ----------
    arrays, meta
        As returned by ``state()``.
    config : dict
        The buffer's configuration, which ``meta['config']`` must equal.
    templates : dict of str to ndarray
        The buffer's preallocated slot arrays, by name.
    """
    keys = ["format", "config", "batch_size", "counters", "episode_open", "last_episode_id", "rng"]
    check_mapping(meta, "meta", keys)
    if meta["format"] != STATE_FORMAT:
        raise ValueError(f"meta['format']: expected {STATE_FORMAT}, got {meta['format']!r}")
    check_same(config, meta["config"], "meta['config']")
    counters = check_counters(meta["counters"], config["capacity"])
    slots = check_arrays(arrays, templates, counters["size"])
    check_slots(slots, counters)
    return {"slots": slots, "counters": counters,
            "batch_size": check_positive_int(meta["batch_size"], "meta['batch_size']"),
            "episode_open": check_flag("meta['episode_open']", meta["episode_open"]),
            "last_episode_id": json_scalar(meta["last_episode_id"], "meta['last_episode_id']"),
            "rng": generator_from_state(meta["rng"])}


def json_scalar(value: Any, name: str) -> Any:
    """Return ``value`` as a JSON scalar (None, bool, int, float, str), or raise TypeError."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{name}: expected None, a bool, int, float or str to store in the JSON "
                    f"meta of state(), got {type(value).__name__} {value!r}")


def check_mapping(value: Any, name: str, keys: list[str]) -> Mapping[str, Any]:
    """Return ``value`` if it is a mapping with exactly ``keys``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a dict, got {type(value).__name__}")
    if set(value) != set(keys):
        raise ValueError(f"{name}: expected the keys {sorted(keys)}, got {sorted(value)}")
    return value


def check_same(expected: Mapping[str, Any], got: Any, name: str) -> None:
    """Raise unless ``got`` holds the entries of ``expected`` (this buffer's configuration)."""
    check_mapping(got, name, list(expected))
    for key, value in expected.items():
        if got[key] != value:
            raise ValueError(f"{name}['{key}']: expected {value!r} (this buffer's), got "
                             f"{got[key]!r}")


def check_counters(counters: Any, capacity: int) -> dict[str, int]:
    """Validate the ring counters ``next``, ``size``, ``num_extra``, ``num_valid``, ``episode_count``."""
    keys = ["next", "size", "num_extra", "num_valid", "episode_count"]
    check_mapping(counters, "meta['counters']", keys)
    for key in keys:
        value = counters[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"meta['counters']['{key}']: expected an int >= 0, got {value!r}")
    out = {key: int(counters[key]) for key in keys}
    size, nxt = out["size"], out["next"]
    if size > capacity or nxt >= capacity or (size < capacity and nxt != size):
        raise ValueError(f"meta['counters']: expected size <= capacity={capacity} and next = size "
                         f"(or next < capacity once full), got size={size}, next={nxt}")
    return out


def check_arrays(arrays: Any, templates: Mapping[str, np.ndarray],
                 size: int) -> dict[str, np.ndarray]:
    """Return the arrays as ndarrays if each has its template's dtype and shape ``[size, ...]``."""
    check_mapping(arrays, "arrays", list(templates))
    out = {}
    for name, template in templates.items():
        arr = np.asarray(arrays[name])
        shape = (size, *template.shape[1:])
        if arr.shape != shape or arr.dtype != template.dtype:
            raise ValueError(f"arrays['{name}']: expected {template.dtype} of shape {shape}, "
                             f"got {arr.dtype} of shape {arr.shape}")
        out[name] = arr
    return out


def check_slots(slots: dict[str, np.ndarray], counters: dict[str, int]) -> None:
    """Raise unless restored slot arrays agree with the counters and with each other."""
    kind, valid = slots["kind"], slots["valid"]
    if not np.isin(kind, (STEP, FINAL, PAD)).all() or (valid & (kind != STEP)).any():
        raise ValueError(f"arrays['kind']: expected {STEP}, {FINAL} or {PAD}, and {STEP} "
                         "wherever arrays['valid'] is true")
    check_count("num_extra", counters["num_extra"], kind != STEP)
    check_count("num_valid", counters["num_valid"], valid)
    if (slots["episode"] > counters["episode_count"]).any():
        raise ValueError("arrays['episode']: expected episode indices <= "
                         f"meta['counters']['episode_count']={counters['episode_count']}, "
                         f"got {int(slots['episode'].max())}")


def check_count(name: str, expected: int, mask: npt.NDArray[np.bool_]) -> None:
    """Raise unless a counter of the meta matches the number of slots flagged in the arrays."""
    if int(mask.sum()) != expected:
        raise ValueError(f"meta['counters']['{name}']: expected {int(mask.sum())} (as in arrays), "
                         f"got {expected}")


def generator_from_state(state: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` restored from ``rng.bit_generator.state``."""
    name = state.get("bit_generator") if isinstance(state, Mapping) else None
    if name not in _BIT_GENERATORS:
        raise ValueError(f"meta['rng']: expected the state of one of {_BIT_GENERATORS}, "
                         f"got bit_generator={name!r}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = dict(state)
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"meta['rng']: expected a valid {name} state, got {state!r}") from error
    return np.random.Generator(bit_generator)
