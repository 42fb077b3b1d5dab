"""plugrl: plug-n-play reinforcement learning with Keras bodies and JAX-fast updates.

The seed's concept-level API lives at the top level (``plugrl.FunctionApproximator``,
``plugrl.QTypeII``, ``plugrl.EpsilonGreedy``, ...); the building blocks live in submodules
(``plugrl.td_learning``, ``plugrl.caching``, ``plugrl.wrappers``, ``plugrl.utils``, ...); the
ready-made agents in ``plugrl.agents``.
"""

import gymnasium as _gymnasium

from plugrl import (
    _backend,  # noqa: F401  (selects the JAX backend before Keras loads)
    agents,
    caching,
    losses,
    planning,
    policies,
    policy_objectives,
    predefined,
    proba_dists,
    samplers,
    td_learning,
    utils,
    wrappers,
)
from plugrl._version import __version__
from plugrl.actor_critic import ActorCritic, SoftActorCritic
from plugrl.function_approximators import FunctionApproximator
from plugrl.policies import (
    EpsilonGreedy,
    GaussianPolicy,
    RandomPolicy,
    SoftmaxPolicy,
    UserInputPolicy,
)
from plugrl.value_functions import QTypeI, QTypeII, V

# plugrl's one registration with Gymnasium, an import-time effect on purpose: after
# `import plugrl`, gymnasium.make("ConnectFour-v0") must work, as ale-py's games do after
# `import ale_py`. The entry point is a string, so plugrl.envs is imported only when the game is
# made (the samplers must not pull in plugrl.envs); the guard keeps a second import (a reload)
# from warning of a re-registration.
if "ConnectFour-v0" not in _gymnasium.registry:
    _gymnasium.register(id="ConnectFour-v0", entry_point="plugrl.envs.connect_four:ConnectFourEnv")
if "BitFlipping-v0" not in _gymnasium.registry:  # truncates itself after n_bits steps
    _gymnasium.register(id="BitFlipping-v0", entry_point="plugrl.envs.bit_flipping:BitFlippingEnv")



def __getattr__(name: str) -> object:
    """``plugrl.envs``, imported on first use (keras-gym's ``km.envs.ConnectFourEnv()``): the
    samplers must not import the environments, and ``import plugrl`` imports the samplers."""
    if name == "envs":
        import importlib

        return importlib.import_module("plugrl.envs")
    raise AttributeError(f"module 'plugrl' has no attribute {name!r}")


__all__ = [
    "__version__",
    "ActorCritic",
    "EpsilonGreedy",
    "FunctionApproximator",
    "GaussianPolicy",
    "QTypeI",
    "QTypeII",
    "RandomPolicy",
    "SoftActorCritic",
    "SoftmaxPolicy",
    "UserInputPolicy",
    "V",
    "agents",
    "caching",
    "losses",
    "planning",
    "policies",
    "policy_objectives",
    "predefined",
    "proba_dists",
    "samplers",
    "td_learning",
    "utils",
    "wrappers",
]
