"""The hyperparameters of :class:`~plugrl.agents.AlphaZero`."""

from __future__ import annotations

import dataclasses

from plugrl.agents.config_checks import check_choice, check_optional_positive, check_schedule
from plugrl.samplers import VECTORIZATIONS
from plugrl.utils.validation import check_positive_int, check_unit_interval

__all__ = ["AlphaZeroConfig"]


@dataclasses.dataclass(frozen=True)
class AlphaZeroConfig:
    """Hyperparameters of AlphaZero (Silver et al., 2018) on a board game.

    One iteration of ``fit`` self-plays ``num_games`` games at once with the batched search,
    adds their positions to the buffer (with mirror images), takes ``updates_per_iteration``
    gradient steps on minibatches drawn from it, and every ``arena_interval`` iterations lets
    the trained network play the one that self-plays; it takes over only if it scores at least
    ``arena_threshold``. Steps count the moves of self-play.
    """

    num_games: int = 128
    """Games self-played at once in one iteration (one batched search per move)."""
    num_simulations: int = 64
    """Search simulations per move in self-play."""
    c_puct: float = 1.414
    """The search's exploration weight (keras-gym's MCTSNode default)."""
    dirichlet_alpha: float = 1.0
    """Concentration of the Dirichlet noise mixed into the root's priors in self-play (AlphaZero
    used 0.3 for chess; 1.0 suits Connect Four's seven moves, as AlphaZero.jl)."""
    dirichlet_fraction: float = 0.25
    """The noise's weight at the root."""
    temperature_moves: int = 8
    """Self-play draws the first so many moves of each game from the visit counts
    (temperature 1), the rest greedily (temperature 0)."""
    buffer_size: int = 100_000
    """Positions kept for training, the newest (mirror images included)."""
    batch_size: int = 256
    """Positions per gradient step."""
    updates_per_iteration: int = 64
    """Gradient steps after each iteration's self-play."""
    lr: float = 1e-3
    """Adam's learning rate."""
    max_grad_norm: float | None = 1.0
    """Clip gradients to this global norm (None: no clipping)."""
    value_loss_weight: float = 1.0
    """Weight of the value's squared error beside the policy's cross-entropy to the visit counts."""
    augment: bool = True
    """Also train on each position's mirror image (Connect Four is left-right symmetric)."""
    arena_interval: int = 1
    """Iterations between arena matches of the trained network against the self-playing one."""
    arena_games: int = 40
    """Games of an arena match, half with each colour; 0 promotes the trained network every time."""
    arena_simulations: int = 32
    """Search simulations per move in the arena (and in ``select_action``)."""
    arena_threshold: float = 0.55
    """Score (wins plus half the draws, over the games) the trained network needs to take over."""
    filters: tuple[int, ...] = (32, 32, 32)
    """Channels of the default network's convolutions."""
    dense: int = 128
    """Units of the default network's dense layer."""
    num_envs: int = 1
    """Gymnasium environments the agent keeps (for its spaces and evaluation; self-play runs on
    the game's JAX twin)."""
    vectorization: str = "sync"
    """How those environments run (see :class:`~plugrl.agents.OnPolicyConfig`)."""
    eval_episodes: int = 20
    """Games per evaluation against ``eval_opponent``."""
    eval_opponent: str = "random"
    """The opponent of :meth:`~plugrl.agents.AlphaZero.evaluate`: ``'random'``,
    ``'one_step_lookahead'``, ``'mcts'`` (pure Monte Carlo tree search, 100 rollouts) or
    ``'alpha_beta'`` (depth 5)."""

    def validate(self) -> AlphaZeroConfig:
        """Check every field; return ``self``."""
        for name in ("num_games", "num_simulations", "buffer_size", "batch_size", "updates_per_iteration",
                     "arena_interval", "arena_simulations", "dense", "num_envs", "eval_episodes"):
            check_positive_int(getattr(self, name), name)
        for name in ("temperature_moves", "arena_games"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: expected an int >= 0, got {value!r}")
        for name in ("arena_games", "eval_episodes"):  # each opening is played with both colours
            if getattr(self, name) % 2:
                raise ValueError(f"{name}: expected an even number of games (half with each colour), "
                                 f"got {getattr(self, name)}")
        check_schedule("lr", self.lr, positive=True)
        for name in ("c_puct", "dirichlet_alpha"):
            check_optional_positive(name, getattr(self, name))
        check_unit_interval(self.dirichlet_fraction, "dirichlet_fraction")
        check_unit_interval(self.arena_threshold, "arena_threshold")
        check_optional_positive("max_grad_norm", self.max_grad_norm)
        if not float(self.value_loss_weight) >= 0:
            raise ValueError(f"value_loss_weight: expected a float >= 0, got {self.value_loss_weight}")
        if not self.filters or any(int(f) < 1 for f in self.filters):
            raise ValueError(f"filters: expected positive channel counts, got {self.filters}")
        check_choice("vectorization", self.vectorization, VECTORIZATIONS)
        check_choice("eval_opponent", self.eval_opponent,
                     ("random", "one_step_lookahead", "mcts", "alpha_beta"))
        if not isinstance(self.augment, bool):
            raise ValueError(f"augment: expected a bool, got {self.augment!r}")
        return self
