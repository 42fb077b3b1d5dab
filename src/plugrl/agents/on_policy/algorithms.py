"""The on-policy agents: one learner, four sets of defaults (the seeds' algorithms)."""

from __future__ import annotations

from typing import Any, ClassVar

from plugrl.agents.on_policy.agent import OnPolicyAgent

__all__ = ["A2C", "PPO", "PPO2", "REINFORCE"]


class PPO(OnPolicyAgent):
    """Proximal policy optimisation with the clipped surrogate objective and GAE advantages.

    Defaults follow Stable-Baselines3's PPO (2048 steps per env per rollout, 10 epochs of
    minibatches of 64, clip 0.2, GAE lambda 0.95); see :class:`OnPolicyAgent` for arguments.
    """

    AGENT_TYPE: ClassVar[str] = "PPO"
    DEFAULTS: ClassVar[dict[str, Any]] = {"n_steps": 2048, "batch_size": 64, "num_epoch": 10}
    CRITIC_UPDATES_ITSELF: ClassVar[bool] = True


class PPO2(OnPolicyAgent):
    """PPO with clipped value updates and standardised advantages (pyrado's ``PPO2``)."""

    AGENT_TYPE: ClassVar[str] = "PPO2"
    DEFAULTS: ClassVar[dict[str, Any]] = {"n_steps": 2048, "batch_size": 64, "num_epoch": 10,
                                          "clip_value": 0.2, "standardize_advantages": True}


class A2C(OnPolicyAgent):
    """Advantage actor-critic: one vanilla policy-gradient step per short rollout."""

    AGENT_TYPE: ClassVar[str] = "A2C"
    DEFAULTS: ClassVar[dict[str, Any]] = {"n_steps": 5, "num_envs": 8, "batch_size": 40,
                                          "num_epoch": 1, "gae_lambda": 1.0, "lr": 7e-4,
                                          "policy_objective": "vanilla",
                                          "standardize_advantages": False}


class REINFORCE(OnPolicyAgent):
    """REINFORCE with a learned baseline: Monte-Carlo advantages (``gae_lambda=1``) and one
    vanilla policy-gradient step per rollout."""

    AGENT_TYPE: ClassVar[str] = "REINFORCE"
    DEFAULTS: ClassVar[dict[str, Any]] = {"n_steps": 500, "num_envs": 4, "batch_size": 2000,
                                          "num_epoch": 1, "gae_lambda": 1.0, "lr": 1e-3,
                                          "policy_objective": "vanilla"}
