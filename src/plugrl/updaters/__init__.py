"""Updaters: the update rules, kept apart from the function approximators they update."""

from plugrl.updaters import losses, policy_objectives, stein, td_learning

__all__ = ["losses", "policy_objectives", "stein", "td_learning"]
