r"""AlphaZero's self-play: many games at once, one compiled search per move.

Each move of every unfinished game is chosen by :func:`~plugrl.planning.batched_search` with
Dirichlet noise at the root: drawn from the visit counts (temperature 1) for the first
``temperature_moves`` moves, the most visited move afterwards. A position's training target is
the visit distribution (temperature 1) and the game's outcome seen by the player to move there.
The loop over moves is Python, one jitted call per move, and stops when every game is over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from plugrl._backend import random_argmax
from plugrl.agents.alphazero.config import AlphaZeroConfig
from plugrl.agents.alphazero.learner import PositionBatch
from plugrl.planning.fast_search import batched_search
from plugrl.planning.puct import visit_policy

__all__ = ["GameStats", "SelfPlay", "mirror"]


class GameStats(NamedTuple):
    """What one round of self-play gives besides the positions.

    Attributes
    ----------
    lengths : int array, shape: [num_games]
        Moves of each game.
    first_player_outcomes : float array, shape: [num_games]
        +1 if the player who moved first won, 0 a draw, -1 a loss.
    """

    lengths: np.ndarray
    first_player_outcomes: np.ndarray


class SelfPlay:
    """Plays ``config.num_games`` games of a network against itself (the agent's "sampler").

    Parameters
    ----------
    game : ConnectFour
        The rules, in JAX.
    forward : callable
        ``forward(weights, S) -> (logits, values)``, the network (:meth:`AlphaZeroLearner.forward`).
    config : AlphaZeroConfig
        ``num_games``, ``num_simulations``, ``c_puct``, ``dirichlet_alpha``,
        ``dirichlet_fraction`` and ``temperature_moves``.

    Attributes
    ----------
    episode_returns : list of float
        The outcome of each game for the player who moved first (as the samplers' returns).
    episode_lengths : list of int
        Moves of each game.
    total_steps : int
        Moves played.
    """

    def __init__(self, game: Any, forward: Callable[[Any, Any], tuple[Any, Any]],
                 config: AlphaZeroConfig) -> None:
        self.game, self.config = game, config
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.total_steps = 0
        observe = jax.vmap(game.observation)

        def evaluate(weights: Any, key: jax.Array, states: Any) -> tuple[jax.Array, jax.Array]:
            return forward(weights, observe(states))

        self.evaluate = evaluate
        self._move = jax.jit(self._move_fn)
        self._search_one = jax.jit(self._search_one_fn, static_argnums=3)

    def play(self, weights: Any, key: jax.Array) -> tuple[PositionBatch, GameStats]:
        """Self-play one round of games with the network's ``weights``.

        Returns
        -------
        positions : PositionBatch
            Every position where a move was made, with its target; ordered by move, then game.
        stats : GameStats
        """
        states = jax.vmap(lambda _: self.game.initial_state())(jnp.arange(self.config.num_games))
        S, P, to_play, active = [], [], [], []
        first_player = np.zeros(self.config.num_games)
        for t in range(self.game.max_time_steps):
            was_active = np.asarray(~states.terminated)
            if not was_active.any():
                break
            key, move_key = jax.random.split(key)
            to_play.append(np.asarray(states.to_play))
            states, obs, pi, reward = self._move(weights, move_key, states, jnp.int32(t))
            S.append(np.asarray(obs))
            P.append(np.asarray(pi))
            active.append(was_active)
            # only a game's last move has a reward: the mover's win (1) or draw (0)
            sign = np.where(to_play[-1] == 0, 1.0, -1.0)
            first_player += np.where(was_active, sign * np.asarray(reward), 0.0)
        mask = np.stack(active)
        Z = np.where(np.stack(to_play) == 0, first_player, -first_player)
        positions = PositionBatch(S=np.stack(S)[mask], P=np.stack(P)[mask].astype(np.float32),
                                  Z=Z[mask].astype(np.float32))
        lengths = np.asarray(states.t)
        self._record(lengths, first_player)
        return positions, GameStats(lengths, first_player)

    def _move_fn(self, weights: Any, key: jax.Array, states: Any,
                 t: jax.Array) -> tuple[Any, jax.Array, jax.Array, jax.Array]:
        """One move of every game: the next positions, the observations and search policies of
        the current ones, and the movers' rewards."""
        cfg = self.config
        search_key, draw_key, tie_key = jax.random.split(key, 3)
        result = batched_search(self.game, self.evaluate, weights, search_key, states, cfg.num_simulations,
                                cfg.c_puct, cfg.dirichlet_alpha, cfg.dirichlet_fraction)
        pi = visit_policy(result.visit_counts, 1.0, xp=jnp)
        drawn = jax.random.categorical(draw_key, jnp.log(jnp.maximum(pi, 1e-30)))
        action = jnp.where(t < cfg.temperature_moves, drawn, random_argmax(tie_key, result.visit_counts))
        next_states, reward = jax.vmap(self.game.play)(states, action)
        return next_states, jax.vmap(self.game.observation)(states), pi, reward

    def search_counts(self, weights: Any, key: jax.Array, s: np.ndarray, num_simulations: int) -> np.ndarray:
        """The visit counts [num_actions] of a search (no noise) from the position of observation ``s``."""
        return np.asarray(self._search_one(weights, key, s, num_simulations))

    def _search_one_fn(self, weights: Any, key: jax.Array, s: jax.Array, num_simulations: int) -> jax.Array:
        states = jax.tree_util.tree_map(lambda x: x[None], self.game.state_from_observation(s))
        result = batched_search(self.game, self.evaluate, weights, key, states, num_simulations,
                                self.config.c_puct)
        return result.visit_counts[0]

    def _record(self, lengths: np.ndarray, outcomes: np.ndarray) -> None:
        self.episode_lengths.extend(int(n) for n in lengths)
        self.episode_returns.extend(float(z) for z in outcomes)
        self.total_steps += int(lengths.sum())

    # ------------------------------------------------------------------ the sampler protocol
    def state(self) -> dict[str, Any]:
        """Counters and statistics (for checkpoints)."""
        return {"total_steps": self.total_steps, "episode_returns": list(self.episode_returns),
                "episode_lengths": list(self.episode_lengths)}

    def load_state(self, state: dict[str, Any], S: Any = None) -> None:
        """Restore :meth:`state` (``S``, the Gymnasium env's observation, is not needed: every
        round of self-play starts new games)."""
        self.total_steps = int(state["total_steps"])
        self.episode_returns[:] = state["episode_returns"]
        self.episode_lengths[:] = state["episode_lengths"]

    def close(self) -> None:
        """Nothing to close: the games live in JAX arrays."""


def mirror(positions: PositionBatch) -> PositionBatch:
    """The left-right mirror images of positions: Connect Four's rules are symmetric, so the
    mirrored targets are as true as the originals."""
    return PositionBatch(S=positions.S[:, :, ::-1, :], P=positions.P[:, ::-1], Z=positions.Z)
