"""``plugrl train alphazero --env ConnectFour``, ``eval`` and ``play`` of its run, and
``plugrl play connect-four RUN_DIR``: a person against the agent, in a pseudo-terminal."""

from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import pytest
from terminal import Terminal

import plugrl
from plugrl.agents import AlphaZero
from plugrl.cli import main
from plugrl.cli.app import build_parser
from plugrl.cli.train import plan_training
from plugrl.envs import ConnectFourEnv

TINY = ["--steps", "200", "--seed", "0", "--set", "num_games=8", "--set", "num_simulations=4",
        "--set", "updates_per_iteration=2", "--set", "batch_size=16", "--set", "arena_games=2",
        "--set", "arena_simulations=2", "--set", "filters=8", "--set", "dense=16",
        "--set", "eval_episodes=2"]
SRC = str(pathlib.Path(plugrl.__file__).parents[1])
PROMPT = r"Your move: a column in \[([0-9, ]*)\]: "
RESULT = r"Result: (you win|draw|the agent wins)"
AGENT_MOVE = re.compile(r"The agent plays column (\d+)\.")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny AlphaZero trained through the CLI: two iterations of self-play, 255 moves."""
    path = tmp_path_factory.mktemp("alphazero") / "run"
    assert main(["train", "alphazero", "--env", "ConnectFour", *TINY, "--run-dir", str(path)]) == 0
    return path


def test_train_writes_the_run_of_an_alphazero(run_dir):
    from PIL import Image

    run = json.loads((run_dir / "run.json").read_text())
    assert (run["agent"], run["env"], run["preset"], run["status"]) == \
        ("AlphaZero", "ConnectFour-v0", "ConnectFour-v0", "finished")  # the id resolved
    assert run["config"]["num_simulations"] == 4 and run["config"]["temperature_moves"] == 12
    assert run["eval_opponent"] == "random" and run["eval_episodes"] == 2
    assert -1 <= run["eval_mean_return"] <= 1
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history) == 2 and history[-1]["steps"] == run["steps"] >= 200
    for key in ("episodes", "mean_return", "mean_length", "AlphaZero/policy_loss",
                "AlphaZero/value_loss", "arena_score", "promoted", "promotions"):
        assert all(np.isfinite(record[key]) for record in history), key
    agent = AlphaZero.load(str(run_dir / "agent"))
    assert agent.num_steps == run["steps"] and agent.env_id == "ConnectFour-v0"
    with Image.open(run_dir / "learning_curve.png") as png:
        assert png.format == "PNG" and png.size[1] > 600  # scores above losses
    with Image.open(run_dir / "episode.gif") as gif:  # a self-play game, one move a frame
        assert gif.n_frames >= 8 and gif.info["duration"] == 500


def test_train_writes_the_losses_and_scores_to_tensorboard(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"AlphaZero/policy_loss", "AlphaZero/value_loss", "arena_score", "eval/mean_return"} <= tags


def test_eval_prints_the_mean_outcome_against_random(run_dir, capsys):
    assert main(["eval", str(run_dir), "--episodes", "4"]) == 0
    out = capsys.readouterr().out
    assert "mean outcome against random" in out and "over 4 games" in out
    assert main(["eval", str(run_dir), "--episodes", "3"]) == 2
    assert "--episodes: expected an even number of games" in capsys.readouterr().err


def test_play_records_a_self_play_game(run_dir, tmp_path):
    from PIL import Image

    assert main(["play", str(run_dir), "--gif", str(tmp_path / "game.gif")]) == 0
    with Image.open(tmp_path / "game.gif") as gif:
        assert gif.n_frames >= 8


@pytest.mark.parametrize(("typed", "resolved"), [
    ("ConnectFour", "ConnectFour-v0"), ("CartPole", "CartPole-v1"), ("ConnectFour-v0", "ConnectFour-v0")])
def test_an_unversioned_env_id_is_the_highest_registered_version(typed, resolved):
    plan = plan_training(build_parser().parse_args(["train", "alphazero", "--env", typed]))
    assert plan.env_id == resolved
    assert str(plan.run_dir) == f"runs/alphazero-{resolved}-seed0"
    assert plan.preset == ("ConnectFour-v0" if resolved == "ConnectFour-v0" else "none")


def test_the_agent_list_and_bad_input_name_alphazero_and_the_argument(tmp_path, capsys):
    help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    assert "AlphaZero" in help_text
    assert main(["train", "alphazro", "--env", "ConnectFour", "--run-dir", str(tmp_path / "a")]) == 2
    assert "AlphaZero" in capsys.readouterr().err
    assert main(["train", "alphazero", "--env", "ConectFour", "--run-dir", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "--env: expected a registered Gymnasium id" in err and "did you mean 'ConnectFour-v0'" in err
    assert main(["train", "alphazero", "--env", "CartPole", "--run-dir", str(tmp_path / "c")]) == 2
    assert "Connect Four" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("argv", "message"), [
    (["play", "connect-four", "RUN", "--gif", "x.gif"], "--gif: expected with play RUN_DIR, without a game"),
    (["play", "RUN", "--second"], "--second: expected with play GAME RUN_DIR"),
    (["play", "RUN", "--simulations", "8"], "--simulations: expected with play GAME RUN_DIR"),
    (["play", "connect-four"], "RUN_DIR: expected a run directory after 'connect-four'"),
    (["play", "connect-four", "RUN", "--simulations", "0"], "--simulations: expected an int >= 1"),
])
def test_play_options_belong_to_their_form(argv, message, run_dir, capsys):
    argv = [str(run_dir) if word == "RUN" else word for word in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_person_plays_the_agent_in_a_terminal(run_dir):
    """Invalid input, an out-of-range column and a full column are asked again; the board is
    shown before each of the person's moves and at the end; the game ends with the result that
    the moves made (replayed here on a board of our own)."""
    with Terminal.spawn(["play", "connect-four", str(run_dir), "--first", "--simulations", "2"],
                        SRC) as terminal:
        terminal.read_until(PROMPT)
        assert "You play \u25cf (first)" in terminal.text and "2 search simulations" in terminal.text
        for typed in ("x", "9"):
            terminal.send(typed)
            terminal.read_until(PROMPT)
            assert f"invalid action '{typed}'; try again" in terminal.text
        game, full_column_refused = Game(), False
        while True:
            game.replay_agent_moves(terminal)
            assert game.env.render() in terminal.text[:terminal.position]  # the board the person sees
            available = [int(a) for a in terminal.match[1].split(", ")]
            assert available == game.env.available_actions.tolist()
            full = sorted(set(range(game.env.num_cols)) - set(available))
            if full and not full_column_refused:
                terminal.send(str(full[0]))
                terminal.read_until(PROMPT)
                assert f"action {full[0]} is not available now; choose one of {available}" in terminal.text
                full_column_refused = True
            a = game.person_move()
            game.play(a)
            terminal.send(str(a))
            if terminal.read_until(PROMPT, RESULT) == RESULT:
                break
        game.replay_agent_moves(terminal)
        assert game.env.done and game.env.render() in terminal.text
        assert terminal.match[1] == game.result
        assert terminal.wait() == 0
    assert full_column_refused, f"no column filled up in this game:\n{terminal.text}"


def test_end_of_input_leaves_the_game_with_exit_code_130(run_dir):
    with Terminal.spawn(["play", "connect-four", str(run_dir), "--second"], SRC) as terminal:
        terminal.read_until(PROMPT)
        assert AGENT_MOVE.search(terminal.text)  # the agent moved first
        terminal.send_eof()
        terminal.read_until(r"Game left unfinished \(the input ended\)\.")
        assert terminal.wait() == 130


def test_play_connect_four_needs_an_alphazero_run(tmp_path, capsys):
    from plugrl.agents import PPO

    PPO("CartPole-v1", seed=0, num_envs=1, n_steps=8, batch_size=8).save(str(tmp_path / "agent"))
    assert main(["play", "connect-four", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "RUN_DIR: expected a run of AlphaZero on Connect Four" in err and "got PPO on CartPole-v1" in err


class Game:
    """The test's copy of the game in the terminal; the person moves first (\u25cf)."""

    def __init__(self) -> None:
        self.env = ConnectFourEnv(render_mode="ansi")
        self.env.reset()
        self.result: str | None = None
        self._replayed = 0

    def play(self, a: int) -> None:
        mover = self.env.to_play
        _, r, done, _, _ = self.env.step(a)
        if done:
            self.result = ("draw" if r != self.env.win_reward
                           else "you win" if mover == 0 else "the agent wins")

    def replay_agent_moves(self, terminal: Terminal) -> None:
        """Play the agent's moves that the terminal showed since the last call."""
        for a in AGENT_MOVE.findall(terminal.text, self._replayed, terminal.position):
            self.play(int(a))
        self._replayed = terminal.position

    def person_move(self) -> int:
        """A move that lets the game go on until a column is full: into the fullest column,
        never completing a line of one's own, never leaving the agent a winning move if that
        can be helped."""
        tokens = self.env.state[1:].sum(axis=(0, 2), dtype=int)
        order = sorted(self.env.available_actions.tolist(), key=lambda a: (-tokens[a], a))
        quiet = [a for a in order if not _after(self.env, a)[0].done]
        safe = [a for a in quiet if not _can_win(_after(self.env, a)[0])]
        return (safe or quiet or order)[0]


def _after(env: ConnectFourEnv, a: int) -> tuple[ConnectFourEnv, float]:
    """A copy of ``env`` after move ``a``, and the mover's reward."""
    probe = ConnectFourEnv(env.num_rows, env.num_cols, env.connect)
    probe.set_state(env.state_id)
    _, r, _, _, _ = probe.step(a)
    return probe, r


def _can_win(env: ConnectFourEnv) -> bool:
    """Whether the player to move has a winning move."""
    return any(_after(env, a)[1] == env.win_reward for a in env.available_actions)
