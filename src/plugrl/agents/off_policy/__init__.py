"""Off-policy agents: DQN and SAC, learning from a replay buffer."""

from plugrl.agents.off_policy.agent import OffPolicyAgent
from plugrl.agents.off_policy.dqn import DQN, DQNLearner
from plugrl.agents.off_policy.sac import SAC, SACLearner

__all__ = ["DQN", "SAC", "DQNLearner", "OffPolicyAgent", "SACLearner"]
