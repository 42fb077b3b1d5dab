"""Policy objectives, ``plugrl.policy_objectives`` (defined in :mod:`plugrl.updaters`)."""

from plugrl.updaters.policy_objectives import (
    CrossEntropy,
    PolicyObjective,
    PPOClip,
    SoftPG,
    VanillaPG,
    ppo_clip_surrogate,
)

__all__ = ["CrossEntropy", "PPOClip", "PolicyObjective", "SoftPG", "VanillaPG", "ppo_clip_surrogate"]
