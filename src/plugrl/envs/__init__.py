"""Environments: DeepChem's ``Environment``/``GymEnvironment`` with their Gymnasium adapter
(:mod:`plugrl.envs.deepchem`), Connect Four for two players (:class:`ConnectFourEnv`, Gymnasium
id ``"ConnectFour-v0"``), and JAX reimplementations (``plugrl.envs.jax``)."""

import gymnasium

from plugrl.envs.connect_four import ConnectFourEnv
from plugrl.envs.deepchem import DeepChemAdapter, Environment, GymEnvironment

__all__ = ["ConnectFourEnv", "DeepChemAdapter", "Environment", "GymEnvironment"]

# plugrl's one registration with Gymnasium, an import-time effect on purpose: after
# `import plugrl`, gymnasium.make("ConnectFour-v0") must work as ale-py's games do after
# `import ale_py`. The guard keeps a second import (a reload) from warning of a re-registration.
if "ConnectFour-v0" not in gymnasium.registry:
    gymnasium.register(id="ConnectFour-v0", entry_point="plugrl.envs.connect_four:ConnectFourEnv")
