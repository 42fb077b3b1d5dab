"""Ready-made agents (level 3): ``fit``, ``evaluate``, ``predict``, ``save`` and ``load``."""

from plugrl.agents.algorithms import A2C, PPO, PPO2, REINFORCE
from plugrl.agents.base import AgentPolicy, BaseAgent
from plugrl.agents.config import DQNConfig, OffPolicyConfig, OnPolicyConfig, SACConfig
from plugrl.agents.off_policy import OffPolicyAgent
from plugrl.agents.on_policy_agent import OnPolicyAgent

#: Agent classes by name, as the CLI and checkpoints refer to them.
AGENTS = {cls.AGENT_TYPE: cls for cls in (REINFORCE, A2C, PPO, PPO2)}

__all__ = ["A2C", "AGENTS", "PPO", "PPO2", "REINFORCE", "AgentPolicy", "BaseAgent", "DQNConfig",
           "OffPolicyAgent", "OffPolicyConfig", "OnPolicyAgent", "OnPolicyConfig", "SACConfig"]
