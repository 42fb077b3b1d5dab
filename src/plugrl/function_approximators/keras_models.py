"""Function approximators around the user's own Keras models.

The on-policy agents take networks in the seeds' forms and run them through the ordinary
machinery (``SoftmaxPolicy``/``GaussianPolicy``, ``V``, the learner, checkpoints, the fast path):

- :class:`NamedOutputsModel`: one model with DeepChem's named outputs (seed 002, ``Policy``):
  ``'action_prob'`` and ``'value'``, or ``'action_mean'``, ``'action_std'`` and ``'value'``.
- :class:`ActorModel` and :class:`ValueModel`: TF-Agents' separate ``actor_network`` and
  ``value_network`` (seed 003, ``PPOPolicy``).

The user's model is the :meth:`~FunctionApproximator.body`; the heads only rearrange its outputs
(no new trainable layers, except the actor's state-independent log-variance for ``Box`` actions,
as TF-Agents' normal projection network has).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl._backend import keras
from plugrl.function_approximators.base import FunctionApproximator, KerasTensor
from plugrl.function_approximators.recurrent import RecurrentFunctionApproximator

ops = keras.ops

__all__ = ["RECURRENT_POLICIES_ISSUE", "ActorModel", "NamedOutputsModel", "RecurrentNamedOutputsModel",
           "StateIndependentLogVar", "ValueModel"]

#: The issue that will bring recurrent policies (DeepChem's ``rnn_state``, TF-Agents' states).
RECURRENT_POLICIES_ISSUE = "Memory and goals: recurrent policies and Hindsight Experience Replay"

#: Probabilities are clipped away from 0 before their log is taken (the logits of ``'action_prob'``).
MIN_PROBABILITY = 1e-8


def symbolic_outputs(model: Any, observation_space: gym.spaces.Box, name: str,
                     rnn_initial_states: tuple[np.ndarray, ...] = ()) -> list[KerasTensor]:
    """The model's outputs on a symbolic batch of observations (followed by the recurrent
    states, DeepChem's inputs, if any), as a list (shapes only)."""
    if not callable(model):
        raise TypeError(f"{name}: expected a Keras model (a callable on a batch of observations), "
                        f"got {type(model).__name__}")
    S = keras.Input(observation_space.shape, dtype="float32")
    states = [keras.Input(s.shape, dtype="float32") for s in rnn_initial_states]
    try:
        outputs = model([S, *states] if states else S)
    except Exception as exc:  # noqa: BLE001  (any failure means the model does not fit the space)
        raise ValueError(f"{name}: could not call the model on observations of shape "
                         f"{observation_space.shape}: {type(exc).__name__}: {exc}") from None
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _check_shape(name: str, output: KerasTensor, expected: tuple[int, ...], *alternatives: tuple) -> None:
    shape = tuple(output.shape[1:])
    if shape != expected and shape not in alternatives:
        allowed = " or ".join(str(("batch", *s)) for s in (expected, *alternatives))
        raise ValueError(f"{name}: expected an output of shape {allowed}, got {('batch', *shape)}")


class NamedOutputsModel(FunctionApproximator):
    r"""A Keras model with DeepChem's named outputs (seed 002), as one function approximator.

    The body runs the model and concatenates the policy's parameters and the value into one
    tensor; ``head_pi`` and ``head_v`` slice it. ``'action_prob'`` gives the logits
    :math:`\log\max(p, 10^{-8})`; ``'action_mean'`` and ``'action_std'`` give
    :math:`(\mu, \log\sigma^2 = 2\log\sigma)`; ``'value'`` gives the state value.

    Parameters
    ----------
    env : gymnasium.Env or SpacesOnly
        The spaces (a ``Box`` action space must be unbounded, see
        :func:`~plugrl.function_approximators.predefined.mlp.policy_spaces`).
    model : keras.Model
        ``S -> outputs``, one per name in ``output_names``, in that order.
    output_names : sequence of str
        ``'action_prob'`` and ``'value'`` (``Discrete`` actions), or ``'action_mean'``,
        ``'action_std'`` and ``'value'`` (``Box`` actions); other names are computed and ignored.
        ``'rnn_state'`` outputs belong to :class:`RecurrentNamedOutputsModel`.
    random_seed : int, optional
        As for :class:`FunctionApproximator` (the model's weights exist already).

    Raises
    ------
    ValueError
        If a required output is missing, an output has the wrong shape, or the model is recurrent.
    """

    def __init__(self, env: Any, model: Any, output_names: Any, *, random_seed: int | None = None) -> None:
        self.model, self.output_names = model, tuple(output_names)
        super().__init__(env, random_seed=random_seed)
        if "rnn_state" in self.output_names:
            raise ValueError("output_names: 'rnn_state' outputs belong to recurrent policies, which "
                             "need rnn_initial_states (one per 'rnn_state' output), got none")
        _check_named_outputs(self, ())

    def body(self, S: KerasTensor) -> KerasTensor:
        return _named_features(self, symbolic_dict(self.model(S), self.output_names))

    def head_pi(self, X: KerasTensor) -> KerasTensor | tuple[KerasTensor, KerasTensor]:
        return _policy_columns(self, X)

    def head_v(self, X: KerasTensor) -> KerasTensor:
        return X[:, -1:]


class RecurrentNamedOutputsModel(RecurrentFunctionApproximator):
    """A recurrent DeepChem model (seed 002): :class:`NamedOutputsModel` whose model also takes
    the states of its recurrent layers as inputs, after the observations (``[S, *states]``), and
    returns their final states as outputs named ``'rnn_state'`` (in the order of the inputs).

    Parameters
    ----------
    env : gymnasium.Env or SpacesOnly
        The spaces.
    model : keras.Model
        ``[S, *states] -> outputs``, one per name in ``output_names``.
    output_names : sequence of str
        As for :class:`NamedOutputsModel`, with one ``'rnn_state'`` per initial state.
    rnn_initial_states : sequence of arrays
        DeepChem's initial states (without the batch axis).
    random_seed : int, optional
        As for :class:`FunctionApproximator`.
    """

    def __init__(self, env: Any, model: Any, output_names: Any, rnn_initial_states: Any, *,
                 random_seed: int | None = None) -> None:
        self.model, self.output_names = model, tuple(output_names)
        super().__init__(env, rnn_initial_states, random_seed=random_seed)
        if self.output_names.count("rnn_state") != len(self.rnn_initial_states):
            raise ValueError(f"output_names: expected one 'rnn_state' output per initial state "
                             f"({len(self.rnn_initial_states)}), got {list(self.output_names)}")
        _check_named_outputs(self, self.rnn_initial_states)

    def body_recurrent(self, S: KerasTensor, rnn_state: list[KerasTensor]) -> tuple[KerasTensor, list[Any]]:
        outputs = self.model([S, *rnn_state])
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        states = [x for name, x in zip(self.output_names, outputs, strict=True) if name == "rnn_state"]
        return _named_features(self, symbolic_dict(outputs, self.output_names)), states

    def head_pi(self, X: KerasTensor) -> KerasTensor | tuple[KerasTensor, KerasTensor]:
        return _policy_columns(self, X)

    def head_v(self, X: KerasTensor) -> KerasTensor:
        return X[:, -1:]


def _check_named_outputs(func: Any, rnn_initial_states: tuple[np.ndarray, ...]) -> None:
    """DeepChem's required outputs are there, one name per output, of the right shapes."""
    required = ("action_prob", "value") if func.action_is_discrete else ("action_mean", "action_std", "value")
    missing = [n for n in required if n not in func.output_names]
    if missing:
        raise ValueError(f"output_names: expected the outputs {list(required)} for "
                         f"{func.action_space}, got {list(func.output_names)} (missing {missing})")
    outputs = symbolic_outputs(func.model, func.observation_space, "policy.create_model()",
                               rnn_initial_states)
    if len(outputs) != len(func.output_names):
        raise ValueError(f"output_names: expected one name per model output ({len(outputs)}), got "
                         f"{list(func.output_names)}")
    action_shape = (func.num_actions,) if func.action_is_discrete else _shape(func.action_space)
    for name, output in zip(func.output_names, outputs):
        if name in required:
            shapes = [(), (1,)] if name == "value" else [action_shape]
            _check_shape(f"output {name!r}", output, *shapes)


def _named_features(func: Any, outputs: dict[str, Any]) -> KerasTensor:
    """The policy's parameters and the value side by side, from DeepChem's named outputs."""
    V = ops.reshape(outputs["value"], (-1, 1))
    if func.action_is_discrete:
        pi = [ops.log(ops.clip(outputs["action_prob"], MIN_PROBABILITY, 1.0))]
    else:
        flat = int(np.prod(_shape(func.action_space)))
        pi = [ops.reshape(outputs["action_mean"], (-1, flat)),
              ops.reshape(2.0 * ops.log(outputs["action_std"]), (-1, flat))]
    return ops.concatenate([*pi, V], axis=-1)


def _policy_columns(func: Any, X: KerasTensor) -> KerasTensor | tuple[KerasTensor, KerasTensor]:
    """The policy's parameters out of :func:`_named_features`' columns."""
    if func.action_is_discrete:
        return X[:, :-1]
    flat, shape = int(np.prod(_shape(func.action_space))), _shape(func.action_space)
    return ops.reshape(X[:, :flat], (-1, *shape)), ops.reshape(X[:, flat:2 * flat], (-1, *shape))


def symbolic_dict(outputs: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A model's outputs by name (of repeated names, such as ``'rnn_state'``, the last)."""
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    return dict(zip(names, outputs, strict=True))


@keras.saving.register_keras_serializable(package="plugrl")
class StateIndependentLogVar(keras.layers.Layer):
    r"""A learned log-variance :math:`\log\sigma^2` that does not depend on the state (TF-Agents'
    normal projection with a state-independent std): ``mu -> logvar``, broadcast to ``mu``'s
    shape. Initialised at 0; the on-policy learner adds :math:`2\log\sigma_0` (``std_init``)."""

    def build(self, input_shape: tuple) -> None:
        self.logvar = self.add_weight(shape=tuple(input_shape[1:]), initializer="zeros", name="logvar")

    def call(self, mu: Any) -> Any:
        return ops.zeros_like(mu) + self.logvar

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


class ActorModel(FunctionApproximator):
    """TF-Agents' ``actor_network`` (seed 003) as a function approximator: a Keras model from
    observations to the logits [batch, num_actions] (``Discrete``) or to the mean [batch,
    *action_shape] (``Box``; a learned state-independent :class:`StateIndependentLogVar` gives
    the variance).

    Parameters
    ----------
    env : gymnasium.Env or SpacesOnly
        The spaces (an unbounded ``Box`` action space for Gaussian policies).
    model : keras.Model
        ``S -> logits`` or ``S -> mean``.
    random_seed : int, optional
        As for :class:`FunctionApproximator`.
    """

    def __init__(self, env: Any, model: Any, *, random_seed: int | None = None) -> None:
        self.model = model
        super().__init__(env, random_seed=random_seed)
        (output,) = _single_output(model, self.observation_space, "actor_network")
        expected = (self.num_actions,) if self.action_is_discrete else _shape(self.action_space)
        _check_shape("actor_network", output, expected)

    def body(self, S: KerasTensor) -> KerasTensor:
        return self.model(S)

    def head_pi(self, X: KerasTensor) -> KerasTensor | tuple[KerasTensor, KerasTensor]:
        if self.action_is_discrete:
            return X
        return X, StateIndependentLogVar(name="logvar")(X)


class ValueModel(FunctionApproximator):
    """TF-Agents' ``value_network`` (seed 003) as a function approximator: a Keras model from
    observations to values [batch] or [batch, 1].

    Parameters
    ----------
    env : gymnasium.Env or SpacesOnly
        The spaces.
    model : keras.Model
        ``S -> V``.
    random_seed : int, optional
        As for :class:`FunctionApproximator`.
    """

    def __init__(self, env: Any, model: Any, *, random_seed: int | None = None) -> None:
        self.model = model
        super().__init__(env, random_seed=random_seed)
        (output,) = _single_output(model, self.observation_space, "value_network")
        _check_shape("value_network", output, (), (1,))

    def body(self, S: KerasTensor) -> KerasTensor:
        return self.model(S)

    def head_v(self, X: KerasTensor) -> KerasTensor:
        return ops.reshape(X, (-1, 1))


def _shape(space: gym.Space) -> tuple[int, ...]:
    return tuple(space.shape or ())


def _single_output(model: Any, observation_space: gym.spaces.Box, name: str) -> list[KerasTensor]:
    outputs = symbolic_outputs(model, observation_space, name)
    if len(outputs) != 1:
        raise ValueError(f"{name}: expected a model with one output, got {len(outputs)} outputs")
    return outputs
