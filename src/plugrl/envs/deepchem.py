"""DeepChem's environment interface (seed 002) and its adapter to Gymnasium.

A DeepChem :class:`Environment` holds its current ``state`` and ``terminated`` flag; ``reset()``
returns nothing and ``step(action)`` returns the reward. plugrl's agents step Gymnasium
environments, so an agent given a DeepChem environment wraps it with :func:`to_gymnasium` (one
adapter, not a second sampling stack). :class:`GymEnvironment` wraps a Gymnasium id in DeepChem's
form; an agent given one uses the id itself, so ``evaluate`` and ``save``/``load`` work as with
the id.

**Differences from DeepChem.** Gymnasium instead of gym (``GymEnvironment`` reports a time limit
as ``truncated``, and ``terminated`` as DeepChem's "no more actions may be taken"). DeepChem
environments have no seed: the adapter's ``reset(seed=...)`` seeds only its Gymnasium
``np_random``, so "the same seed gives the same run" holds for a DeepChem environment whose own
dynamics are deterministic (or that draws its randomness from ``np_random``, which the adapter
hands it, see :func:`to_gymnasium`).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

__all__ = ["DeepChemAdapter", "Environment", "GymEnvironment", "to_gymnasium"]

Shape = tuple[int, ...]


class Environment(abc.ABC):
    """An environment in which an actor performs actions to accomplish a task (DeepChem's).

    The state is one NumPy array or a list of arrays (several inputs). Subclasses do their own
    initialisation and call this constructor; ``reset`` and ``step`` set ``self._state`` and
    ``self._terminated``, which the properties :attr:`state` and :attr:`terminated` return.
    Environments should support ``pickle`` and ``copy.deepcopy``: an agent with ``num_envs > 1``
    (DeepChem's and pyrado's several workers) deep-copies the environment for every extra one.

    Parameters
    ----------
    state_shape : tuple of int, or list of tuples
        The shape of the state array, or the shapes of the arrays of a list state.
    n_actions : int, optional
        The number of discrete actions; None for a continuous action space.
    state_dtype : dtype or list of dtypes, optional
        The dtype(s) of the state array(s); None means float32 for every array.
    action_shape : tuple of int, optional
        The shape of a continuous action; None for a discrete action space.

    Raises
    ------
    ValueError
        Unless exactly one of ``n_actions`` and ``action_shape`` is given, or if the dtypes do
        not match the shapes.
    """

    def __init__(self, state_shape: Shape | Sequence[Shape], n_actions: int | None = None,
                 state_dtype: Any = None, action_shape: Shape | None = None) -> None:
        if (n_actions is None) == (action_shape is None):
            raise ValueError(f"n_actions, action_shape: expected exactly one of them (n_actions for "
                             f"discrete actions, action_shape for continuous ones), got "
                             f"n_actions={n_actions!r}, action_shape={action_shape!r}")
        multi = _is_shape_list(state_shape)
        if state_dtype is None:
            state_dtype = [np.float32] * len(state_shape) if multi else np.float32
        if multi != isinstance(state_dtype, (list, tuple)) or (
                multi and len(state_dtype) != len(state_shape)):
            raise ValueError(f"state_dtype: expected one dtype per state array of "
                             f"state_shape={state_shape!r}, got {state_dtype!r}")
        self._state_shape = state_shape
        self._state_dtype = state_dtype
        self._n_actions = n_actions
        self._action_shape = action_shape
        self._state: Any = None
        self._terminated: bool | None = None

    @property
    def state(self) -> Any:
        """The current state: an array, or a list of arrays (undefined before :meth:`reset`)."""
        return self._state

    @property
    def terminated(self) -> bool | None:
        """Whether the task has reached its end (undefined before :meth:`reset`)."""
        return self._terminated

    @property
    def state_shape(self) -> Any:
        """The shape of the state array, or a list of the shapes of a list state."""
        return self._state_shape

    @property
    def state_dtype(self) -> Any:
        """The dtype of the state array, or a list of the dtypes of a list state."""
        return self._state_dtype

    @property
    def n_actions(self) -> int | None:
        """The number of discrete actions; None for a continuous action space."""
        return self._n_actions

    @property
    def action_shape(self) -> Shape | None:
        """The shape of a continuous action; None for a discrete action space."""
        return self._action_shape

    @abc.abstractmethod
    def reset(self) -> None:
        """Initialise the environment (call before :meth:`step`); call again to start over."""

    def as_gymnasium(self) -> gymnasium.Env[Any, Any] | str:
        """What plugrl's agents step in place of this environment: ``to_gymnasium(self)``
        (plugrl's, not DeepChem's; :func:`plugrl.samplers.make_vector_env` calls it). Override
        it to give bounds to continuous actions, ``to_gymnasium(self, action_low, action_high)``.
        """
        return to_gymnasium(self)

    @abc.abstractmethod
    def step(self, action: Any) -> float:
        """Perform ``action`` (an int index, or an array of ``action_shape``); update
        :attr:`state` and :attr:`terminated`; return the reward."""


class GymEnvironment(Environment):
    """A Gymnasium environment in DeepChem's form (DeepChem's ``GymEnvironment(name)``).

    Parameters
    ----------
    name : str
        A Gymnasium id, made with ``gymnasium.make(name)`` (DeepChem: a gym id).

    Notes
    -----
    :attr:`terminated` is true when the episode is over, terminated or truncated by a time limit
    (DeepChem's meaning: no more actions may be taken); :attr:`truncated` tells the two apart.
    An agent given a ``GymEnvironment`` trains on ``name`` itself (:attr:`spec` keeps the id).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.env = gymnasium.make(name)
        obs, act = self.env.observation_space, self.env.action_space
        state_shape = tuple(obs.shape or ())
        if isinstance(act, spaces.Discrete):
            super().__init__(state_shape, n_actions=int(act.n), state_dtype=obs.dtype)
        else:
            super().__init__(state_shape, state_dtype=obs.dtype, action_shape=tuple(act.shape or ()))
        self._truncated = False

    @property
    def spec(self) -> Any:
        """The Gymnasium spec of the wrapped env (its ``id`` is ``name``)."""
        return self.env.spec

    @property
    def truncated(self) -> bool:
        """Whether the last step ended the episode by truncation (a time limit)."""
        return self._truncated

    def reset(self) -> None:
        self._state, _ = self.env.reset()
        self._terminated, self._truncated = False, False

    def step(self, action: Any) -> float:
        self._state, reward, terminated, truncated, _ = self.env.step(action)
        self._truncated = bool(truncated) and not terminated
        self._terminated = bool(terminated or truncated)
        return float(reward)

    def as_gymnasium(self) -> str:
        """The Gymnasium id ``name``: agents make their envs from it, as from the id itself."""
        return self.name

    def __deepcopy__(self, memo: dict[int, Any]) -> GymEnvironment:
        return GymEnvironment(self.name)  # as DeepChem's: a fresh env, not its renderer's state

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return GymEnvironment, (self.name,)


class DeepChemAdapter(gymnasium.Env[Any, Any]):
    """A DeepChem :class:`Environment` as a Gymnasium environment; see :func:`to_gymnasium`."""

    def __init__(self, env: Environment, action_low: npt.ArrayLike = -np.inf,
                 action_high: npt.ArrayLike = np.inf) -> None:
        self.env = env
        self._state_space = _state_space(env.state_shape, env.state_dtype)
        self.observation_space = spaces.flatten_space(self._state_space) if isinstance(
            self._state_space, spaces.Tuple) else self._state_space
        if env.n_actions is not None:
            self.action_space = spaces.Discrete(int(env.n_actions))
        else:
            shape = tuple(env.action_shape or ())
            self.action_space = spaces.Box(np.broadcast_to(np.asarray(action_low, np.float32), shape),
                                           np.broadcast_to(np.asarray(action_high, np.float32), shape),
                                           dtype=np.float32)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)  # seeds np_random; the DeepChem env has no seed of its own
        if hasattr(self.env, "np_random"):
            self.env.np_random = self.np_random
        self.env.reset()
        return self._observation(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if isinstance(self.action_space, spaces.Discrete):
            action = int(action)
        else:
            action = np.asarray(action, np.float32)
        reward = float(self.env.step(action))
        truncated = bool(getattr(self.env, "truncated", False))  # DeepChem's envs never truncate
        terminated = bool(self.env.terminated) and not truncated
        return self._observation(), reward, terminated, truncated, {}

    def _observation(self) -> Any:
        state = self.env.state
        if isinstance(self._state_space, spaces.Tuple):
            return spaces.flatten(self._state_space, tuple(state))
        return np.asarray(state, self.observation_space.dtype)


def to_gymnasium(env: Environment, action_low: npt.ArrayLike = -np.inf,
                 action_high: npt.ArrayLike = np.inf) -> gymnasium.Env[Any, Any]:
    """A Gymnasium environment that steps the DeepChem environment ``env``.

    - **Observations**: a single-array state keeps its shape and ``state_dtype`` (a ``Box``
      without bounds). A list state (several inputs) becomes one flat ``Box``: the arrays,
      raveled and concatenated in order (``gymnasium.spaces.flatten`` of the ``Tuple`` of their
      spaces), since plugrl's networks take one input.
    - **Actions**: ``Discrete(n_actions)``, or a float32 ``Box`` of ``action_shape`` between
      ``action_low`` and ``action_high`` (DeepChem's continuous actions are unbounded; SAC
      needs finite bounds, so give them here).
    - **Episode ends**: ``terminated`` is the env's :attr:`~Environment.terminated`;
      ``truncated`` is always False (DeepChem environments have no time limit), except for
      an env with a ``truncated`` attribute such as :class:`GymEnvironment`.
    - **Seeding**: ``reset(seed=s)`` seeds the adapter's ``np_random``; if the DeepChem env has
      an ``np_random`` attribute, it is given that generator before its ``reset()``, so an env
      that draws from it is reproducible. Anything else the env draws is its own affair.

    Parameters
    ----------
    env : Environment
        A DeepChem-style environment.
    action_low, action_high : float or array-like, optional
        Bounds of a continuous action space.
    """
    if not isinstance(env, Environment):
        raise TypeError(f"env: expected a plugrl.envs.Environment, got {type(env).__name__}")
    return DeepChemAdapter(env, action_low, action_high)


def _is_shape_list(state_shape: Any) -> bool:
    """Whether ``state_shape`` lists the shapes of several arrays (not one shape)."""
    return len(state_shape) > 0 and isinstance(state_shape[0], (list, tuple))


def _state_space(state_shape: Any, state_dtype: Any) -> spaces.Space[Any]:
    if _is_shape_list(state_shape):
        return spaces.Tuple([_box(shape, dtype) for shape, dtype in zip(state_shape, state_dtype)])
    return _box(state_shape, state_dtype)


def _box(shape: Any, dtype: Any) -> spaces.Box:
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return spaces.Box(info.min, info.max, shape=tuple(shape), dtype=dtype)
    return spaces.Box(-np.inf, np.inf, shape=tuple(shape), dtype=dtype)
