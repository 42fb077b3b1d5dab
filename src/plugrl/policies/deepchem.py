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
        ``'action_mean'``, ``'action_std'`` (``'rnn_state'``, DeepChem's recurrent outputs, is
        an error in the agents: recurrent policies come with the issue "Memory and goals:
        recurrent policies and Hindsight Experience Replay").
    rnn_initial_states : sequence of arrays, optional
        DeepChem's initial states of recurrent layers; must be empty for now (as above).
        DeepChem's default is the list ``[]``; here ``None`` means the same.

    Notes
    -----
    As in DeepChem, policies should pickle: agents pickle their constructor arguments.
    Differences from DeepChem: the agents built on a ``Policy`` keep plugrl's defaults
    (``gamma=0.99``, ``vfcn_coeff=0.5``, ``entropy_coeff=0``, PPO's ``gae_lambda=0.95``);
    pass DeepChem's (``value_weight=1.0``, ``entropy_weight=0.01``, ``advantage_lambda=0.98``)
    by name to get its behaviour. The model's inputs are the observation batch alone.
    """

    def __init__(self, output_names: Sequence[str], rnn_initial_states: Sequence[Any] | None = None) -> None:
        if isinstance(output_names, str):
            raise TypeError(f"output_names: expected a list of strings, got the string {output_names!r}")
        self.output_names = list(output_names)
        self.rnn_initial_states = list(rnn_initial_states or [])

    @abc.abstractmethod
    def create_model(self, **kwargs: Any) -> Any:
        """Construct and return a Keras model ``S -> outputs``, one per :attr:`output_names`."""
