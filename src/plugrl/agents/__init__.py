"""Ready-made agents (level 3): ``fit``, ``evaluate``, ``predict``, ``save`` and ``load``."""

from plugrl.agents.algorithms import A2C, PPO, PPO2, REINFORCE
from plugrl.agents.base import AgentPolicy, BaseAgent
from plugrl.agents.config import DQNConfig, OffPolicyConfig, OnPolicyConfig, SACConfig
from plugrl.agents.dqn import DQN
from plugrl.agents.off_policy import OffPolicyAgent
from plugrl.agents.on_policy_agent import OnPolicyAgent
from plugrl.agents.sac import SAC

#: Agent classes by name, as the CLI and checkpoints refer to them.
AGENTS = {cls.AGENT_TYPE: cls for cls in (REINFORCE, A2C, PPO, PPO2, DQN, SAC)}

__all__ = ["A2C", "AGENTS", "DQN", "PPO", "PPO2", "REINFORCE", "SAC", "AgentPolicy", "BaseAgent",
           "DQNConfig", "OffPolicyAgent", "OffPolicyConfig", "OnPolicyAgent", "OnPolicyConfig",
           "SACConfig"]
