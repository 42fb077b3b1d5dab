"""On-policy agents: REINFORCE, A2C, PPO and PPO2 around one learner, and its fast path."""

from plugrl.agents.on_policy.agent import OnPolicyAgent
from plugrl.agents.on_policy.algorithms import A2C, PPO, PPO2, REINFORCE
from plugrl.agents.on_policy.learner import OnPolicyLearner

__all__ = ["A2C", "PPO", "PPO2", "REINFORCE", "OnPolicyAgent", "OnPolicyLearner"]
