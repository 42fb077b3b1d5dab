"""Updaters: the update rules, kept apart from the function approximators they update."""

from plugrl.updaters import losses, td_learning

__all__ = ["losses", "td_learning"]
