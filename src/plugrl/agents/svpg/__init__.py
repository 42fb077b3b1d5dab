"""SVPG: Stein Variational Policy Gradient over on-policy particles (pyrado's ``SVPG``)."""

from plugrl.agents.svpg.agent import SVPG
from plugrl.agents.svpg.config import SVPGConfig

__all__ = ["SVPG", "SVPGConfig"]
