"""Off-policy agents: DQN, DQL (pyrado's) and SAC, learning from a replay buffer."""

from plugrl.agents.off_policy.agent import OffPolicyAgent
from plugrl.agents.off_policy.dql import DQL, DQLLearner
from plugrl.agents.off_policy.dqn import DQN, DQNLearner
from plugrl.agents.off_policy.sac import SAC, SACLearner

__all__ = ["DQL", "DQN", "SAC", "DQLLearner", "DQNLearner", "OffPolicyAgent", "SACLearner"]
