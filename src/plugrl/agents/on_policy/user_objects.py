"""The on-policy agents built from the user's objects: a DeepChem ``Policy`` (seed 002), TF-Agents'
``actor_network``/``value_network`` and ``observation_normalizer`` (seed 003), an optimizer.

:class:`UserObjects` checks what the user passed at construction and turns it into what the
learner takes: function approximators for the actor and the critic, and the optimizer.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from plugrl._backend import keras, seeded_initialization
from plugrl.agents.config import ALIASES, OnPolicyConfig
from plugrl.caching.gae import GAE
from plugrl.function_approximators.base import FunctionApproximator
from plugrl.function_approximators.keras_models import (
    ActorModel,
    NamedOutputsModel,
    RecurrentNamedOutputsModel,
    ValueModel,
)
from plugrl.function_approximators.predefined.mlp import SpacesOnly
from plugrl.policies import GaussianPolicy, SoftmaxPolicy
from plugrl.utils.running_moments import RunningNormalizer

__all__ = ["ObservationNormalizer", "UserObjects", "critic_discounts", "make_normalizer"]


@runtime_checkable
class ObservationNormalizer(Protocol):
    """What an ``observation_normalizer`` must do (TF-Agents' name; :class:`RunningNormalizer`
    is plugrl's own): normalise a batch, and learn from the raw batch of each rollout.

    Objects that also have ``state() -> dict of arrays`` and ``load_state(arrays)`` (as
    :class:`RunningNormalizer`) are saved in checkpoints; others are not.
    """

    def __call__(self, S: np.ndarray) -> np.ndarray:
        """Normalised observations [batch, *obs_shape] of a raw batch."""

    def update(self, S: np.ndarray) -> None:
        """Learn from a raw batch [batch, *obs_shape] (called once per rollout, after the update)."""


class UserObjects:
    """The user's networks and optimizer for an on-policy agent, checked.

    Parameters
    ----------
    policy : plugrl.policies.Policy, SoftmaxPolicy or GaussianPolicy, optional
        DeepChem's policy: its ``create_model()`` gives one model for the actor and the critic;
        or pyrado's: a plugrl policy object, the actor itself (:attr:`policy_object`).
    actor_network, value_network : keras.Model or FunctionApproximator, optional
        TF-Agents' separate networks (either may be left to the default MLP).
    function_approximator : FunctionApproximator, optional
        One body shared by the actor and the critic (plugrl's own form).
    optimizer : optax.GradientTransformation or keras.optimizers.Optimizer, optional
        Replaces the scheduled Adam of ``lr``.
    """

    def __init__(self, policy: Any = None, actor_network: Any = None, value_network: Any = None,
                 function_approximator: Any = None, optimizer: Any = None) -> None:
        #: pyrado's policy, a plugrl SoftmaxPolicy or GaussianPolicy (None otherwise).
        self.policy_object = policy if isinstance(policy, (SoftmaxPolicy, GaussianPolicy)) else None
        if self.policy_object is not None:
            policy = None
        networks = actor_network if actor_network is not None else value_network
        given = [name for name, value in (("policy", policy),
                                          ("function_approximator", function_approximator),
                                          ("actor_network/value_network", networks))
                 if value is not None]
        if len(given) > 1:
            raise ValueError(f"{given[1]}: expected one way to give the networks, got {' and '.join(given)}")
        if policy is not None:
            _check_deepchem_policy(policy)
        for name, network in (("actor_network", actor_network), ("value_network", value_network)):
            if network is not None and not isinstance(network, (FunctionApproximator, keras.Model)):
                raise TypeError(f"{name}: expected a keras.Model or a FunctionApproximator, got "
                                f"{type(network).__name__}")
        self.policy, self.actor_network, self.value_network = policy, actor_network, value_network
        self.function_approximator, self.optimizer = function_approximator, optimizer

    def check_config(self, config: OnPolicyConfig) -> None:
        """Settings that the user's objects make meaningless are errors, not silently ignored."""
        if self.policy is not None and config.std_init != 1.0:
            raise ValueError(f"std_init: a DeepChem Policy's model outputs 'action_std' itself; "
                             f"expected the default 1.0, got {config.std_init}")

    def approximators(self, spaces: SpacesOnly, seed: int) -> tuple[Any, Any]:
        """The actor's and the critic's function approximators (None: the learner's default)."""
        if self.policy is not None:
            with seeded_initialization(seed):  # the same seed, the same initial weights
                model = self.policy.create_model()
            states = list(getattr(self.policy, "rnn_initial_states", None) or [])
            names = self.policy.output_names
            shared = (RecurrentNamedOutputsModel(spaces, model, names, states, random_seed=seed) if states
                      else NamedOutputsModel(spaces, model, names, random_seed=seed))
            return shared, shared
        actor = (ActorModel(spaces, self.actor_network, random_seed=seed)
                 if isinstance(self.actor_network, keras.Model) else self.actor_network)
        critic = (ValueModel(spaces, self.value_network, random_seed=seed + 1)
                  if isinstance(self.value_network, keras.Model) else self.value_network)
        if actor is None and critic is None:
            return self.function_approximator, None
        return actor, critic


def _check_deepchem_policy(policy: Any) -> None:
    if not (callable(getattr(policy, "create_model", None)) and hasattr(policy, "output_names")):
        raise TypeError(f"policy: expected a plugrl.policies.Policy (DeepChem's: output_names and "
                        f"create_model()) or a SoftmaxPolicy or GaussianPolicy (pyrado's), got "
                        f"{type(policy).__name__}")


def make_normalizer(observation_normalizer: Any, config: OnPolicyConfig,
                    shape: tuple[int, ...]) -> Any:
    """The agent's observation normaliser: the user's, else a :class:`RunningNormalizer` when
    ``config.normalize_observations``, else None."""
    if observation_normalizer is None:
        return RunningNormalizer(shape) if config.normalize_observations else None
    if not isinstance(observation_normalizer, ObservationNormalizer):
        raise TypeError(f"observation_normalizer: expected an object callable on a batch with an "
                        f"update(batch) method (e.g. plugrl.utils.running_moments.RunningNormalizer), got "
                        f"{type(observation_normalizer).__name__}")
    return observation_normalizer


def critic_discounts(critic: GAE | None, config: dict[str, Any]) -> GAE | None:
    """Put the critic's ``gamma`` and ``lamda`` into the configuration ``config`` (in place);
    a different value there is an error."""
    if critic is None:
        return None
    if not isinstance(critic, GAE):
        raise TypeError(f"critic: expected a plugrl.caching.GAE, got {type(critic).__name__}")
    for name, alias, value in (("gamma", "gamma", critic.gamma), ("gae_lambda", "lamda", critic.gae_lambda)):
        for key in {name, alias, *(a for a, c in ALIASES.items() if c == name)} & config.keys():
            if float(config[key]) != value:
                raise ValueError(f"{key}: expected the critic's {alias}={value} (or nothing), "
                                 f"got {config[key]}")
            del config[key]
        config[name] = value
    return critic
