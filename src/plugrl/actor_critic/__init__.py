"""Actor-critics: a policy and value functions updated together."""

from plugrl.actor_critic.actor_critic import ActorCritic
from plugrl.actor_critic.soft_actor_critic import SoftActorCritic

__all__ = ["ActorCritic", "SoftActorCritic"]
