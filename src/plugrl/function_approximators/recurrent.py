"""Recurrent function approximators: a Keras body whose state is an explicit input and output.

The body is a *step*: ``(S, rnn_state) -> (X, new_rnn_state)`` for one time step of a batch, written
with Keras recurrent *cells* (``keras.layers.LSTMCell``, ``GRUCell``) or any layers; there are no
Keras stateful layers. Every head model built on it is ``[S, *rnn_state] -> (output,
[*new_rnn_state])``, so a jitted step takes the state and returns the next one, and a rollout or a
training sequence is a scan over time (:func:`recurrent_apply` is the one forward pass they all call).

A recurrent policy's state follows DeepChem (seed 002): the states of a rollout's start are the
``rnn_initial_states`` (one array per state, without the batch axis); TF-Agents (seed 003) calls a
batch of them the policy's (and the value network's) initial state.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from plugrl._backend import Array, Params, keras
from plugrl.function_approximators.base import FunctionApproximator, HeadModel, KerasTensor

__all__ = ["RecurrentFunctionApproximator", "RecurrentMLP", "RecurrentParts", "initial_state_batch",
           "is_recurrent", "recurrent_apply", "recurrent_parts"]

ops = keras.ops

#: The recurrent cells of :class:`RecurrentMLP` by name, and the number of state arrays each keeps.
CELLS = {"lstm": 2, "gru": 1}


class RecurrentFunctionApproximator(FunctionApproximator, abc.ABC):
    r"""A function approximator whose body carries a recurrent state from one step to the next.

    Subclass it and implement :meth:`body_recurrent`; heads are those of
    :class:`~plugrl.FunctionApproximator` (``head_v``, ``head_pi``). It replaces keras-gym's
    ``body(self, S)`` by ``body_recurrent(self, S, rnn_state)``:

    .. code-block:: python

        class LSTM(plugrl.function_approximators.RecurrentFunctionApproximator):
            def body_recurrent(self, S, rnn_state):
                X, rnn_state = keras.layers.LSTMCell(64)(keras.layers.Flatten()(S), rnn_state)
                return X, rnn_state

        func = LSTM(env, rnn_initial_states=[np.zeros(64), np.zeros(64)])
        agent = plugrl.agents.PPO(env, function_approximator=func)

    Parameters
    ----------
    env : gymnasium.Env or SpacesOnly
        As for :class:`~plugrl.FunctionApproximator`.
    rnn_initial_states : sequence of arrays
        DeepChem's name: the states at the start of an episode, one array per state input of the
        body, without the batch axis (an LSTM cell of ``u`` units has two, ``h`` and ``c``, of
        shape ``(u,)``).
    optimizer, random_seed, **optimizer_kwargs
        As for :class:`~plugrl.FunctionApproximator`.

    Notes
    -----
    The heads of one instance share the body but not its state inputs: each head model takes
    the state and returns the next; the on-policy learner carries one state per recurrent
    function approximator (actor and critic each have theirs unless they share the instance).
    Type-I Q heads and :meth:`joint_head_model` are not available on a recurrent body.
    """

    def __init__(self, env: Any, rnn_initial_states: Sequence[Any], optimizer: Any = None, *,
                 random_seed: int | None = None, **optimizer_kwargs: Any) -> None:
        states = tuple(np.asarray(s, np.float32) for s in rnn_initial_states)
        if not states:
            raise ValueError("rnn_initial_states: expected at least one initial state array, got []")
        #: The initial states, one array per state input, without the batch axis (float32).
        self.rnn_initial_states = states
        super().__init__(env, optimizer, random_seed=random_seed, **optimizer_kwargs)

    @abc.abstractmethod
    def body_recurrent(self, S: KerasTensor,
                       rnn_state: list[KerasTensor]) -> tuple[KerasTensor, Sequence[Any]]:
        """The shared part of the network for one time step: ``(S, rnn_state) -> (X,
        new_rnn_state)``, with ``rnn_state`` a list of symbolic tensors [batch, *state_shape] in
        the order of :attr:`rnn_initial_states` and ``new_rnn_state`` of the same shapes."""

    def body_post(self, X: KerasTensor) -> KerasTensor:
        """Layers after the recurrent step, shared by the heads, ``X -> X`` (the default adds
        none). They see no state, so training runs them on a whole sequence at once, outside
        the scan over time: put feed-forward layers here rather than in :meth:`body_recurrent`."""
        return X

    def body(self, S: KerasTensor) -> KerasTensor:
        raise TypeError("body: a RecurrentFunctionApproximator's body is body_recurrent(S, rnn_state)")

    def body_q1(self, S: KerasTensor, A: KerasTensor) -> KerasTensor:
        raise TypeError("body_q1: type-I Q-functions on a recurrent body are not supported; "
                        "expected a policy or a state value function (head 'pi' or 'v')")

    def initial_state(self, batch_size: int) -> tuple[np.ndarray, ...]:
        """The initial states for a batch: each of :attr:`rnn_initial_states` repeated
        ``batch_size`` times, [batch_size, *state_shape]."""
        return tuple(np.repeat(s[None], batch_size, axis=0) for s in self.rnn_initial_states)

    def joint_head_model(self, names: Sequence[str]) -> Any:
        raise TypeError(f"names: joint heads are not available on a recurrent body, got {list(names)}")

    # ------------------------------------------------------------------ graph building
    def _state_inputs(self) -> list[KerasTensor]:
        return [keras.Input(s.shape, dtype="float32", name=f"rnn_state_{i}")
                for i, s in enumerate(self.rnn_initial_states)]

    def _shared_body(self) -> keras.Model:
        if self._body_model is None:
            S = keras.Input(self.observation_space.shape, dtype=self.observation_dtype.name, name="S")
            states = self._state_inputs()
            X, new_states = self.body_recurrent(S, list(states))
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            if len(new_states) != len(states):
                raise ValueError(f"body_recurrent: expected {len(states)} new states (one per "
                                 f"rnn_initial_states), got {len(new_states)}")
            for i, (old, new) in enumerate(zip(states, new_states)):
                if tuple(old.shape[1:]) != tuple(new.shape[1:]):
                    raise ValueError(f"body_recurrent: expected new state {i} of shape "
                                     f"{('batch', *old.shape[1:])}, got {('batch', *new.shape[1:])}")
            self._body_model = keras.Model([S, *states], [X, new_states], name="body")
        return self._body_model

    def _new_head_model(self, key: str) -> keras.Model:
        if key.split("#")[0] == "q1":
            self.body_q1(None, None)  # raises
        S = keras.Input(self.observation_space.shape, dtype=self.observation_dtype.name, name="S")
        states = self._state_inputs()
        X, new_states = self._shared_body()([S, *states])
        return keras.Model([S, *states], [self._head_only(key)(X), list(new_states)])

    def _head_only(self, key: str) -> keras.Model:
        """``X -> output``: :meth:`body_post` (one model, shared by the heads) and the head."""
        if key not in self._head_only_models:
            if "#post" not in self._head_only_models:
                X = keras.Input(self._shared_body().output[0].shape[1:], name="X")
                self._head_only_models["#post"] = keras.Model(X, self.body_post(X), name="body_post")
            post = self._head_only_models["#post"]
            X = keras.Input(self._shared_body().output[0].shape[1:], name="X")
            head = getattr(self, f"head_{key.split('#')[0]}")
            self._head_only_models[key] = keras.Model(X, head(post(X)))
        return self._head_only_models[key]


class RecurrentMLP(RecurrentFunctionApproximator):
    """The default recurrent body: ``num_layers`` LSTM (or GRU) cells of ``units`` on the
    flattened observation, then dense layers of ``hidden_sizes`` (sb3-contrib's
    ``MlpLstmPolicy``: its ``lstm_hidden_size``, ``n_lstm_layers`` and ``net_arch``).

    Parameters
    ----------
    env : gymnasium.Env or SpacesOnly
        The spaces.
    cell : {'lstm', 'gru'}
        The recurrent cell.
    units : int
        Units of each cell (the state size).
    num_layers : int
        Stacked cells.
    hidden_sizes : tuple of int
        Dense layers after the cells.
    activation : str
        Activation of the dense layers.
    optimizer, random_seed, **optimizer_kwargs
        As for :class:`~plugrl.FunctionApproximator`.
    """

    def __init__(self, env: Any, cell: str = "lstm", units: int = 64, num_layers: int = 1,
                 hidden_sizes: tuple[int, ...] = (64,), activation: str = "tanh", optimizer: Any = None,
                 *, random_seed: int | None = None, **optimizer_kwargs: Any) -> None:
        if cell not in CELLS:
            raise ValueError(f"cell: expected one of {sorted(CELLS)}, got {cell!r}")
        self.cell, self.units, self.num_layers = cell, int(units), int(num_layers)
        self.hidden_sizes, self.activation = tuple(hidden_sizes), activation
        zeros = [np.zeros(self.units, np.float32)] * (CELLS[cell] * self.num_layers)
        super().__init__(env, zeros, optimizer, random_seed=random_seed, **optimizer_kwargs)

    def body_recurrent(self, S: KerasTensor, rnn_state: list[KerasTensor]) -> tuple[KerasTensor, list[Any]]:
        X, per_cell, new_state = keras.layers.Flatten()(S), CELLS[self.cell], []
        layer = keras.layers.LSTMCell if self.cell == "lstm" else keras.layers.GRUCell
        for i in range(self.num_layers):
            X, state = layer(self.units)(X, rnn_state[i * per_cell:(i + 1) * per_cell])
            new_state += list(state) if isinstance(state, (list, tuple)) else [state]
        return X, new_state

    def body_post(self, X: KerasTensor) -> KerasTensor:
        for units in self.hidden_sizes:
            X = keras.layers.Dense(units, activation=self.activation)(X)
        return X


def is_recurrent(function_approximator: Any) -> bool:
    """Whether a function approximator carries a recurrent state."""
    return isinstance(function_approximator, RecurrentFunctionApproximator)


def initial_state_batch(function_approximator: Any, batch_size: int) -> tuple[np.ndarray, ...]:
    """The initial state of a batch for a recurrent function approximator, ``()`` for others."""
    if not is_recurrent(function_approximator):
        return ()
    return function_approximator.initial_state(batch_size)


class RecurrentParts(NamedTuple):
    """A head model of a recurrent body split in two: the recurrent *core*, ``[S, *rnn_state] ->
    (X, new_rnn_state)`` (:meth:`~RecurrentFunctionApproximator.body_recurrent`), and the
    feed-forward *top*, ``X -> output`` (:meth:`~RecurrentFunctionApproximator.body_post` and
    the head). Each with the positions of its variables in the head model's lists, so that both
    run on the head's weights; a sequence scans the core over time and runs the top once."""

    core: keras.Model
    core_trainable: tuple[int, ...]
    core_non_trainable: tuple[int, ...]
    top: keras.Model
    top_trainable: tuple[int, ...]
    top_non_trainable: tuple[int, ...]

    def apply_core(self, params: Params, non_trainable: Params, S: Array,
                   rnn_state: tuple[Array, ...]) -> tuple[Array, tuple[Array, ...]]:
        """The features ``X`` [batch, ...] and the new state of one step (traceable)."""
        (X, new_state), _ = self.core.stateless_call([params[i] for i in self.core_trainable],
                                                     [non_trainable[i] for i in self.core_non_trainable],
                                                     [S, *rnn_state])
        return X, tuple(new_state)

    def apply_top(self, params: Params, non_trainable: Params, X: Array) -> Any:
        """The head's output for features ``X`` [batch, ...] (traceable)."""
        output, _ = self.top.stateless_call([params[i] for i in self.top_trainable],
                                            [non_trainable[i] for i in self.top_non_trainable], X)
        return output


def recurrent_parts(head: HeadModel) -> RecurrentParts:
    """The core and the top of a head model of a :class:`RecurrentFunctionApproximator`."""
    core, top = (layer for layer in head.model.layers if isinstance(layer, keras.Model))

    def positions(variables: list, part: keras.Model, name: str) -> tuple[int, ...]:
        index = {id(v): i for i, v in enumerate(variables)}
        return tuple(index[id(v)] for v in getattr(part, name))

    model = head.model
    return RecurrentParts(core, positions(model.trainable_variables, core, "trainable_variables"),
                          positions(model.non_trainable_variables, core, "non_trainable_variables"),
                          top, positions(model.trainable_variables, top, "trainable_variables"),
                          positions(model.non_trainable_variables, top, "non_trainable_variables"))


def recurrent_apply(head: HeadModel, params: Params, non_trainable: Params, S: Array,
                    rnn_state: tuple[Array, ...]) -> tuple[Any, tuple[Array, ...]]:
    """One step of a head of a recurrent body, called statelessly (traceable): the head's output
    and the new state, from the head's weights, observations [batch, ...] and the state."""
    parts = recurrent_parts(head)
    X, new_state = parts.apply_core(params, non_trainable, S, rnn_state)
    return parts.apply_top(params, non_trainable, X), new_state
