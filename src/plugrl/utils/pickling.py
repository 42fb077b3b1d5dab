"""Pickling of objects that hold compiled functions and Keras models.

Such objects are pickled as their constructor arguments plus their data (weights, train and
optimizer states, random keys and generators); unpickling calls the constructor again, which
rebuilds the compiled functions and models, and then puts the data back.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl._backend import keras, to_device, to_host

__all__ = ["Rebuildable"]

_ATOMS = (type(None), bool, int, float, str, np.ndarray, np.generic, np.random.Generator,
          gym.Env, gym.spaces.Space)


def _is_data(value: Any) -> bool:
    """Whether ``value`` is state to carry over (not a compiled function, model or optimizer)."""
    if isinstance(value, _ATOMS) or hasattr(value, "__array__") and not callable(value):
        return not isinstance(value, (keras.Model, keras.Variable))
    if isinstance(value, (tuple, list)):
        return all(_is_data(v) for v in value)
    if isinstance(value, dict):
        return all(_is_data(v) for v in value.values())
    if isinstance(value, Rebuildable):
        return True
    # A plain object of plugrl's own (a cache, parameter groups): data if its attributes are.
    return (type(value).__module__.startswith("plugrl.") and not callable(value)
            and hasattr(value, "__dict__") and all(_is_data(v) for v in vars(value).values()))


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
        return {k: to_host(v) for k, v in self.__dict__.items() if k == "_init_args" or _is_data(v)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        self._construct_again(state.pop("_init_args"))
        for key, value in state.items():
            self.__dict__[key] = to_device(value)

    def _construct_again(self, init_args: tuple[tuple, dict[str, Any]]) -> None:
        """Run the constructor again with the recorded arguments (on unpickling)."""
        args, kwargs = init_args
        self.__dict__["_init_args"] = (args, kwargs)
        type(self).__init__(self, *args, **kwargs)
