"""Policy objectives (level 2 of the API): the losses updateable policies minimise."""

from plugrl.updaters.policy_objectives.base import PolicyObjective
from plugrl.updaters.policy_objectives.cross_entropy import CrossEntropy
from plugrl.updaters.policy_objectives.ppo_clip import PPOClip, ppo_clip_surrogate
from plugrl.updaters.policy_objectives.soft_pg import SoftPG, expected_soft_value
from plugrl.updaters.policy_objectives.vanilla_pg import VanillaPG

__all__ = ["CrossEntropy", "PPOClip", "PolicyObjective", "SoftPG", "VanillaPG", "expected_soft_value",
           "ppo_clip_surrogate"]
