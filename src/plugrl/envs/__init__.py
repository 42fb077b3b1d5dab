"""Environments: DeepChem's ``Environment``/``GymEnvironment`` with their Gymnasium adapter
(:mod:`plugrl.envs.deepchem`), Connect Four for two players (:class:`ConnectFourEnv`, which
``import plugrl`` registers as Gymnasium's ``"ConnectFour-v0"``), bit flipping for Hindsight
Experience Replay (:class:`BitFlippingEnv`, registered as ``"BitFlipping-v0"``), and JAX
reimplementations (``plugrl.envs.jax``)."""

from plugrl.envs.bit_flipping import BitFlippingEnv
from plugrl.envs.connect_four import ConnectFourEnv
from plugrl.envs.deepchem import DeepChemAdapter, Environment, GymEnvironment

__all__ = ["BitFlippingEnv", "ConnectFourEnv", "DeepChemAdapter", "Environment", "GymEnvironment"]
