r"""Connect Four as pure JAX functions: the rules that batched search and self-play run on.

The board is kept from the perspective of the player to move: ``+1`` marks that player's
tokens, ``-1`` the opponent's, ``0`` an empty cell, row 0 at the top. A move drops a ``+1``
token into a column; then the board is negated, so that it is again seen by the player to
move. This is the colour swap of :class:`plugrl.envs.ConnectFourEnv`, whose observations
this module reproduces exactly (checked move by move in the tests).

The board size and the number in a row that wins are parameters, so that the same code plays
smaller games (a 4 × 5 board with three in a row learns within a test's budget).
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from plugrl.envs.jax.base import JaxEnv

__all__ = ["ConnectFour", "ConnectFourParams", "ConnectFourState", "winning_lines"]


class ConnectFourParams(NamedTuple):
    """The rewards of the player who makes the last move of a game."""

    win_reward: float = 1.0
    draw_reward: float = 0.0


class ConnectFourState(NamedTuple):
    """One position.

    Attributes
    ----------
    board : int8 array, shape [num_rows, num_cols]
        ``+1`` the tokens of the player to move, ``-1`` the opponent's, ``0`` empty; row 0 on top.
    to_play : int32 scalar
        The colour to move: 0 for the player who moved first, 1 for the other.
    last_action : int32 scalar
        The column of the last move, ``-1`` before the first.
    terminated : bool scalar
        Whether the game is over (a win, a draw, or an illegal move, which loses).
    t : int32 scalar
        Moves made so far.
    """

    board: jax.Array
    to_play: jax.Array
    last_action: jax.Array
    terminated: jax.Array
    t: jax.Array


def winning_lines(num_rows: int, num_cols: int, connect: int) -> np.ndarray:
    """Every line of ``connect`` cells on the board, as flat cell indices.

    Returns
    -------
    lines : int32 array, shape [num_lines, connect]
        Horizontal, vertical and both diagonal lines; a 6 × 7 board with four in a row has 69.
    """
    lines = []
    for row, col in itertools.product(range(num_rows), range(num_cols)):
        for d_row, d_col in ((0, 1), (1, 0), (1, 1), (1, -1)):
            cells = [(row + k * d_row, col + k * d_col) for k in range(connect)]
            if all(0 <= r < num_rows and 0 <= c < num_cols for r, c in cells):
                lines.append([r * num_cols + c for r, c in cells])
    return np.asarray(lines, dtype=np.int32).reshape(-1, connect)


class ConnectFour(JaxEnv):
    """Connect Four (or a smaller board) for two players who take turns, in JAX.

    Parameters
    ----------
    num_rows, num_cols : int, optional
        The board's size (6 × 7).
    connect : int, optional
        How many tokens in a row (horizontally, vertically or diagonally) win (4).

    Notes
    -----
    Besides the :class:`JaxEnv` contract (``reset`` and ``step`` with observations), the game is
    played on states directly: :meth:`initial_state`, :meth:`play`, :meth:`legal_actions` and
    :meth:`observation` are pure and cheap, and :func:`jax.vmap` turns them into many games.
    A move into a full column is illegal: the mover loses (search masks such moves everywhere,
    and :class:`plugrl.envs.ConnectFourEnv` refuses them). A move after the end changes nothing.
    """

    id = "ConnectFour-v0"
    default_params = ConnectFourParams()

    def __init__(self, num_rows: int = 6, num_cols: int = 7, connect: int = 4) -> None:
        if connect > max(num_rows, num_cols):
            raise ValueError(f"connect: expected at most max(num_rows, num_cols) = "
                             f"{max(num_rows, num_cols)}, got {connect}")
        self.num_rows, self.num_cols, self.connect = num_rows, num_cols, connect
        self.lines = winning_lines(num_rows, num_cols, connect)
        self.max_time_steps = num_rows * num_cols
        self.observation_space = gym.spaces.Box(0, 1, (num_rows + 1, num_cols, 2), np.uint8)
        self.action_space = gym.spaces.Discrete(num_cols)

    @property
    def num_actions(self) -> int:
        return self.num_cols

    # ------------------------------------------------------------------ the rules
    def initial_state(self) -> ConnectFourState:
        """The empty board, the first player to move."""
        return ConnectFourState(board=jnp.zeros((self.num_rows, self.num_cols), jnp.int8),
                                to_play=jnp.zeros((), jnp.int32), last_action=jnp.full((), -1, jnp.int32),
                                terminated=jnp.zeros((), bool), t=jnp.zeros((), jnp.int32))

    def legal_actions(self, state: ConnectFourState) -> jax.Array:
        """Boolean mask [num_cols] of the columns with room (all False once the game is over)."""
        return (state.board[0] == 0) & ~state.terminated

    def play(self, state: ConnectFourState, action: jax.Array,
             params: ConnectFourParams = default_params) -> tuple[ConnectFourState, jax.Array]:
        """One move: ``(next_state, reward)``, the reward being the mover's.

        The mover gets ``win_reward`` for completing a line, ``draw_reward`` for filling the
        board without one, ``-win_reward`` for an illegal move and 0 otherwise (0 as well for a
        move after the end, which returns ``state`` unchanged).
        """
        action = jnp.reshape(jnp.asarray(action, jnp.int32), ())
        column = state.board[:, action]
        legal = (column[0] == 0) & ~state.terminated
        row = jnp.sum(column == 0) - 1  # the lowest empty cell
        board = state.board.at[row, action].set(jnp.where(legal, 1, column[row]).astype(jnp.int8))
        won = jnp.any(jnp.all(board.reshape(-1)[self.lines] == 1, axis=-1))
        full = jnp.all(board[0] != 0)
        reward = jnp.where(won, params.win_reward, jnp.where(full, params.draw_reward, 0.0))
        reward = jnp.where(legal, reward, jnp.where(state.terminated, 0.0, -params.win_reward))
        moved = ConnectFourState(board=-board, to_play=1 - state.to_play, last_action=action,
                                 terminated=won | full | ~legal, t=state.t + 1)
        next_state = jax.tree_util.tree_map(lambda new, old: jnp.where(state.terminated, old, new),
                                            moved, state)
        return next_state, reward.astype(jnp.float32)

    def observation(self, state: ConnectFourState) -> jax.Array:
        """The observation of :class:`plugrl.envs.ConnectFourEnv`: uint8 [num_rows + 1, num_cols, 2],
        row 0 the legal actions (in both channels), rows 1 on the tokens of the player to move
        (channel 0) and of the opponent (channel 1)."""
        mask = jnp.broadcast_to(self.legal_actions(state)[None, :, None], (1, self.num_cols, 2))
        tokens = jnp.stack([state.board == 1, state.board == -1], axis=-1)
        return jnp.concatenate([mask, tokens], axis=0).astype(jnp.uint8)

    def state_from_observation(self, obs: Any) -> ConnectFourState:
        """The position an observation shows (its last move unknown: ``last_action`` is -1)."""
        obs = jnp.asarray(obs)
        board = obs[1:, :, 0].astype(jnp.int8) - obs[1:, :, 1].astype(jnp.int8)
        t = jnp.sum(board != 0).astype(jnp.int32)
        return ConnectFourState(board=board, to_play=t % 2, last_action=jnp.full((), -1, jnp.int32),
                                terminated=~jnp.any(obs[0, :, 0] == 1), t=t)

    # ------------------------------------------------------------------ the JaxEnv contract
    def reset(self, key: jax.Array, params: ConnectFourParams) -> tuple[jax.Array, ConnectFourState]:
        """The empty board (``key`` is unused: the game has no chance)."""
        del key, params
        state = self.initial_state()
        return self.observation(state), state

    def step(self, key: jax.Array, state: ConnectFourState, action: jax.Array,
             params: ConnectFourParams) -> tuple[jax.Array, ConnectFourState, jax.Array, jax.Array,
                                                 jax.Array, dict]:
        """:meth:`play` with the observation: ``(obs, state, reward, terminated, truncated, info)``;
        a game is never truncated."""
        del key
        state, reward = self.play(state, action, params)
        return self.observation(state), state, reward, state.terminated, jnp.zeros((), bool), {}
