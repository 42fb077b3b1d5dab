"""The on-policy agents: one learner, four sets of defaults (the seeds' algorithms)."""

from __future__ import annotations

from typing import Any, ClassVar

from plugrl.agents.config import ROLLOUT
from plugrl.agents.on_policy.agent import OnPolicyAgent

__all__ = ["A2C", "PPO", "PPO2", "REINFORCE"]


class PPO(OnPolicyAgent):
    """Proximal policy optimisation with the clipped surrogate objective and GAE advantages.

    Defaults follow Stable-Baselines3's PPO (2048 steps per env per rollout, 10 epochs of
    minibatches of 64, clip 0.2, GAE lambda 0.95); see :class:`OnPolicyAgent` for arguments.

    DeepChem's ``PPO(env, policy, max_rollout_length=20, optimization_rollouts=8,
    optimization_epochs=4, batch_size=64, clipping_width=0.2, discount_factor=0.99,
    advantage_lambda=0.98, value_weight=1.0, entropy_weight=0.01, optimizer=None)`` (seed 002)
    is accepted with those names; its defaults are not taken over (pass them by name).
    DeepChem's PPO is discrete-only; this one also does ``Box`` actions. TF-Agents'
    ``PPOPolicy`` (seed 003): ``actor_network``, ``value_network``, ``observation_normalizer``,
    ``clip_actions`` (TF-Agents' ``clip``), ``collect``, and the methods ``action``,
    ``distribution`` and ``apply_value_network``.
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
    """Advantage actor-critic: one vanilla policy-gradient step per short rollout.

    DeepChem's ``A2C(env, policy, max_rollout_length=20, discount_factor=0.99,
    advantage_lambda=0.98, value_weight=1.0, entropy_weight=0.01, optimizer=None)`` (seed 002) is
    accepted with those names; plugrl's defaults stay (5 steps on 8 envs, ``gae_lambda=1``,
    ``vfcn_coeff=0.5``, no entropy bonus, Adam at ``lr=7e-4``): pass DeepChem's by
    name. Unless ``batch_size`` is given, one update is one gradient step on the whole rollout
    (``n_steps * num_envs`` samples), as in DeepChem's A2C.
    """

    AGENT_TYPE: ClassVar[str] = "A2C"
    DEFAULTS: ClassVar[dict[str, Any]] = {"n_steps": 5, "num_envs": 8, "batch_size": ROLLOUT,
                                          "num_epoch": 1, "gae_lambda": 1.0, "lr": 7e-4,
                                          "policy_objective": "vanilla",
                                          "standardize_advantages": False}


class REINFORCE(OnPolicyAgent):
    """REINFORCE with a learned baseline: Monte-Carlo advantages (``gae_lambda=1``) and one
    vanilla policy-gradient step per rollout (unless ``batch_size`` is given)."""

    AGENT_TYPE: ClassVar[str] = "REINFORCE"
    DEFAULTS: ClassVar[dict[str, Any]] = {"n_steps": 500, "num_envs": 4, "batch_size": ROLLOUT,
                                          "num_epoch": 1, "gae_lambda": 1.0, "lr": 1e-3,
                                          "policy_objective": "vanilla"}
