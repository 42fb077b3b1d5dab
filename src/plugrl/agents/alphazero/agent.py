r"""AlphaZero (Silver et al., 2018): self-play with tree search, a policy-value network trained
on the search's visit counts and the games' outcomes, and an arena that promotes a trained
network only when it beats the one that self-plays.

.. code-block:: python

    agent = plugrl.agents.AlphaZero("ConnectFour-v0", seed=0)
    agent.fit(200_000)                       # moves of self-play
    agent.evaluate(100)                      # mean outcome against a random player
    a = agent.select_action(env.state)       # a searched move for a position
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from plugrl._backend import split_key
from plugrl.agents.alphazero.buffer import PositionBuffer
from plugrl.agents.alphazero.config import AlphaZeroConfig
from plugrl.agents.alphazero.fast_self_play import SelfPlay, mirror
from plugrl.agents.alphazero.learner import AlphaZeroLearner
from plugrl.agents.base import BaseAgent
from plugrl.utils.validation import check_observation

__all__ = ["AlphaZero"]

#: Random moves that open each arena game, so that two searching players, nearly deterministic,
#: do not play the same game over and over.
ARENA_OPENING_MOVES = 2


class AlphaZero(BaseAgent):
    """AlphaZero on Connect Four (or a smaller board of :class:`~plugrl.envs.ConnectFourEnv`).

    Parameters
    ----------
    env : str or ConnectFourEnv, optional
        ``"ConnectFour-v0"`` or an instance (any board size); self-play runs on its JAX twin.
    seed, function_approximator, model_dir, save_dir, max_iter, eval_intvl, logger
        As for every agent (:class:`~plugrl.agents.BaseAgent`); the default network is
        :class:`~plugrl.predefined.ConnectFourFunctionApproximator`.
    **config
        Fields of :class:`AlphaZeroConfig`.

    Attributes
    ----------
    best_weights : tuple
        The network that self-plays and plays for the agent: the last one promoted by the arena.
    promotions : int
        How many trained networks have won the arena.
    buffer : PositionBuffer
        The positions trained on.
    """

    AGENT_TYPE: ClassVar[str] = "AlphaZero"
    CONFIG: ClassVar[type] = AlphaZeroConfig

    def __init__(self, env: Any = "ConnectFour-v0", **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.best_weights = self.learner.weights
        self.promotions = 0
        self.buffer = PositionBuffer(self.config.buffer_size, self.observation_space.shape,
                                     int(self.action_space.n))
        from plugrl.planning.opponents import SearchPlayer  # imports the game (plugrl.envs)

        # compiled once, on first use, and given each network's weights as they play
        self._search_players = [SearchPlayer(self.game, self.sampler.evaluate, None,
                                             self.config.arena_simulations, self.config.c_puct)
                                for _ in range(2)]
        self._opponents: dict[str, Any] = {}  # evaluate's named opponents

    def _make_learner(self, function_approximator: Any) -> AlphaZeroLearner:
        self.game = _game_of(self.envs)
        return AlphaZeroLearner(self.game, self.config, self.seed, function_approximator)

    def _make_sampler(self) -> SelfPlay:  # type: ignore[override]  # self-play, not rollouts
        return SelfPlay(self.game, self.learner.forward, self.config)

    def _steps_per_iteration(self) -> int:
        """At most this many moves per iteration (every game as long as the board allows)."""
        return self.config.num_games * self.game.max_time_steps

    def _reset_memory(self) -> None:
        self.buffer.clear()

    # ------------------------------------------------------------------ training
    def _train_iteration(self, total_steps: int) -> dict[str, float]:
        cfg = self.config
        self._key, play_key = split_key(self._key)
        positions, stats = self.sampler.play(self.best_weights, play_key)
        self.buffer.add(positions)
        if cfg.augment:
            self.buffer.add(mirror(positions))
        self.num_steps += int(stats.lengths.sum())
        losses = []
        for _ in range(cfg.updates_per_iteration):
            self._key, update_key = split_key(self._key)
            losses.append(self.learner.update(self.buffer.sample(cfg.batch_size, self._rng), update_key))
        record = {**self._progress_record(), "mean_length": float(stats.lengths.mean()),
                  **{name: float(np.mean([m[name] for m in losses])) for name in losses[0]}}
        if (self.curr_iter + 1) % cfg.arena_interval == 0:
            record.update(self._arena())
        return record

    def _arena(self) -> dict[str, float]:
        """Let the trained network play the self-playing one; promote it if it scores enough."""
        from plugrl.planning.arena import arena

        cfg = self.config
        score = 1.0
        if cfg.arena_games:
            trained, best = self._players(self.learner.weights), self._players(self.best_weights, 1)
            score = arena(self.game, trained, best, cfg.arena_games, int(self._rng.integers(2**31)),
                          opening_moves=ARENA_OPENING_MOVES).score
        promoted = score >= cfg.arena_threshold
        if promoted:
            self.best_weights = self.learner.weights
            self.promotions += 1
        return {"arena_score": float(score), "promoted": float(promoted),
                "promotions": float(self.promotions)}

    def _players(self, weights: Any, index: int = 0) -> Any:
        """One of the agent's two searching players (an arena needs both), given ``weights``."""
        player = self._search_players[index]
        player.params = weights
        return player

    # ------------------------------------------------------------------ acting
    def select_action(self, s: Any, deterministic: bool = False) -> int:
        """A move for the position ``s`` (an observation of :class:`~plugrl.envs.ConnectFourEnv`),
        searched with ``arena_simulations`` simulations and the best network: the most visited
        move, or one drawn from the visit counts."""
        s = self._check_observation(s)
        self._key, key = split_key(self._key)
        counts = self.sampler.search_counts(self.best_weights, key, s, self.config.arena_simulations)
        if deterministic:
            return int(self._rng.choice(np.flatnonzero(counts == counts.max())))
        return int(self._rng.choice(len(counts), p=counts / counts.sum()))

    def predict(self, s: Any) -> tuple[np.ndarray, float]:
        """The best network's move probabilities and value for one observation."""
        s = self._check_observation(s)
        logits, v = self.learner.forward(self.best_weights, s[None])
        logits = np.asarray(logits[0], np.float64)
        p = np.exp(logits - logits.max())
        return p / p.sum(), float(v[0])

    def evaluate(self, n_episodes: int | None = None, deterministic: bool = True,
                 return_episode_rewards: bool = False, opponent: Any = None) -> Any:
        """The agent's mean outcome (+1 a win, 0 a draw, -1 a loss) over ``n_episodes`` games
        (even) against ``opponent``, half of them moving first.

        Parameters
        ----------
        n_episodes : int, optional
            Games (``config.eval_episodes`` by default).
        deterministic : bool, optional
            Every game starts from the empty board; False opens each pair of games (one per
            colour) with two random moves, so that games against a deterministic opponent differ.
        return_episode_rewards : bool, optional
            Also return each game's outcome.
        opponent : str or Player, optional
            One of :data:`~plugrl.planning.opponents.OPPONENTS` or a player
            (``config.eval_opponent`` by default).
        """
        from plugrl.planning.arena import arena
        from plugrl.planning.opponents import make_opponent

        n = self.config.eval_episodes if n_episodes is None else int(n_episodes)
        opponent = opponent or self.config.eval_opponent
        # a named opponent is made (and compiled) once per agent, not at every evaluation
        other = (self._opponents.setdefault(opponent, make_opponent(self.game, opponent))
                 if isinstance(opponent, str) else make_opponent(self.game, opponent))
        result = arena(self.game, self._players(self.best_weights), other, n,
                       self.seed + 1_000_003 + self.num_steps,
                       opening_moves=0 if deterministic else ARENA_OPENING_MOVES)
        mean = float(result.outcomes.mean())
        return (mean, result.outcomes.astype(float).tolist()) if return_episode_rewards else mean

    def _check_observation(self, s: Any) -> np.ndarray:
        return check_observation(s, self.observation_space.shape, np.uint8)

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint_extra(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        params, non_trainable = self.best_weights
        arrays = {f"best/{i}": np.asarray(x) for i, x in enumerate((*params, *non_trainable))}
        arrays.update({f"buffer/{name}": value for name, value in self.buffer.arrays().items()})
        return arrays, {"promotions": self.promotions, "buffer": self.buffer.state(),
                        "num_best_params": len(params)}

    def _restore_extra(self, arrays: Any, state: dict[str, Any]) -> None:
        count, total = state["num_best_params"], len(self.best_weights[0]) + len(self.best_weights[1])
        leaves = [arrays[f"best/{i}"] for i in range(total)]
        self.best_weights = (tuple(leaves[:count]), tuple(leaves[count:]))
        self.promotions = int(state["promotions"])
        self.buffer.load({name: arrays[f"buffer/{name}"] for name in self.buffer.arrays()}, state["buffer"])


def _game_of(envs: Any) -> Any:
    """The JAX twin of the vector env's Connect Four board (imported here: ``import plugrl``
    does not import the environments)."""
    from plugrl.envs.jax.connect_four import ConnectFour

    try:
        rows, cols, connect = (envs.get_attr(name)[0] for name in ("num_rows", "num_cols", "connect"))
    except AttributeError as error:
        raise TypeError(f"env: expected Connect Four (plugrl.envs.ConnectFourEnv or 'ConnectFour-v0'), "
                        f"got an env without num_rows, num_cols and connect: {envs}") from error
    return ConnectFour(int(rows), int(cols), int(connect))
