"""Ready-made agents (level 3): ``fit``, ``evaluate``, ``predict``, ``save`` and ``load``.

By family: :mod:`plugrl.agents.on_policy` (REINFORCE, A2C, PPO, PPO2 and the fast path),
:mod:`plugrl.agents.off_policy` (DQN, DQL, SAC), :mod:`plugrl.agents.svpg` (SVPG over on-policy
particles) and :mod:`plugrl.agents.alphazero`; what every
agent shares is in :mod:`.base`, :mod:`.config`, :mod:`.persistence` and :mod:`.presets`.
"""

from plugrl.agents.alphazero import AlphaZero, AlphaZeroConfig
from plugrl.agents.base import AgentPolicy, BaseAgent
from plugrl.agents.config import DQLConfig, DQNConfig, OffPolicyConfig, OnPolicyConfig, SACConfig
from plugrl.agents.off_policy import DQL, DQN, SAC, OffPolicyAgent
from plugrl.agents.on_policy import A2C, PPO, PPO2, REINFORCE, OnPolicyAgent
from plugrl.agents.svpg import SVPG, SVPGConfig

#: Agent classes by name, as the CLI and checkpoints refer to them.
AGENTS = {cls.AGENT_TYPE: cls for cls in (REINFORCE, A2C, PPO, PPO2, SVPG, DQN, DQL, SAC, AlphaZero)}

__all__ = ["A2C", "AGENTS", "DQL", "DQN", "PPO", "PPO2", "REINFORCE", "SAC", "AgentPolicy", "AlphaZero",
           "AlphaZeroConfig", "BaseAgent", "DQLConfig", "DQNConfig", "OffPolicyAgent", "OffPolicyConfig",
           "OnPolicyAgent", "OnPolicyConfig", "SACConfig", "SVPG", "SVPGConfig"]
