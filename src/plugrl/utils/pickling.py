"""Pickling of objects that hold compiled functions and Keras models.

Such objects are pickled as their constructor arguments plus their data (weights, train and
optimizer states, random keys and generators); unpickling calls the constructor again, which
rebuilds the compiled functions and models, and then puts the data back.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import cloudpickle
import gymnasium as gym
import numpy as np

from plugrl._backend import Optimizer, keras, to_device, to_host

__all__ = ["Rebuildable", "picklable_init_args"]

_ATOMS = (type(None), bool, int, float, str, np.ndarray, np.generic, np.random.Generator,
          gym.Env, gym.spaces.Space)


def _is_data(value: Any) -> bool:
    """Whether ``value`` is state to carry over (not a compiled function, model or optimizer)."""
    if isinstance(value, _ATOMS) or hasattr(value, "__array__") and not callable(value):
        return not isinstance(value, (keras.Model, keras.Variable))
    if isinstance(value, (tuple, list, deque)):
        return all(_is_data(v) for v in value)
    if isinstance(value, dict):
        return all(_is_data(v) for v in value.values())
    if isinstance(value, Rebuildable):
        return True
    # A plain object of plugrl's own (a cache, parameter groups): data if its attributes are.
    return (type(value).__module__.startswith("plugrl.") and not callable(value)
            and hasattr(value, "__dict__") and all(_is_data(v) for v in vars(value).values()))


class _ByValue:
    """A constructor argument that plain pickle cannot store, pickled by value with cloudpickle:
    an optax optimizer is a tuple of nested functions (``chain.<locals>.init_fn``). Unpickling
    gives the value itself, not this wrapper."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return cloudpickle.loads, (cloudpickle.dumps(self.value),)


def picklable_init_args(init_args: tuple[tuple, dict[str, Any]]) -> tuple[tuple, dict[str, Any]]:
    """Recorded constructor arguments with each optimizer wrapped to pickle by value; the other
    arguments stay as they are, so that objects shared between arguments (a function
    approximator under a policy and a value function) stay shared after unpickling."""
    args, kwargs = init_args

    def wrap(value: Any) -> Any:
        return _ByValue(value) if isinstance(value, Optimizer) else value

    return tuple(wrap(v) for v in args), {k: wrap(v) for k, v in kwargs.items()}


class Rebuildable:
    """Mixin: pickle as constructor arguments plus data, rebuild the rest on unpickling.

    The arguments of the outermost constructor call are recorded (``__new__``); attributes that
    are data (arrays, train states, random generators, numbers, other rebuildable objects) are
    pickled and put back after the constructor has run again; the others (compiled functions,
    Keras models, optimizers) are what the constructor rebuilds.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = super().__new__(cls)
        obj.__dict__["_init_args"] = (args, kwargs)
        return obj

    def __getstate__(self) -> dict[str, Any]:
        state = {k: to_host(v) for k, v in self.__dict__.items() if k != "_init_args" and _is_data(v)}
        return {"_init_args": picklable_init_args(to_host(self.__dict__["_init_args"])),
                "_parts": self._parts_data(), **state}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        self._construct_again(state.pop("_init_args"))
        for name, data in state.pop("_parts", {}).items():
            vars(self.__dict__[name]).update(to_device(data))
        for key, value in state.items():
            self.__dict__[key] = to_device(value)

    def _parts_data(self) -> dict[str, dict[str, Any]]:
        """The data of the parts the constructor builds itself (a value function's updater, with
        the transitions pending in its n-step cache and its key): put back into the parts that
        the constructor builds again. Rebuildable members are left out: the constructor links
        them already (an updater's ``value_function`` is the object itself)."""
        parts = {}
        for name, part in self.__dict__.items():
            if (_is_data(part) or not type(part).__module__.startswith("plugrl.")
                    or not hasattr(part, "__dict__") or isinstance(part, Rebuildable)):
                continue
            parts[name] = {k: to_host(v) for k, v in vars(part).items()
                           if _is_data(v) and not isinstance(v, Rebuildable)}
        return parts

    def _construct_again(self, init_args: tuple[tuple, dict[str, Any]]) -> None:
        """Run the constructor again with the recorded arguments (on unpickling)."""
        args, kwargs = init_args
        self.__dict__["_init_args"] = (args, kwargs)
        type(self).__init__(self, *args, **kwargs)
