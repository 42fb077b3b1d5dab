"""Ready-made agents (level 3): ``fit``, ``evaluate``, ``predict``, ``save`` and ``load``."""

from plugrl.agents.algorithms import A2C, PPO, PPO2, REINFORCE
from plugrl.agents.base import AgentPolicy, OnPolicyAgent
from plugrl.agents.config import OnPolicyConfig

#: Agent classes by name, as the CLI and checkpoints refer to them.
AGENTS = {cls.AGENT_TYPE: cls for cls in (REINFORCE, A2C, PPO, PPO2)}

__all__ = ["A2C", "AGENTS", "PPO", "PPO2", "REINFORCE", "AgentPolicy", "OnPolicyAgent",
           "OnPolicyConfig"]
