"""ConnectFourEnv against a slow pure-Python reference of the rules and against its JAX twin."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from plugrl.envs import ConnectFourEnv
from plugrl.envs.jax.connect_four import ConnectFour

#: Row 0 is the top row, so (1, 1) runs down to the right (a "\") and (1, -1) down to the left ("/").
DIRECTIONS = {"-": (0, 1), "|": (1, 0), "\\": (1, 1), "/": (1, -1)}
BOARDS = [(6, 7, 4), (4, 5, 3)]
RED, YELLOW, WHITE = (220, 30, 30), (245, 205, 20), (255, 255, 255)
#: The empty 6 x 7 board: colour 0 to move, not done, no last action (7), then the board (17 digits).
EMPTY_ID = "6x7c4-007" + "0" * 17


# ---------------------------------------------------------------------- the reference rules
class ReferenceGame:
    """The rules written out cell by cell: lists of lists, absolute colours 1 and 2."""

    def __init__(self, num_rows: int, num_cols: int, connect: int) -> None:
        self.num_rows, self.num_cols, self.connect = num_rows, num_cols, connect
        self.board = [[0] * num_cols for _ in range(num_rows)]
        self.colour, self.done = 1, False

    def lines(self, colour: int) -> set[str]:
        """The directions in which ``colour`` has ``connect`` in a row, walking from every cell."""
        found = set()
        for row in range(self.num_rows):
            for col in range(self.num_cols):
                for name, (d_row, d_col) in DIRECTIONS.items():
                    r, c, run = row, col, 0
                    while 0 <= r < self.num_rows and 0 <= c < self.num_cols and self.board[r][c] == colour:
                        r, c, run = r + d_row, c + d_col, run + 1
                    if run >= self.connect:
                        found.add(name)
        return found

    def legal(self) -> list[int]:
        return [] if self.done else [c for c in range(self.num_cols) if self.board[0][c] == 0]

    def play(self, column: int) -> float:
        row = max(r for r in range(self.num_rows) if self.board[r][column] == 0)
        self.board[row][column] = self.colour
        won = bool(self.lines(self.colour))
        full = all(self.board[0][c] != 0 for c in range(self.num_cols))
        self.done, self.colour = won or full, 3 - self.colour
        return 1.0 if won else 0.0

    def observation(self) -> np.ndarray:
        obs = np.zeros((self.num_rows + 1, self.num_cols, 2), np.uint8)
        obs[0, self.legal(), :] = 1
        for r in range(self.num_rows):
            for c in range(self.num_cols):
                if self.board[r][c]:
                    obs[r + 1, c, 0 if self.board[r][c] == self.colour else 1] = 1
        return obs


def play_moves(env: ConnectFourEnv, moves: str) -> list[tuple[float, bool]]:
    env.reset()
    return [env.step(int(a))[1:3] for a in moves]


# ---------------------------------------------------------------------- against the reference
@pytest.mark.parametrize(("num_rows", "num_cols", "connect"), BOARDS)
def test_random_games_follow_the_reference_rules(num_rows, num_cols, connect):
    env, rng, seen = ConnectFourEnv(num_rows, num_cols, connect), np.random.default_rng(0), set()
    for _ in range(150):
        reference = ReferenceGame(num_rows, num_cols, connect)
        obs, info = env.reset()
        np.testing.assert_array_equal(obs, reference.observation())
        while not reference.done:
            action = int(rng.choice(reference.legal()))
            row = max(r for r in range(num_rows) if reference.board[r][action] == 0)
            next_obs, reward, terminated, truncated, info = env.step(action)
            expected_reward = reference.play(action)
            assert (reward, terminated, truncated) == (expected_reward, reference.done, False)
            np.testing.assert_array_equal(next_obs, reference.observation())
            np.testing.assert_array_equal(env.available_actions, reference.legal())
            assert info["to_play"] == env.to_play == reference.colour - 1
            # The perspective swaps: the mover's plane becomes the opponent's, plus the new token.
            new_token = np.zeros((num_rows, num_cols), np.uint8)
            new_token[row, action] = 1
            np.testing.assert_array_equal(next_obs[1:, :, 0], obs[1:, :, 1])
            np.testing.assert_array_equal(next_obs[1:, :, 1], obs[1:, :, 0] + new_token)
            np.testing.assert_array_equal(next_obs[0, :, 0], next_obs[0, :, 1])
            obs = next_obs
        seen |= reference.lines(3 - reference.colour)  # the last mover's lines
        assert not next_obs[0].any() and env.available_actions.size == 0
    assert seen == set(DIRECTIONS), "the random games should end with lines in all four directions"


@pytest.mark.parametrize(("moves", "direction"), [
    ("0011223", "-"), ("0101010", "|"),
    # The first player's diagonal ends in column 3, four high, after ten tokens of filler.
    ("01123223633", "/"), ("65543443033", "\\"),
])
def test_hand_made_wins_in_each_direction(moves, direction):
    env, reference = ConnectFourEnv(), ReferenceGame(6, 7, 4)
    results = play_moves(env, moves)
    for a in moves:
        reference.play(int(a))
    assert results == [(0.0, False)] * (len(moves) - 1) + [(env.win_reward, True)]
    assert reference.lines(1) == {direction} and not reference.lines(2)
    assert env.to_play == 1 and env.done


def test_a_full_board_without_a_line_is_a_draw():
    moves = "555054466351352123041430222100021613443666"
    env, reference = ConnectFourEnv(), ReferenceGame(6, 7, 4)
    results = play_moves(env, moves)
    for a in moves:
        reference.play(int(a))
    assert len(moves) == env.max_time_steps == 42
    assert results == [(0.0, False)] * 41 + [(env.draw_reward, True)]
    assert not reference.lines(1) and not reference.lines(2)
    assert not env.available_actions_mask.any()


# ---------------------------------------------------------------------- against the JAX twin
@pytest.mark.parametrize(("num_rows", "num_cols", "connect"), BOARDS)
def test_the_jax_twin_agrees_move_by_move(num_rows, num_cols, connect):
    num_games, rng = 200, np.random.default_rng(1)
    game = ConnectFour(num_rows, num_cols, connect)
    play = jax.jit(jax.vmap(lambda s, a: game.play(s, a)))
    observe = jax.jit(jax.vmap(game.observation))
    state = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (num_games, *x.shape)), game.initial_state())
    envs = [ConnectFourEnv(num_rows, num_cols, connect) for _ in range(num_games)]
    obs = np.stack([env.reset()[0] for env in envs])
    np.testing.assert_array_equal(observe(state), obs)
    for _ in range(num_rows * num_cols):
        active = [not env.done for env in envs]
        # A finished game is given column 0: the twin leaves a finished state unchanged.
        actions = np.array([int(rng.choice(env.available_actions)) if live else 0
                            for env, live in zip(envs, active)])
        state, rewards = play(state, jnp.asarray(actions))
        rewards, terminated = np.asarray(rewards), np.asarray(state.terminated)
        for i in np.flatnonzero(active):
            obs[i], reward, env_terminated, _, _ = envs[i].step(actions[i])
            assert (float(rewards[i]), bool(terminated[i])) == (reward, env_terminated)
        np.testing.assert_array_equal(observe(state), obs)
        np.testing.assert_array_equal(state.to_play, [env.to_play for env in envs])
    assert all(env.done for env in envs)


# ---------------------------------------------------------------------- Gymnasium and state ids
@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
def test_check_env_passes(render_mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Through gymnasium.make, whose spec lets check_env try the other render modes too.
        env = gym.make("ConnectFour-v0", render_mode=render_mode).unwrapped
        check_env(env, skip_render_check=render_mode is None)


def test_gymnasium_make_after_import_plugrl():
    env = gym.make("ConnectFour-v0", num_rows=4, num_cols=5, connect=3)
    assert env.reset(seed=0)[0].shape == (5, 5, 2) and isinstance(env.unwrapped, ConnectFourEnv)
    # In a fresh interpreter: `import plugrl` alone registers the id, without importing
    # plugrl.envs (the samplers must not pull it in), and a second import does not warn.
    code = ("import importlib, sys, warnings; warnings.simplefilter('error'); import gymnasium, plugrl; "
            "print('plugrl.envs' in sys.modules); importlib.reload(plugrl); "
            "print(type(gymnasium.make('ConnectFour-v0').unwrapped).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "ConnectFourEnv"]


@pytest.mark.parametrize(("num_rows", "num_cols", "connect"), BOARDS)
def test_set_state_restores_random_positions(num_rows, num_cols, connect):
    env, rng = ConnectFourEnv(num_rows, num_cols, connect), np.random.default_rng(2)
    for _ in range(50):
        env.reset()
        for _ in range(rng.integers(num_rows * num_cols)):
            if env.done:
                break
            env.step(int(rng.choice(env.available_actions)))
        restored = ConnectFourEnv(num_rows, num_cols, connect)
        restored.set_state(env.state_id)
        assert (restored.state_id, restored.done, restored.to_play, restored.last_action) == (
            env.state_id, env.done, env.to_play, env.last_action)
        np.testing.assert_array_equal(restored.state, env.state)
        np.testing.assert_array_equal(restored.available_actions, env.available_actions)
        while not env.done:
            action = int(rng.choice(env.available_actions))
            expected, got = env.step(action), restored.step(action)
            np.testing.assert_array_equal(got[0], expected[0])
            assert got[1:] == expected[1:]


def test_state_id_layout():
    env = ConnectFourEnv()
    assert env.reset()[1]["state_id"] == EMPTY_ID
    env.step(3)  # the first player's token in the bottom row's column 3: cell 38 of 42, so 1 * 3**3
    assert env.state_id == "6x7c4-103" + f"{3 ** 3:017x}"


# ---------------------------------------------------------------------- errors
def test_errors_at_the_boundary():
    env = ConnectFourEnv()
    play_moves(env, "000000")
    full_column = r"action: expected one of the available actions \[1, 2, 3, 4, 5, 6\], got 0 \(a full"
    with pytest.raises(ValueError, match=full_column):
        env.step(0)
    for action in (7, -1, 1.5, "3"):
        with pytest.raises(ValueError, match="action: expected a column in 0..6"):
            env.step(action)
    play_moves(env, "0101010")
    with pytest.raises(RuntimeError, match="reset"):
        env.step(2)
    with pytest.raises(ValueError, match="connect: expected 1 to max"):
        ConnectFourEnv(4, 5, connect=6)


@pytest.mark.parametrize(("state_id", "message"), [
    ("hello", "expected '<rows>x<cols>c<connect>-<hex digits>'"),
    (None, "expected '<rows>x<cols>c<connect>-<hex digits>'"),
    ("4x5c3-005" + "0" * 8, "expected a position of this 6 x 7 board with 4 in a row"),
    ("6x7c4-007" + "0" * 16, "expected 20 hex digits after '6x7c4-', got 19"),
    ("6x7c4-207" + "0" * 17, r"the colour to move \(0 or 1\)"),
    ("6x7c4-008" + "0" * 17, "the last action"),
    ("6x7c4-100" + f"{3 ** 13:017x}", "a token above an empty cell"),  # in row 4 of column 0
    ("6x7c4-003" + f"{3 ** 3:017x}", "1 tokens of the first player and 0 of the second"),
    ("6x7c4-107" + f"{3 ** 3:017x}", "no last action"),
    ("6x7c4-104" + f"{3 ** 3:017x}", "last action 4 without a token"),
    ("6x7c4-113" + f"{3 ** 3:017x}", "done flag 1 where the game is not over"),
])
def test_set_state_rejects_bad_ids(state_id, message):
    env = ConnectFourEnv()
    with pytest.raises(ValueError, match=f"state_id: {message}|state_id: expected .*{message}"):
        env.set_state(state_id)
    assert env.state_id == EMPTY_ID  # nothing changed


# ---------------------------------------------------------------------- rendering
def test_ansi_and_human_render_show_tokens_marker_and_columns(capsys):
    env = ConnectFourEnv(render_mode="ansi")
    play_moves(env, "32")
    text = env.render()
    assert "\u25cf" in text and "\u25cb" in text and "  0   1   2   3   4   5   6" in text
    assert text.splitlines()[0].index("\u25bd") == 2 + 4 * 2  # over column 2: the second player's move
    assert text.splitlines()[-3].startswith("| ") and text.count("+---" * 7 + "+") == 7
    human = ConnectFourEnv(render_mode="human")
    play_moves(human, "32")
    assert capsys.readouterr().out.endswith(text + "\n")


def test_rgb_array_draws_discs_in_the_player_colours():
    env = ConnectFourEnv(render_mode="rgb_array")
    play_moves(env, "32")
    image = env.render()
    assert image.shape == (240, 280, 3) and image.dtype == np.uint8

    def centre(row: int, col: int) -> tuple[int, ...]:
        return tuple(image[40 * row + 20, 40 * col + 20])

    assert centre(5, 3) == RED and centre(5, 2) == YELLOW and centre(0, 0) == centre(5, 4) == WHITE
    assert tuple(image[0, 0]) not in (RED, YELLOW, WHITE)  # the board between the holes
