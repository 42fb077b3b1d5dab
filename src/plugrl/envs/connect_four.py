r"""Connect Four as a Gymnasium environment: keras-gym's ``envs.ConnectFourEnv``, in NumPy.

Two players take turns dropping tokens into the columns of one board; one ``step`` is one move
of whichever player is to move, and its reward is that player's (``win_reward`` for completing
a line, ``draw_reward`` for filling the board without one, 0 otherwise). Observations are seen
from the player to move, so the two token planes swap between turns::

    s[0, :, 0] == s[0, :, 1]   the available actions (all 0 once the game is over)
    s[1:, :, 0]                the tokens of the player to move
    s[1:, :, 1]                the tokens of the other player

:class:`plugrl.envs.jax.connect_four.ConnectFour` plays the same rules in JAX for search and
self-play; the tests check one against the other move by move, which is why this module does
not wrap that one.

**Differences from keras-gym.** Gymnasium's API (``reset`` returns ``(obs, info)``, ``step``
five values); board size and line length are parameters; the observation space is a ``Box``
(plugrl's function approximators take Box observations); the mask row is all zeros once the
game is over; errors are ``ValueError`` / ``RuntimeError``; ``state_id`` names the board size
(see :attr:`ConnectFourEnv.state_id`).
"""

from __future__ import annotations

import re
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from plugrl.envs.jax.connect_four import winning_lines

__all__ = ["ConnectFourEnv"]

_TOKENS = {1: "\u25cf", 2: "\u25cb"}   # the first player's ●, the second player's ○
_MARKERS = {1: "\u25bc", 2: "\u25bd"}  # ▼ / ▽ over the column of the first / second player's last move
#: rgb_array colours of an empty hole (white), the first player's disc (red), the second's (yellow).
_DISC_COLOURS = np.array([[255, 255, 255], [220, 30, 30], [245, 205, 20]], np.uint8)
_BOARD_COLOUR = np.array([30, 70, 200], np.uint8)
_CELL = 40  # pixels per cell in rgb_array
_STATE_ID = re.compile(r"(\d+)x(\d+)c(\d+)-([0-9a-f]+)")


class ConnectFourEnv(gym.Env[npt.NDArray[np.uint8], np.int64]):
    """Connect Four for two players who take turns, seen from the player to move.

    Parameters
    ----------
    num_rows, num_cols : int, optional
        The board's size (6 × 7).
    connect : int, optional
        How many tokens in a row (horizontally, vertically or diagonally) win (4).
    render_mode : {None, "human", "ansi", "rgb_array"}, optional
        ``"ansi"``: :meth:`render` returns keras-gym's text board; ``"human"`` prints it after
        each ``reset`` and ``step``; ``"rgb_array"``: a uint8 image [40 num_rows, 40 num_cols, 3].

    Attributes
    ----------
    observation_space : Box(0, 1, [num_rows + 1, num_cols, 2], uint8)
        See the module docstring for the layout.
    action_space : Discrete(num_cols)
        The zero-based column, from the left.
    max_time_steps : int
        ``num_rows * num_cols``, the most moves a game can last.
    to_play : int
        The colour to move: 0 for the player who moved first (●), 1 for the other (○).
    done : bool
        Whether the game is over (a line or a full board).
    last_action : int or None
        The column of the last move (``None`` before the first).
    win_reward, loss_reward, draw_reward : float
        1, -1 and 0. ``step`` returns the mover's reward, so never ``loss_reward``: the loser's
        reward is the winner's negated, for the learner to assign.
    """

    metadata = {"render_modes": ["human", "ansi", "rgb_array"], "render_fps": 2}
    win_reward = 1.0
    loss_reward = -1.0
    draw_reward = 0.0

    def __init__(self, num_rows: int = 6, num_cols: int = 7, connect: int = 4,
                 render_mode: str | None = None) -> None:
        if min(num_rows, num_cols) < 1:
            raise ValueError(f"num_rows, num_cols: expected at least 1 each, got {num_rows}, {num_cols}")
        if not 1 <= connect <= max(num_rows, num_cols):
            raise ValueError(f"connect: expected 1 to max(num_rows, num_cols) = "
                             f"{max(num_rows, num_cols)}, got {connect}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode: expected None or one of "
                             f"{self.metadata['render_modes']}, got {render_mode!r}")
        self.num_rows, self.num_cols, self.connect = num_rows, num_cols, connect
        self.render_mode = render_mode
        self.max_time_steps = num_rows * num_cols
        self.observation_space = gym.spaces.Box(0, 1, (num_rows + 1, num_cols, 2), np.uint8)
        self.action_space = gym.spaces.Discrete(num_cols)
        self._lines = winning_lines(num_rows, num_cols, connect)
        self._size_tag = f"{num_rows}x{num_cols}c{connect}"
        self._action_digits = len(f"{num_cols:x}")
        self._board_digits = len(f"{3 ** self.max_time_steps - 1:x}")
        self._new_game()

    def _new_game(self) -> None:
        # Absolute colours (0 empty, 1 the first player, 2 the second): the perspective is
        # applied only in the observation, and the base-3 state_id reads the board as it is.
        self._board = np.zeros((self.num_rows, self.num_cols), np.int8)
        self.to_play = 0
        self.done = False
        self.last_action: int | None = None

    # ------------------------------------------------------------------ the Gymnasium API
    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[npt.NDArray[np.uint8], dict[str, Any]]:
        """The empty board, the first player to move: ``(obs, info)``.

        ``seed`` seeds :attr:`np_random` only (the game has no chance); ``options`` is unused.
        """
        super().reset(seed=seed)
        self._new_game()
        if self.render_mode == "human":
            self.render()
        return self.state, self._info()

    def step(self, action: int | np.integer
             ) -> tuple[npt.NDArray[np.uint8], float, bool, bool, dict[str, Any]]:
        """Drop a token of the player to move into column ``action``.

        Returns
        -------
        obs : uint8 array, shape [num_rows + 1, num_cols, 2]
            The next position, seen from the next player to move.
        reward : float
            The mover's: ``win_reward``, ``draw_reward`` (full board, no line) or 0.
        terminated : bool
            Whether the game is over.
        truncated : bool
            Always False (a game ends by its rules within ``max_time_steps`` moves).
        info : dict
            ``'state_id'`` and ``'to_play'`` of the next position.
        """
        if self.done:
            raise RuntimeError("step: the game is over; call reset() (or set_state) before the next move")
        if not self.action_space.contains(action):
            raise ValueError(f"action: expected a column in 0..{self.num_cols - 1}, got {action!r}")
        column = int(action)
        if self._board[0, column] != 0:
            raise ValueError(f"action: expected one of the available actions "
                             f"{self.available_actions.tolist()}, got {column} (a full column)")
        colour = self.to_play + 1
        self._board[np.flatnonzero(self._board[:, column] == 0)[-1], column] = colour
        won, full = self._has_line(self._board, colour), bool(np.all(self._board[0] != 0))
        self.done, self.last_action, self.to_play = won or full, column, 1 - self.to_play
        reward = self.win_reward if won else (self.draw_reward if full else 0.0)
        if self.render_mode == "human":
            self.render()
        return self.state, reward, self.done, False, self._info()

    def render(self) -> Any:
        """The board in :attr:`render_mode`: text (``"ansi"``), printed (``"human"``, returns None)
        or a uint8 image [40 num_rows, 40 num_cols, 3] (``"rgb_array"``)."""
        if self.render_mode is None:
            gym.logger.warn("render: ConnectFourEnv(render_mode=None) draws nothing; expected one of "
                            f"{self.metadata['render_modes']} at construction")
            return None
        if self.render_mode == "rgb_array":
            return self._rgb_array()
        text = self._ansi()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def _info(self) -> dict[str, Any]:
        return {"state_id": self.state_id, "to_play": self.to_play}

    # ------------------------------------------------------------------ keras-gym's attributes
    @property
    def state(self) -> npt.NDArray[np.uint8]:
        """The current observation, uint8 [num_rows + 1, num_cols, 2] (a copy)."""
        obs = np.empty((self.num_rows + 1, self.num_cols, 2), np.uint8)
        obs[0] = self.available_actions_mask[:, None]
        obs[1:, :, 0] = self._board == self.to_play + 1
        obs[1:, :, 1] = self._board == 2 - self.to_play
        return obs

    @property
    def available_actions_mask(self) -> npt.NDArray[np.bool_]:
        """Boolean [num_cols]: the columns with room (all False once the game is over)."""
        return (self._board[0] == 0) & (not self.done)

    @property
    def available_actions(self) -> npt.NDArray[np.int64]:
        """The columns with room, ascending (empty once the game is over)."""
        return np.flatnonzero(self.available_actions_mask)

    @property
    def state_id(self) -> str:
        """The whole position as a string: ``'<rows>x<cols>c<connect>-'``, then hex digits: the
        colour to move (0/1), the done flag (0/1), the last action (``num_cols`` before the
        first move) and the board read row by row, top first, as a base-3 number (0 empty, 1 the
        first player, 2 the second), zero-padded. On the 6 × 7 board: ``'6x7c4-'`` + 20 digits,
        keras-gym's layout (whose first digit was 1/2 for the player who had just moved)."""
        board = int("".join(map(str, self._board.ravel())), 3)
        last = self.num_cols if self.last_action is None else self.last_action
        return (f"{self._size_tag}-{self.to_play}{int(self.done)}{last:0{self._action_digits}x}"
                f"{board:0{self._board_digits}x}")

    def set_state(self, state_id: str) -> None:
        """Restore the position of a :attr:`state_id` of this board size.

        Raises
        ------
        ValueError
            If ``state_id`` is malformed, of another board size or line length, or not a
            position that play reaches (floating tokens, token counts that disagree with the
            colour to move, a done flag that disagrees with the board).
        """
        board, to_play, done, last = self._decode(state_id)
        problem = self._inconsistency(board, to_play, done, last)
        if problem is not None:
            raise ValueError(f"state_id: expected a position that play reaches, got {problem}: "
                             f"{state_id!r}")
        self._board, self.to_play, self.done, self.last_action = board, to_play, done, last

    # ------------------------------------------------------------------ helpers
    def _has_line(self, board: npt.NDArray[np.int8], colour: int) -> bool:
        return bool(np.any(np.all(board.ravel()[self._lines] == colour, axis=-1)))

    def _decode(self, state_id: str) -> tuple[npt.NDArray[np.int8], int, bool, int | None]:
        match = _STATE_ID.fullmatch(state_id) if isinstance(state_id, str) else None
        example = f"{self._size_tag}-{'0' * (2 + self._action_digits + self._board_digits)}"
        if match is None:
            raise ValueError(f"state_id: expected '<rows>x<cols>c<connect>-<hex digits>' such as "
                             f"{example!r}, got {state_id!r}")
        tag, body = f"{match[1]}x{match[2]}c{match[3]}", match[4]
        if tag != self._size_tag:
            raise ValueError(f"state_id: expected a position of this {self.num_rows} x {self.num_cols} "
                             f"board with {self.connect} in a row ('{self._size_tag}-...'), got one of "
                             f"'{tag}': {state_id!r}")
        if len(body) != len(example) - len(tag) - 1:
            raise ValueError(f"state_id: expected {len(example) - len(tag) - 1} hex digits after "
                             f"'{tag}-', got {len(body)}: {state_id!r}")
        to_play, done = int(body[0], 16), int(body[1], 16)
        last, number = int(body[2:2 + self._action_digits], 16), int(body[2 + self._action_digits:], 16)
        if to_play > 1 or done > 1 or last > self.num_cols or number >= 3 ** self.max_time_steps:
            raise ValueError(f"state_id: expected the colour to move (0 or 1), the done flag (0 or 1), "
                             f"the last action (0 to {self.num_cols}) and a board below "
                             f"3**{self.max_time_steps}, got {to_play}, {done}, {last} and {number}: "
                             f"{state_id!r}")
        cells = np.array(list(np.base_repr(number, 3).zfill(self.max_time_steps)), np.int8)
        board = cells.reshape(self.num_rows, self.num_cols)
        return board, to_play, bool(done), None if last == self.num_cols else last

    def _inconsistency(self, board: npt.NDArray[np.int8], to_play: int, done: bool,
                       last: int | None) -> str | None:
        """What makes a decoded position unreachable in play, or None."""
        occupied = board != 0
        firsts, seconds = int(np.sum(board == 1)), int(np.sum(board == 2))
        mover = 2 - to_play  # the colour of the last move's token
        if np.any(occupied[:-1] & ~occupied[1:]):
            return "a token above an empty cell"
        if firsts - seconds != to_play:
            return (f"{firsts} tokens of the first player and {seconds} of the second, "
                    f"with colour {to_play} to move")
        if last is None and firsts > 0:
            return "tokens on the board but no last action"
        if last is not None and board[np.argmax(occupied[:, last]), last] != mover:
            return f"last action {last} without a token of colour {mover - 1} on top of that column"
        if self._has_line(board, 3 - mover):
            return f"a line of colour {to_play}, which is to move (the game ended before)"
        over = self._has_line(board, mover) or bool(np.all(occupied[0]))
        if done != over:
            return f"done flag {int(done)} where the game is {'over' if over else 'not over'}"
        return None

    def _ansi(self) -> str:
        hrule = "+---" * self.num_cols + "+\n"
        markers = [" "] * self.num_cols
        if self.last_action is not None:
            markers[self.last_action] = _MARKERS[2 - self.to_play]
        text = "  " + "   ".join(markers) + "  \n" + hrule
        for row in self._board:
            text += "| " + " | ".join(_TOKENS.get(int(v), " ") for v in row) + " |\n" + hrule
        return text + " " + "".join(f"{j:^4}" for j in range(self.num_cols)) + "\n"

    def _rgb_array(self) -> npt.NDArray[np.uint8]:
        offset = np.arange(_CELL) + 0.5 - _CELL / 2
        disc = offset[:, None] ** 2 + offset[None, :] ** 2 <= (0.4 * _CELL) ** 2
        holes = np.tile(disc, (self.num_rows, self.num_cols))
        colours = _DISC_COLOURS[self._board].repeat(_CELL, axis=0).repeat(_CELL, axis=1)
        return np.where(holes[..., None], colours, _BOARD_COLOUR).astype(np.uint8)
