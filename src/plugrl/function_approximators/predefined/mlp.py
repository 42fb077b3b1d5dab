"""Default networks of the agents: MLP function approximators built from layer sizes (the MLP
of the on-policy agents and SAC's actor, and SAC's critic), and the choice between an MLP and
the Atari network by the observation space (:func:`default_network`)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from plugrl._backend import keras
from plugrl.function_approximators.base import FunctionApproximator
from plugrl.function_approximators.predefined.atari import AtariFunctionApproximator, is_image_space

__all__ = ["MLP", "CriticMLP", "SpacesOnly", "default_network", "policy_spaces"]


class SpacesOnly:
    """What a function approximator needs of an environment: its two spaces."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        self.observation_space = observation_space
        self.action_space = action_space


def policy_spaces(observation_space: gym.Space, action_space: gym.Space) -> SpacesOnly:
    """The spaces the networks see: a Box action space becomes unbounded (a Gaussian's support);
    the agent clips actions to the true bounds before stepping the environment."""
    if isinstance(action_space, gym.spaces.Box):
        action_space = gym.spaces.Box(-np.inf, np.inf, action_space.shape, np.float32)
    elif not isinstance(action_space, gym.spaces.Discrete):
        raise TypeError(f"env.action_space: expected a Discrete or Box space, got {action_space}")
    if not isinstance(observation_space, gym.spaces.Box):
        raise TypeError(f"env.observation_space: expected a Box, got {observation_space}; wrap the "
                        "env with plugrl.wrappers.DefaultPreprocessor")
    return SpacesOnly(observation_space, action_space)


class MLP(FunctionApproximator):
    """A multi-layer perceptron body with the given hidden sizes and activation.

    Parameters
    ----------
    env : gymnasium.Env or SpacesOnly
        Gives the observation and action spaces.
    hidden_sizes : tuple of int
        Units per hidden layer.
    activation : str
        A Keras activation name.
    optimizer : optax.GradientTransformation, optional
        As for :class:`~plugrl.FunctionApproximator`.
    random_seed : int, optional
        Seed of the weight initialisation.
    """

    def __init__(self, env: Any, hidden_sizes: tuple[int, ...] = (64, 64), activation: str = "tanh",
                 optimizer: Any = None, *, random_seed: int | None = None, **optimizer_kwargs: Any) -> None:
        self.hidden_sizes, self.activation = tuple(hidden_sizes), activation
        super().__init__(env, optimizer, random_seed=random_seed, **optimizer_kwargs)

    def body(self, S: Any) -> Any:
        X = keras.layers.Flatten()(S)
        for units in self.hidden_sizes:
            X = keras.layers.Dense(units, activation=self.activation)(X)
        return X


class CriticMLP(MLP):
    """An MLP whose type-I Q head sees the observation and the action concatenated at the input
    (``Box`` actions), as SAC's critics in the literature and SB3. Parameters as in :class:`MLP`."""

    def body_q1(self, S: Any, A: Any) -> Any:
        X = keras.layers.Concatenate()([keras.layers.Flatten()(S), keras.layers.Flatten()(A)])
        for units in self.hidden_sizes:
            X = keras.layers.Dense(units, activation=self.activation)(X)
        return X


def default_network(spaces: SpacesOnly, hidden_sizes: tuple[int, ...], activation: str, seed: int,
                    mlp: type[MLP] = MLP) -> FunctionApproximator:
    """An agent's default body: the Nature-DQN network of
    :class:`~plugrl.function_approximators.predefined.atari.AtariFunctionApproximator` for image
    observations (uint8 frames, as Stable-Baselines3's ``CnnPolicy``), else an ``mlp`` of
    ``hidden_sizes``."""
    if is_image_space(spaces.observation_space):
        return AtariFunctionApproximator(spaces, random_seed=seed)
    return mlp(spaces, hidden_sizes, activation, random_seed=seed)
