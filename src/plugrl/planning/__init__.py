"""Planning (keras-gym's ``planning``): the Monte Carlo tree search of AlphaZero.

:class:`MCTSNode` is the seed's concept-level search, one node per position;
:func:`batched_search` searches many games at once inside ``jax.jit`` (DeepMind's ``mctx``, the
``alphazero`` extra); both follow the arithmetic of :mod:`plugrl.planning.puct`.
"""

from plugrl.planning.fast_search import Evaluator, SearchResult, batched_search
from plugrl.planning.mcts import MCTSNode
from plugrl.planning.puct import backed_up_value, dirichlet_mixture, prior, puct_scores, visit_policy

__all__ = ["Evaluator", "MCTSNode", "SearchResult", "backed_up_value", "batched_search",
           "dirichlet_mixture", "prior", "puct_scores", "visit_policy"]
