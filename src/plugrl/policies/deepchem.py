"""DeepChem's ``Policy`` (seed 002): the user's Keras model with named outputs."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

__all__ = ["Policy"]


class Policy(abc.ABC):
    """A policy for taking actions within an environment, defined by a Keras model (DeepChem).

    Subclass it, call this constructor, and implement :meth:`create_model`. The on-policy agents
    take it as their second argument, ``A2C(env, policy)`` / ``PPO(env, policy)``, and train the
    model it creates: for ``Discrete`` actions it must output ``'action_prob'`` (the probability
    of each action, [batch, num_actions]) and ``'value'`` ([batch] or [batch, 1]); for ``Box``
    actions ``'action_mean'`` and ``'action_std'`` ([batch, *action_shape] each) and ``'value'``.

    .. code-block:: python

        class CartPolePolicy(plugrl.policies.Policy):
            def __init__(self):
                super().__init__(["action_prob", "value"])

            def create_model(self, **kwargs):
                S = keras.Input((4,))
                X = keras.layers.Dense(64, activation="tanh")(S)
                probs = keras.layers.Dense(2, activation="softmax")(X)
                value = keras.layers.Dense(1)(X)
                return keras.Model(S, [probs, value])

        agent = plugrl.agents.A2C("CartPole-v1", CartPolePolicy())

    Parameters
    ----------
    output_names : sequence of str
        The names of the model's outputs, in order: ``'action_prob'``, ``'value'``,
        ``'action_mean'``, ``'action_std'``, and ``'rnn_state'`` for the final state of each
        recurrent layer (DeepChem's name), one per initial state, in the order of the inputs.
    rnn_initial_states : sequence of arrays, optional
        DeepChem's initial states of the model's recurrent layers at the start of an episode,
        one array per state, without the batch axis. With states, the model takes
        ``[S, *states]`` (observations, then one batch of each state) and the agents carry the
        states through rollouts, reset them where an episode starts and train on sequences
        (see :mod:`plugrl.agents.on_policy.recurrent`). DeepChem's default is the list ``[]``;
        here ``None`` means the same.

    Notes
    -----
    As in DeepChem, policies should pickle: agents pickle their constructor arguments.
    Differences from DeepChem: the agents built on a ``Policy`` keep plugrl's defaults
    (``gamma=0.99``, ``vfcn_coeff=0.5``, ``entropy_coeff=0``, PPO's ``gae_lambda=0.95``);
    pass DeepChem's (``value_weight=1.0``, ``entropy_weight=0.01``, ``advantage_lambda=0.98``)
    by name to get its behaviour. The model's inputs are the observation batch alone, followed
    by the recurrent states if there are any (DeepChem's other algorithm-specific inputs are not
    used). Recurrent layers are Keras cells (``keras.layers.LSTMCell``) called on one step: the
    states are explicit inputs and outputs, never Keras stateful layers.

    .. code-block:: python

        class LSTMPolicy(plugrl.policies.Policy):
            def __init__(self):
                super().__init__(["action_prob", "value", "rnn_state", "rnn_state"],
                                 rnn_initial_states=[np.zeros(32), np.zeros(32)])

            def create_model(self, **kwargs):
                S, h, c = keras.Input((4,)), keras.Input((32,)), keras.Input((32,))
                X, (h1, c1) = keras.layers.LSTMCell(32)(S, [h, c])
                probs = keras.layers.Dense(2, activation="softmax")(X)
                return keras.Model([S, h, c], [probs, keras.layers.Dense(1)(X), h1, c1])
    """

    def __init__(self, output_names: Sequence[str], rnn_initial_states: Sequence[Any] | None = None) -> None:
        if isinstance(output_names, str):
            raise TypeError(f"output_names: expected a list of strings, got the string {output_names!r}")
        self.output_names = list(output_names)
        self.rnn_initial_states = list(rnn_initial_states or [])

    @abc.abstractmethod
    def create_model(self, **kwargs: Any) -> Any:
        """Construct and return a Keras model ``S -> outputs``, one per :attr:`output_names`."""
