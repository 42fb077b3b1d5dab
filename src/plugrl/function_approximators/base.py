"""The function approximator: a Keras body with heads, and the weights they share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple, TypeAlias

import gymnasium as gym
import numpy as np

from plugrl._backend import (
    Array,
    Optimizer,
    Params,
    adam,
    as_optax,
    batched_initialization,
    copy_arrays,
    export_weights,
    import_weights,
    keras,
    seeded_initialization,
)
from plugrl.function_approximators.layers import StateActionKronecker
from plugrl.utils.pickling import Rebuildable, picklable_init_args

__all__ = ["FunctionApproximator", "HeadModel"]

#: A symbolic tensor of the Keras functional API (what :meth:`FunctionApproximator.body` gets).
KerasTensor: TypeAlias = keras.KerasTensor

HEADS = ("v", "q1", "q2", "pi")


class HeadModel(NamedTuple):
    """A Keras model for one head, and where its variables live in the shared weight store.

    Attributes
    ----------
    name : str
        One of ``'v'``, ``'q1'``, ``'q2'``, ``'pi'``.
    model : keras.Model
        ``S -> output`` (``[S, A] -> Q_sa`` for ``'q1'``).
    trainable : tuple of int
        Store positions of ``model.trainable_variables``, in that order.
    non_trainable : tuple of int
        Store positions of ``model.non_trainable_variables``, in that order.
    """

    name: str
    model: keras.Model
    trainable: tuple[int, ...]
    non_trainable: tuple[int, ...]


class FunctionApproximator(Rebuildable):
    r"""A generic function approximator: a Keras *body* with default heads.

    Subclass it and implement :meth:`body`; value functions and policies built on the same
    instance share the body's weights. Heads are plain linear layers and may be overridden.

    .. code-block:: python

        class MLP(plugrl.FunctionApproximator):
            def body(self, S):
                X = keras.layers.Flatten()(S)
                return keras.layers.Dense(64, activation="relu")(X)

        func = MLP(env, lr=0.001)
        q = plugrl.QTypeII(func, update_strategy="q_learning")

    Parameters
    ----------
    env : gymnasium.Env
        The environment; its observation space must be a ``Box`` (wrap other spaces with
        :class:`plugrl.wrappers.DefaultPreprocessor`) and its action space ``Discrete`` or ``Box``.
    optimizer : optax.GradientTransformation or keras.optimizers.Optimizer, optional
        If left unspecified, ``DEFAULT_OPTIMIZER(**optimizer_kwargs)`` is used (Adam).
    random_seed : int, optional
        Seed of the weight initialisation; without it, initialisation follows
        ``keras.utils.set_random_seed``.
    **optimizer_kwargs
        Keyword arguments of the default optimizer, e.g. ``lr=0.01`` (alias of
        ``learning_rate``).
    """

    DEFAULT_OPTIMIZER: ClassVar[Callable[..., Optimizer]] = adam
    DEFAULT_LEARNING_RATE: ClassVar[float] = 1e-3

    def __init__(self, env: gym.Env, optimizer: Optimizer | keras.optimizers.Optimizer | None = None,
                 *, random_seed: int | None = None, **optimizer_kwargs: Any) -> None:
        self.env = env
        self.observation_space = _check_observation_space(env.observation_space)
        self.action_space = _check_action_space(env.action_space)
        dtype = np.dtype(self.observation_space.dtype)
        self._observation_dtype = np.dtype(np.float32) if np.issubdtype(dtype, np.floating) else dtype
        self.optimizer = self._make_optimizer(optimizer, optimizer_kwargs)
        self.random_seed = random_seed
        self._heads: dict[str | tuple[str, ...], HeadModel] = {}
        self._body_model: keras.Model | None = None
        self._head_only_models: dict[str, keras.Model] = {}
        self._variables: list[keras.Variable] = []
        self._position: dict[int, int] = {}
        self._values: list[Array] = []
        #: Counts changes of the stored weights, so that users can cache what they gather.
        self.version = 0

    # ------------------------------------------------------------------ overridable graph parts
    def body(self, S: KerasTensor) -> KerasTensor:
        """The shared part of the network, ``S -> X``; the default only flattens."""
        return keras.layers.Flatten()(S)

    def body_q1(self, S: KerasTensor, A: KerasTensor) -> KerasTensor:
        """The body of a type-I Q-function, ``(S, A) -> X``.

        The default applies :meth:`body` (with shared weights) to ``S`` and then combines the
        features with the action: an outer product with the one-hot action for discrete action
        spaces, a concatenation for ``Box`` actions.
        """
        X = _flat(self._shared_body()(S))
        if self.action_is_discrete:
            return StateActionKronecker()(X, A)
        return keras.layers.Concatenate()([X, keras.layers.Flatten()(A)])

    def head_v(self, X: KerasTensor) -> KerasTensor:
        """State value head: ``X -> V`` with shape [batch_size, 1]."""
        return keras.layers.Dense(1, kernel_initializer="zeros", name="head_v")(_flat(X))

    def head_q1(self, X: KerasTensor) -> KerasTensor:
        """Type-I Q head: ``X -> Q_sa`` with shape [batch_size, 1]."""
        return keras.layers.Dense(1, kernel_initializer="zeros", name="head_q1")(_flat(X))

    def head_q2(self, X: KerasTensor) -> KerasTensor:
        """Type-II Q head: ``X -> Q_s`` with shape [batch_size, num_actions]."""
        if not isinstance(self.action_space, gym.spaces.Discrete):
            raise TypeError(
                "head_q2: expected a Discrete action space, got "
                f"{self.action_space}; use QTypeI for continuous actions"
            )
        n = int(self.action_space.n)
        return keras.layers.Dense(n, kernel_initializer="zeros", name="head_q2")(_flat(X))

    def head_pi(self, X: KerasTensor) -> KerasTensor | tuple[KerasTensor, KerasTensor]:
        """Policy head: logits ``Z`` [batch_size, num_actions] for discrete actions, or the
        pair ``(mu, logvar)`` of shape [batch_size, *action_shape] for ``Box`` actions."""
        X = _flat(X)
        if isinstance(self.action_space, gym.spaces.Discrete):
            n = int(self.action_space.n)
            return keras.layers.Dense(n, kernel_initializer="zeros", name="head_pi")(X)
        size = int(np.prod(self.action_space.shape))
        shape = tuple(self.action_space.shape)
        # One layer for both parameters: one matrix product instead of two in every step.
        params = keras.layers.Dense(2 * size, kernel_initializer="zeros", name="head_pi")(X)
        mu, logvar = keras.ops.split(params, 2, axis=-1)
        if shape == (size,):
            return mu, logvar
        return keras.layers.Reshape(shape)(mu), keras.layers.Reshape(shape)(logvar)

    # ------------------------------------------------------------------ spaces
    @property
    def action_is_discrete(self) -> bool:
        return isinstance(self.action_space, gym.spaces.Discrete)

    @property
    def num_actions(self) -> int:
        if not isinstance(self.action_space, gym.spaces.Discrete):
            raise TypeError(f"num_actions: expected a Discrete action space, got {self.action_space}")
        return int(self.action_space.n)

    @property
    def convolutional(self) -> bool:
        """Whether the networks built so far have convolution layers, whose update loops
        :func:`~plugrl._backend.scan_steps` unrolls for XLA's CPU backend."""
        return any(_has_convolution(head.model) for head in self._heads.values())

    @property
    def observation_dtype(self) -> np.dtype:
        """The dtype observations are fed in: float32 for floating spaces, else the space's."""
        return self._observation_dtype

    # ------------------------------------------------------------------ models and weights
    def head_model(self, name: str, head_id: str | None = None) -> HeadModel:
        """The Keras model of one head (built on first request), with its store positions.

        Objects that ask for the same head share its weights; a different ``head_id`` gives a
        separate copy of the head on the same body (e.g. the twin Q-functions of SAC).

        Parameters
        ----------
        name : {'v', 'q1', 'q2', 'pi'}
            Which head (see :meth:`head_v`, :meth:`head_q1`, :meth:`head_q2`, :meth:`head_pi`).
        head_id : str, optional
            Names a separate copy of the head; its :attr:`HeadModel.name` is ``'name#head_id'``.

        Returns
        -------
        head : HeadModel
            ``S -> output`` (``[S, A] -> Q_sa`` for ``'q1'``) and its variables' store positions.
        """
        if name not in HEADS:
            raise ValueError(f"name: expected one of {HEADS}, got {name!r}")
        key = name if head_id is None else f"{name}#{head_id}"
        if key not in self._heads:
            model = self._build_head(key)
            self._heads[key] = HeadModel(
                key, model, self._register(model.trainable_variables),
                self._register(model.non_trainable_variables),
            )
        return self._heads[key]

    def gather(self, positions: Sequence[int]) -> Params:
        """Current values of the variables at store ``positions`` (e.g. ``head.trainable`` of a
        :class:`HeadModel`): one array per position, in that order."""
        values = self._values
        return tuple(values[i] for i in positions)

    def scatter(self, positions: Sequence[int], values: Sequence[Array]) -> None:
        """Write ``values`` (one array per position, of its variable's shape) into the store
        at ``positions``, as :meth:`gather` reads them."""
        store = self._values
        for i, value in zip(positions, values, strict=True):
            store[i] = value
        self.version += 1

    def get_weights(self) -> list[np.ndarray]:
        """All weights of every head built so far, as NumPy copies, in store order."""
        return export_weights(self._values)

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Replace all weights (same order and shapes as :meth:`get_weights`)."""
        self._values = list(import_weights(self._values, weights, name="weights"))
        self.version += 1

    def sync_keras_variables(self) -> None:
        """Copy the store into the Keras variables, e.g. before saving a Keras model file."""
        for variable, value in zip(self._variables, self._values):
            variable.assign(np.array(value, copy=True))

    def __getstate__(self) -> dict[str, Any]:
        """Constructor arguments, the heads in build order and the stored weights: unpickling
        builds the heads again in that order, so the store positions are the same."""
        return {"_init_args": picklable_init_args(self.__dict__["_init_args"]), "heads": list(self._heads),
                "weights": self.get_weights(), "version": self.version}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._construct_again(state["_init_args"])
        for key in state["heads"]:
            if isinstance(key, tuple):
                self.joint_head_model(key)
            else:
                name, _, head_id = key.partition("#")
                self.head_model(name, head_id or None)
        self.set_weights(state["weights"])
        self.version = state["version"]

    # ------------------------------------------------------------------ internals
    def _make_optimizer(self, optimizer: Optimizer | keras.optimizers.Optimizer | None,
                        kwargs: dict[str, Any]) -> Optimizer:
        if optimizer is not None:
            if kwargs:
                raise TypeError(
                    "optimizer_kwargs: expected none when an optimizer is given, "
                    f"got {sorted(kwargs)}"
                )
            return as_optax(optimizer)
        kwargs = dict(kwargs)
        if "lr" in kwargs:
            if "learning_rate" in kwargs:
                raise TypeError("optimizer_kwargs: got both 'lr' and its alias 'learning_rate'")
            kwargs["learning_rate"] = kwargs.pop("lr")
        kwargs.setdefault("learning_rate", type(self).DEFAULT_LEARNING_RATE)
        return as_optax(type(self).DEFAULT_OPTIMIZER(**kwargs))

    def _next_seed(self) -> int | None:
        if self.random_seed is None:
            return None
        return int(np.random.SeedSequence([self.random_seed, len(self._heads)]).generate_state(1)[0])

    def _shared_body(self) -> keras.Model:
        if self._body_model is None:
            S = keras.Input(self.observation_space.shape, dtype=self.observation_dtype.name, name="S")
            self._body_model = keras.Model(S, self.body(S), name="body")
        return self._body_model

    def _build_head(self, key: str) -> keras.Model:
        seed, cached = self._next_seed(), (self._body_model, dict(self._head_only_models))
        try:
            with seeded_initialization(seed), batched_initialization():
                return self._new_head_model(key)
        except Exception:  # noqa: BLE001  (a layer that needs its variables while it builds)
            # Keras' own eager initialisation, from the same seed; a genuine error raises again.
            self._body_model, self._head_only_models = cached
            with seeded_initialization(seed):
                return self._new_head_model(key)

    def _new_head_model(self, key: str) -> keras.Model:
        S = keras.Input(self.observation_space.shape, dtype=self.observation_dtype.name, name="S")
        if key.split("#")[0] == "q1":
            A = keras.Input(self._action_input_shape(), dtype="float32", name="A")
            return keras.Model([S, A], self.head_q1(self.body_q1(S, A)))
        return keras.Model(S, self._head_only(key)(self._shared_body()(S)))

    def _head_only(self, key: str) -> keras.Model:
        """``X -> output`` for one head, built once, so several models can share the head."""
        if key not in self._head_only_models:
            X = keras.Input(self._shared_body().output.shape[1:], name="X")
            head = getattr(self, f"head_{key.split('#')[0]}")
            self._head_only_models[key] = keras.Model(X, head(X))
        return self._head_only_models[key]

    def joint_head_model(self, names: Sequence[str]) -> HeadModel:
        """One model ``S -> [outputs of each head]`` that evaluates the shared body once.

        Parameters
        ----------
        names : sequence of str
            :attr:`HeadModel.name` of heads built with :meth:`head_model` (their weights are
            shared), other than type-I Q heads.

        Returns
        -------
        head : HeadModel
            Named ``'+'.join(names)``; its store positions are the union of the heads'.
        """
        key = tuple(names)
        if key not in self._heads:
            if any(name not in self._heads or name.startswith("q1") for name in names):
                raise ValueError(f"names: expected built heads other than 'q1', got {names}")
            S = keras.Input(self.observation_space.shape, dtype=self.observation_dtype.name, name="S")
            X = self._shared_body()(S)
            model = keras.Model(S, [self._head_only(n)(X) for n in names])
            self._heads[key] = HeadModel("+".join(names), model,
                                         self._register(model.trainable_variables),
                                         self._register(model.non_trainable_variables))
        return self._heads[key]

    def _action_input_shape(self) -> tuple[int, ...]:
        if isinstance(self.action_space, gym.spaces.Discrete):
            return (self.num_actions,)
        return tuple(self.action_space.shape)

    def _register(self, variables: Sequence[keras.Variable]) -> tuple[int, ...]:
        positions = []
        for variable in variables:
            key = id(variable)
            if key not in self._position:
                self._position[key] = len(self._variables)
                self._variables.append(variable)
                self._values.extend(copy_arrays([variable.value]))
            positions.append(self._position[key])
        return tuple(positions)


def _flat(X: KerasTensor) -> KerasTensor:
    return keras.layers.Flatten()(X) if len(X.shape) > 2 else X


_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
                 keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)


def _has_convolution(layer: keras.layers.Layer) -> bool:
    """Whether ``layer`` is a convolution or a model (nested at any depth) that has one."""
    return isinstance(layer, _CONVOLUTIONS) or any(
        _has_convolution(inner) for inner in getattr(layer, "layers", ()))


def _check_observation_space(space: gym.Space) -> gym.spaces.Box:
    if not isinstance(space, gym.spaces.Box):
        raise TypeError(
            "env.observation_space: expected a Box, got "
            f"{space}; wrap the env with plugrl.wrappers.DefaultPreprocessor"
        )
    return space


def _check_action_space(space: gym.Space) -> gym.spaces.Discrete | gym.spaces.Box:
    if not isinstance(space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise TypeError(f"env.action_space: expected a Discrete or Box space, got {space}")
    return space
