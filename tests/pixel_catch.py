"""``PixelCatch``: bsuite's "Catch" drawn as an RGB image, a pixel task small enough to learn in a
test (the learning tests of the image pipeline: wrappers, the Nature-DQN network, DQN and PPO)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["PixelCatch"]

LEFT, STAY, RIGHT = 0, 1, 2
BALL_RGB = (255, 255, 255)  # grayscale (Gymnasium's luminance): 255
PADDLE_RGB = (0, 255, 0)  # grayscale: 182, so ball and paddle stay apart after ImagePreprocessor


class PixelCatch(gym.Env[np.ndarray, np.int64]):
    r"""Catch a falling ball with a paddle, seen as an RGB image (bsuite's ``catch``).

    A grid of ``rows`` x ``columns`` cells. At reset the ball appears in a uniformly random
    column of the top row and the paddle in the middle column of the bottom row
    (``columns // 2``). Each step the paddle moves one column left, stays or moves one column
    right (actions 0, 1, 2; it stops at the walls), then the ball falls one row. When the ball
    reaches the bottom row the episode ends (terminated) with reward :math:`+1` if it lies on
    the paddle, :math:`-1` otherwise; every other reward is 0. An episode is ``rows - 1`` steps,
    enough to reach any column from the middle when ``rows - 1 >= columns // 2`` (default
    8 x 6: 7 steps), so the optimal return is :math:`+1`; uniformly random actions score about
    :math:`-0.6`.

    Each cell is ``cell_size`` x ``cell_size`` pixels: the observation is the frame of shape
    ``(rows * cell_size, columns * cell_size, 3)``, black but for a white ball and a green
    paddle (by default ``(56, 42, 3)``). The ball's column and row and the paddle's column make
    the whole state, so one frame is a Markov observation.

    Parameters
    ----------
    rows : int, optional
        Rows of the grid (the ball falls ``rows - 1`` times), at least 2.
    columns : int, optional
        Columns of the grid, at least 1.
    cell_size : int, optional
        Pixels per side of a cell.
    render_mode : {None, "rgb_array"}, optional
        With ``"rgb_array"``, :meth:`render` returns the current frame.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, rows: int = 8, columns: int = 6, cell_size: int = 7,
                 render_mode: str | None = None) -> None:
        for name, value, least in (("rows", rows, 2), ("columns", columns, 1), ("cell_size", cell_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name}: expected an int >= {least}, got {value!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode: expected None or 'rgb_array', got {render_mode!r}")
        self.rows, self.columns, self.cell_size = rows, columns, cell_size
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, 255, (rows * cell_size, columns * cell_size, 3),
                                                np.uint8)
        self.action_space = gym.spaces.Discrete(3)
        self.ball = (0, 0)  # (row, column)
        self.paddle = columns // 2

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode: the ball in a random column of the top row, the paddle centred.

        Returns
        -------
        s : ndarray, uint8, shape: observation_space.shape
        info : dict
            Empty.
        """
        super().reset(seed=seed)
        self.ball = (0, int(self.np_random.integers(self.columns)))
        self.paddle = self.columns // 2
        return self._frame(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move the paddle (0: left, 1: stay, 2: right), then let the ball fall one row.

        Returns
        -------
        s_next : ndarray, uint8, shape: observation_space.shape
        r : float
            +1 (caught) or -1 (missed) when the ball reaches the bottom row, else 0.
        terminated : bool
            Whether the ball reached the bottom row.
        truncated : bool
            Always False.
        info : dict
            Empty.
        """
        if not self.action_space.contains(action):
            raise ValueError(f"action: expected one of 0 (left), 1 (stay), 2 (right), got {action!r}")
        self.paddle = int(np.clip(self.paddle + int(action) - STAY, 0, self.columns - 1))
        row, column = self.ball[0] + 1, self.ball[1]
        self.ball = (row, column)
        terminated = row == self.rows - 1
        reward = (1.0 if column == self.paddle else -1.0) if terminated else 0.0
        return self._frame(), reward, terminated, False, {}

    def render(self) -> np.ndarray | None:  # type: ignore[override]
        """The current frame (``render_mode="rgb_array"``), else None."""
        return self._frame() if self.render_mode == "rgb_array" else None

    def _frame(self) -> np.ndarray:
        grid = np.zeros((self.rows, self.columns, 3), np.uint8)
        grid[self.rows - 1, self.paddle] = PADDLE_RGB
        grid[self.ball] = BALL_RGB  # drawn last: a caught ball covers the paddle's cell
        return np.repeat(np.repeat(grid, self.cell_size, axis=0), self.cell_size, axis=1)
