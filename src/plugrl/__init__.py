"""plugrl: plug-n-play reinforcement learning with Keras bodies and JAX-fast updates.

The seed's concept-level API lives at the top level (``plugrl.FunctionApproximator``,
``plugrl.QTypeII``, ``plugrl.EpsilonGreedy``, ...); the building blocks live in submodules
(``plugrl.td_learning``, ``plugrl.caching``, ``plugrl.wrappers``, ``plugrl.utils``, ...); the
ready-made agents in ``plugrl.agents``.
"""

from plugrl import (
    _backend,  # noqa: F401  (selects the JAX backend before Keras loads)
    agents,
    caching,
    envs,
    losses,
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
    "envs",
    "losses",
    "policies",
    "policy_objectives",
    "predefined",
    "proba_dists",
    "samplers",
    "td_learning",
    "utils",
    "wrappers",
]
