"""Environments: DeepChem's ``Environment``/``GymEnvironment`` with their Gymnasium adapter
(:mod:`plugrl.envs.deepchem`), and JAX reimplementations of classic-control tasks
(``plugrl.envs.jax``)."""

from plugrl.envs.deepchem import DeepChemAdapter, Environment, GymEnvironment

__all__ = ["DeepChemAdapter", "Environment", "GymEnvironment"]
