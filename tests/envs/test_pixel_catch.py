"""PixelCatch, the test suite's pixel task: its rules, frames, seeding and rendering."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pixel_catch import BALL_RGB, LEFT, PADDLE_RGB, RIGHT, STAY, PixelCatch


def cells(frame: np.ndarray, cell_size: int) -> dict[tuple[int, ...], list[tuple[int, int]]]:
    """Where each colour lies, in cells: ``{rgb: [(row, column), ...]}`` (black left out)."""
    grid = frame[::cell_size, ::cell_size]
    found: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for row, column in zip(*np.nonzero(grid.any(axis=-1)), strict=True):
        found.setdefault(tuple(int(v) for v in grid[row, column]), []).append((int(row), int(column)))
    return found


def test_passes_gymnasiums_checker():
    check_env(PixelCatch(render_mode="rgb_array"), skip_render_check=True)


def test_frame_shows_the_ball_on_top_and_the_paddle_in_the_middle_of_the_bottom():
    env = PixelCatch(rows=8, columns=6, cell_size=7)
    s, info = env.reset(seed=3)
    assert s.shape == env.observation_space.shape == (56, 42, 3) and s.dtype == np.uint8
    assert info == {}
    ball_column = env.ball[1]
    assert cells(s, 7) == {BALL_RGB: [(0, ball_column)], PADDLE_RGB: [(7, 3)]}
    # each cell is a uniform 7 x 7 block
    np.testing.assert_array_equal(np.repeat(np.repeat(s[::7, ::7], 7, 0), 7, 1), s)


@pytest.mark.parametrize("ball_column, actions, reward", [
    (3, [STAY] * 7, 1.0),
    (0, [LEFT] * 7, 1.0),  # the paddle stops at the left wall
    (5, [RIGHT, RIGHT, STAY, STAY, STAY, STAY, STAY], 1.0),
    (5, [RIGHT] * 7, 1.0),  # and at the right wall
    (0, [RIGHT] * 7, -1.0),
    (2, [STAY] * 7, -1.0),
])
def test_ball_falls_for_rows_minus_one_steps_then_scores(ball_column, actions, reward):
    env = PixelCatch()
    env.reset(seed=0)
    env.ball = (0, ball_column)
    for t, a in enumerate(actions):
        s, r, terminated, truncated, _ = env.step(a)
        assert env.ball == (t + 1, ball_column)
        assert not truncated
        assert terminated == (t == len(actions) - 1)
        assert r == (reward if terminated else 0.0)
    # the last frame shows the ball where it landed, on the paddle's cell when caught
    assert cells(s, 7)[BALL_RGB] == [(7, ball_column)]
    assert (PADDLE_RGB in cells(s, 7)) == (reward < 0)


def test_seeding_repeats_the_ball_columns_and_random_play_scores_about_minus_0_6():
    def columns(seed):  # one seeded reset, then the episodes draw from its generator
        env = PixelCatch()
        env.reset(seed=seed)
        found = []
        for _ in range(60):
            env.reset()
            found.append(env.ball[1])
        return found

    assert columns(0) == columns(0) != columns(1)
    assert set(columns(0)) == set(range(6))
    env, rng, returns = PixelCatch(), np.random.default_rng(0), []
    for i in range(2000):
        env.reset(seed=i)
        terminated = False
        while not terminated:
            _, r, terminated, _, _ = env.step(int(rng.integers(3)))
        returns.append(r)
    assert -0.75 < np.mean(returns) < -0.6


def test_render_returns_the_frame_only_in_rgb_array_mode():
    env = PixelCatch(render_mode="rgb_array")
    s, _ = env.reset(seed=0)
    np.testing.assert_array_equal(env.render(), s)
    plain = PixelCatch()
    plain.reset(seed=0)
    assert plain.render() is None


@pytest.mark.parametrize("kwargs, message", [
    ({"rows": 1}, "rows: expected an int >= 2, got 1"),
    ({"columns": 2.0}, "columns: expected an int >= 1, got 2.0"),
    ({"cell_size": True}, "cell_size: expected an int >= 1, got True"),
    ({"render_mode": "human"}, "render_mode: expected None or 'rgb_array', got 'human'"),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PixelCatch(**kwargs)


def test_bad_action_is_an_error():
    env = PixelCatch()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action: expected one of 0 .left., 1 .stay., 2 .right., got 3"):
        env.step(3)
