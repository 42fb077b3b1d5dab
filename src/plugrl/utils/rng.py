"""NumPy random generators as JSON data, exactly (for checkpoints).

Integers and arrays of a generator's state are stored as tagged decimal strings, which keep 64-
and 128-bit values exact in any JSON reader, not only Python's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["rng_from_json", "rng_state_to_json"]

_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def rng_state_to_json(rng: np.random.Generator) -> dict[str, Any]:
    """Return the state of ``rng`` as JSON data; ints and arrays become tagged decimal strings.

    Strings keep 64- and 128-bit integers exact in any JSON reader, not only Python's.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return _encode_rng(rng.bit_generator.state)


def rng_from_json(state: Mapping[str, Any]) -> np.random.Generator:
    """Return a new Generator in the state stored by `rng_state_to_json`."""
    try:
        decoded = _decode_rng(state)
        name = decoded["bit_generator"]
        if name not in _BIT_GENERATORS:
            raise ValueError(f"bit_generator is {name!r}, expected one of {_BIT_GENERATORS}")
        bit_generator = getattr(np.random, name)(0)
        bit_generator.state = decoded
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"state: expected a NumPy Generator state from rng_state_to_json, got "
                              f"one that fails with {error!r}") from None
    return np.random.Generator(bit_generator)


def _encode_rng(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _encode_rng(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.dtype.str, "shape": list(value.shape),
                "values": [str(int(v)) for v in value.ravel()]}
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return {"__int__": str(int(value))}
    return value


def _decode_rng(value: Any) -> Any:
    if isinstance(value, Mapping) and "__int__" in value:
        return int(value["__int__"])
    if isinstance(value, Mapping) and "__ndarray__" in value:
        values = [int(v) for v in value["values"]]
        return np.array(values, dtype=np.dtype(value["__ndarray__"])).reshape(value["shape"])
    if isinstance(value, Mapping):
        return {key: _decode_rng(item) for key, item in value.items()}
    return value
