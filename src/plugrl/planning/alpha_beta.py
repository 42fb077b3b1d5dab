r"""A classical Connect Four opponent: depth-limited negamax with alpha-beta pruning on bitboards.

A position is two Python integers, as in John Tromp's and Pascal Pons's solvers: ``mine`` holds
the tokens of the player to move and ``mask`` all tokens. Bit ``col * (num_rows + 1) + height``
is the cell ``height`` rows above the bottom of column ``col``; the extra bit on top of each
column (the *sentinel* row) is never set, so that shifting a line of bits one cell along any of
the four directions (by ``1``, ``H``, ``H - 1`` or ``H + 1``, with :math:`H` = ``num_rows + 1``)
runs into an empty cell rather than wrapping into the next column. A move is
``mask | (mask + bottom)`` restricted to one column, and the position is handed to the
opponent as ``(mine ^ mask, new_mask)``. The same code plays any board size and line length.

Search is plain Python (recursion does not trace in JAX); it plays one position at a time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plugrl.envs.jax.connect_four import ConnectFour, ConnectFourState, winning_lines
from plugrl.planning.fast_players import rng_from_key

__all__ = ["AlphaBeta"]


class AlphaBeta:
    r"""Negamax with alpha-beta pruning to a fixed depth, and a heuristic at the leaves.

    Values are seen by the player to move and lie in :math:`(-1, 1)`: a win ``p`` plies below
    the root is worth :math:`1 - p / (2 (n + 1))` for :math:`n` cells (between 1/2 and 1, so
    that a quicker win is preferred), a draw 0, and a leaf below depth ``depth`` the heuristic

    .. math::

        h\ =\ \tfrac12 \tanh\Big(\tfrac{1}{4} \sum_{\ell\ \text{open}} \pm\, 4^{\,k_\ell - c + 1}\Big)

    over the lines :math:`\ell` of ``connect`` cells that hold tokens of one side only,
    :math:`k_\ell` of them (+ for the player to move, − for the opponent): a line one token short
    of a win counts 1, two short 1/4, and so on. Every node first looks for a move that wins at
    once (so wins are found at any depth, the leaves included), then for the opponent's
    immediate wins: it must block one, and two at once are a loss. Moves are tried centre first.

    Parameters
    ----------
    game : ConnectFour
        The board size and line length.
    depth : int, optional
        Plies searched before the heuristic takes over (5).

    Notes
    -----
    A :class:`~plugrl.planning.opponents.Player`: ties between the best moves are broken by a
    NumPy generator seeded from the key, so games vary and are reproducible.
    """

    def __init__(self, game: ConnectFour, depth: int = 5) -> None:
        if depth < 1:
            raise ValueError(f"depth: expected at least 1, got {depth}")
        self.game, self.depth = game, depth
        rows, cols, height = game.num_rows, game.num_cols, game.num_rows + 1
        self._height = height
        self._bottom = [1 << (c * height) for c in range(cols)]
        self._column = [((1 << rows) - 1) << (c * height) for c in range(cols)]
        self._board, self._bottom_row = sum(self._column), sum(self._bottom)
        centre = (cols - 1) / 2
        self._order = sorted(range(cols), key=lambda c: (abs(c - centre), c))
        self._lines = [sum(1 << self._bit(int(i) // cols, int(i) % cols) for i in line)
                       for line in winning_lines(rows, cols, game.connect)]
        self._weights = [0.0] + [4.0 ** (k - game.connect + 1) for k in range(1, game.connect)]
        # (offset of each other cell of a line, in bits) for every direction and gap position
        self._gaps = [[(k - gap) * step for k in range(game.connect) if k != gap]
                      for step in (1, height, height - 1, height + 1) for gap in range(game.connect)]
        self._win_scale = 1.0 / (2 * (rows * cols + 1))

    def __call__(self, states: ConnectFourState, key: Any) -> np.ndarray:
        """Best moves of a batch of positions, one after the other.

        Parameters
        ----------
        states : ConnectFourState
            B positions along a leading axis.
        key : jax.Array
            PRNG key; seeds the NumPy generator that breaks ties.

        Returns
        -------
        actions : int64 array, shape: [B]
            Columns to play (0 for finished games).
        """
        rng = rng_from_key(key)
        boards, terminated = np.asarray(states.board), np.asarray(states.terminated)
        actions = np.zeros(len(boards), np.int64)
        for i in np.flatnonzero(~terminated):
            actions[i] = self.best_move(boards[i], rng)
        return actions

    # ------------------------------------------------------------------ one position
    def best_move(self, board: np.ndarray, rng: np.random.Generator) -> int:
        """The best move of one board (int8 [num_rows, num_cols], +1 the player to move);
        every move that ties with the best is chosen with equal probability."""
        mine, mask = self.bitboards(board)
        values = self.root_values(mine, mask)
        best = max(values.values())
        return int(rng.choice([a for a, v in values.items() if v >= best - 1e-9]))

    def root_values(self, mine: int, mask: int) -> dict[int, float]:
        """The value of each legal move of the root, exact for the moves that tie with the best."""
        values: dict[int, float] = {}
        best, wins = -math.inf, self._winning_cells(mine, mask)
        for a in self._legal_moves(mask):
            child = self._play(mine, mask, a)
            if wins & child[1] & self._column[a]:
                values[a] = self._win(1)
            else:
                # The window opens just below the best so far: a move as good as it is valued
                # exactly (not cut off at a bound), so that ties can be broken at random.
                values[a] = -self.negamax(*child, self.depth - 1, -math.inf, -(best - 1e-6), 1)
            best = max(best, values[a])
        return values

    def bitboards(self, board: np.ndarray) -> tuple[int, int]:
        """``(mine, mask)`` of a board: int8 [num_rows, num_cols], row 0 on top."""
        mine = mask = 0
        for row, col in zip(*np.nonzero(board)):
            bit = 1 << self._bit(int(row), int(col))
            mask |= bit
            if board[row, col] == 1:
                mine |= bit
        return mine, mask

    def negamax(self, mine: int, mask: int, depth: int, alpha: float, beta: float, ply: int) -> float:
        """The value, for the player to move, of ``(mine, mask)`` searched ``depth`` more plies
        (fail-soft: outside ``(alpha, beta)`` a bound)."""
        playable = (mask + self._bottom_row) & self._board
        if not playable:
            return 0.0
        if self._winning_cells(mine, mask) & playable:
            return self._win(ply + 1)
        threats = self._winning_cells(mine ^ mask, mask) & playable
        if threats & (threats - 1):  # two cells to block at once: the opponent wins next
            return -self._win(ply + 2)
        if depth == 0:
            return self.heuristic(mine, mask)
        moves = [a for a in self._order if (threats or playable) & self._column[a]]
        value = -math.inf
        for a in moves:
            value = max(value, -self.negamax(*self._play(mine, mask, a), depth - 1, -beta, -alpha, ply + 1))
            alpha = max(alpha, value)
            if alpha >= beta:
                break
        return value

    def heuristic(self, mine: int, mask: int) -> float:
        """Open lines of each side, weighted by how close they are to a win, squashed into
        :math:`(-1/2, 1/2)`."""
        theirs, weights, score = mine ^ mask, self._weights, 0.0
        for line in self._lines:
            if not line & theirs:
                score += weights[(line & mine).bit_count()]
            elif not line & mine:
                score -= weights[(line & theirs).bit_count()]
        return 0.5 * math.tanh(0.25 * score)

    # ------------------------------------------------------------------ bit arithmetic
    def _bit(self, row: int, col: int) -> int:
        return col * self._height + (self.game.num_rows - 1 - row)

    def _legal_moves(self, mask: int) -> list[int]:
        playable = (mask + self._bottom_row) & self._board
        return [a for a in self._order if playable & self._column[a]]

    def _play(self, mine: int, mask: int, a: int) -> tuple[int, int]:
        """The position after a move, seen by the opponent."""
        return mine ^ mask, mask | (mask + self._bottom[a])

    def _winning_cells(self, tokens: int, mask: int) -> int:
        """The empty cells that would complete a line of ``tokens``."""
        cells = 0
        for offsets in self._gaps:
            line = -1  # all ones: the neutral element of &
            for offset in offsets:
                line &= tokens >> offset if offset > 0 else tokens << -offset
            cells |= line
        return cells & self._board & ~mask

    def _win(self, ply: int) -> float:
        return 1.0 - ply * self._win_scale
