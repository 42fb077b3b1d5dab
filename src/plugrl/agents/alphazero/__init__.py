"""AlphaZero: self-play with the batched tree search of :mod:`plugrl.planning`."""

from plugrl.agents.alphazero.agent import AlphaZero
from plugrl.agents.alphazero.config import AlphaZeroConfig

__all__ = ["AlphaZero", "AlphaZeroConfig"]
