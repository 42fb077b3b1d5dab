"""Actor-critics: a policy and value functions updated together."""

from plugrl.actor_critic.actor_critic import ActorCritic

__all__ = ["ActorCritic"]
