"""Environments: DeepChem's ``Environment``/``GymEnvironment`` with their Gymnasium adapter
(:mod:`plugrl.envs.deepchem`), Connect Four for two players (:class:`ConnectFourEnv`, which
``import plugrl`` registers as Gymnasium's ``"ConnectFour-v0"``), and JAX reimplementations
(``plugrl.envs.jax``)."""

from plugrl.envs.connect_four import ConnectFourEnv
from plugrl.envs.deepchem import DeepChemAdapter, Environment, GymEnvironment

__all__ = ["ConnectFourEnv", "DeepChemAdapter", "Environment", "GymEnvironment"]
