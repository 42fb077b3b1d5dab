"""The ``plugrl`` command line end to end, on tiny budgets."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

import plugrl  # noqa: F401  (selects the JAX backend before Keras loads)
from plugrl.agents import PPO
from plugrl.agents.config import OnPolicyConfig
from plugrl.cli import main
from plugrl.cli.app import build_parser
from plugrl.cli.options import field_docs
from plugrl.cli.train import plan_training

TINY = ["--steps", "512", "--seed", "0", "--set", "n_steps=64", "--set", "num_envs=2",
        "--set", "batch_size=64", "--set", "num_epoch=2", "--eval-episodes", "2"]


def train_args(run_dir, *extra):
    return ["train", "ppo", "--env", "CartPole-v1", *TINY, "--run-dir", str(run_dir), *extra]


def snapshot(run_dir):
    """Every file's modification time and bytes, to prove a refused command changed nothing."""
    return {str(p.relative_to(run_dir)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(run_dir.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "run"
    assert main(train_args(path)) == 0
    return path


def test_train_writes_a_loadable_agent(run_dir):
    agent = PPO.load(str(run_dir / "agent"))
    assert agent.env_id == "CartPole-v1" and agent.num_steps == 512
    a = agent.policy(np.zeros(4, np.float32))
    assert agent.action_space.contains(a)


def test_train_writes_curve_gif_history_and_run_json(run_dir):
    from PIL import Image

    with Image.open(run_dir / "learning_curve.png") as png:
        assert png.format == "PNG" and png.size[0] > 100
    with Image.open(run_dir / "episode.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames > 1
    history = json.loads((run_dir / "history.json").read_text())
    assert [r["steps"] for r in history] == [128, 256, 384, 512]
    run = json.loads((run_dir / "run.json").read_text())
    assert (run["agent"], run["env"], run["seed"], run["steps"], run["status"]) == \
        ("PPO", "CartPole-v1", 0, 512, "finished")
    assert run["eval_episodes"] == 2 and np.isfinite(run["eval_mean_return"])
    assert run["wall_time_s"] > 0 and run["steps_per_second"] > 0
    assert run["config"]["gamma"] == 0.98  # the CartPole preset, under the --set overrides
    assert run["config"]["n_steps"] == 64


def test_train_writes_tensorboard_scalars(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert "mean_return" in tags and "eval/mean_return" in tags
    assert [e.step for e in events.Scalars("mean_return")] == [128, 256, 384, 512]
    assert any("loss" in tag for tag in tags)


def test_train_refuses_an_existing_run(run_dir, capsys):
    before = snapshot(run_dir)
    assert main(train_args(run_dir)) == 2
    assert "--force" in capsys.readouterr().err
    assert snapshot(run_dir) == before


def test_train_with_force_replaces_the_run(run_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "notes.txt").write_text("mine")
    old_events = set((copy / "tensorboard").iterdir())
    assert main(train_args(copy, "--force", "--no-gif", "--set", "gamma=0.9",
                           "--eval-interval", "256", "--checkpoint-interval", "256")) == 0
    run = json.loads((copy / "run.json").read_text())
    assert run["config"]["gamma"] == 0.9
    assert [e["steps"] for e in run["evaluations"]] == [256, 512]  # the last is the final one
    assert len(list((copy / "checkpoints").iterdir())) == 2
    assert not (copy / "episode.gif").exists()  # the old one is gone, no new one asked for
    assert not old_events & set((copy / "tensorboard").iterdir())
    assert (copy / "notes.txt").read_text() == "mine"  # only the run's own files are replaced


def test_ctrl_c_keeps_the_agent_and_exits_130(tmp_path, monkeypatch):
    fit = PPO.fit

    def fit_until_ctrl_c(self, total_steps, callback=None, **kwargs):
        def interrupt(agent, record):
            callback(agent, record)
            raise KeyboardInterrupt

        return fit(self, total_steps, callback=interrupt, **kwargs)

    monkeypatch.setattr(PPO, "fit", fit_until_ctrl_c)
    run_dir = tmp_path / "run"
    assert main(train_args(run_dir)) == 130
    run = json.loads((run_dir / "run.json").read_text())
    assert (run["status"], run["steps"], run["eval_mean_return"]) == ("interrupted", 128, None)
    assert PPO.load(str(run_dir / "agent")).num_steps == 128
    assert (run_dir / "learning_curve.png").exists() and not (run_dir / "episode.gif").exists()


def test_eval_prints_mean_and_std(run_dir, capsys):
    assert main(["eval", str(run_dir), "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert "±" in out and "2 episodes" in out


def test_play_writes_a_gif(run_dir, tmp_path):
    from PIL import Image

    assert main(["play", str(run_dir), "--gif", str(tmp_path / "play.gif")]) == 0
    with Image.open(tmp_path / "play.gif") as gif:
        assert gif.n_frames > 1


def test_eval_of_a_directory_without_agent_is_usage_error(tmp_path, capsys):
    assert main(["eval", str(tmp_path)]) == 2
    assert "saved agent" in capsys.readouterr().err


def test_presets_prints_the_table(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for word in ("PPO", "A2C", "REINFORCE", "CartPole-v1", "Acrobot-v1", "Pendulum-v1", "ALE/Pong-v5",
                 "100k", "10M"):
        assert word in out


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "ppx", "--env", "CartPole-v1"], "REINFORCE"),
    (["train", "ppo", "--env", "CartPol-v1"], "CartPole-v1"),
    (["train", "ppo", "--env", "CartPole-v1", "--set", "n_step=64"], "did you mean n_steps"),
    (["train", "ppo", "--env", "CartPole-v1", "--set", "n_steps=abc"], "n_steps: expected int"),
    (["train", "ppo", "--env", "CartPole-v1", "--set", "n_steps"], "KEY=VALUE"),
    (["train", "ppo", "--env", "CartPole-v1", "--batch-size", "100000"], "batch_size"),
    (["train", "ppo", "--env", "CartPole-v1", "--preset", "Pong-v5"], "Presets exist for"),
    (["train", "ppo", "--env", "CartPole-v1", "--n-steps", "abc"], "--n-steps"),
])
def test_bad_input_is_exit_code_2_with_a_helpful_message(argv, message, tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main([*argv, "--run-dir", str(run_dir)]) == 2
    assert message in capsys.readouterr().err
    assert not run_dir.exists()


def test_hyperparameter_options_are_generated_from_the_dataclass():
    help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    docs = field_docs(OnPolicyConfig)
    for field in dataclasses.fields(OnPolicyConfig):
        assert "--" + field.name.replace("_", "-") in help_text
        assert docs[field.name]


def test_precedence_defaults_preset_options_set():
    args = build_parser().parse_args(["train", "PPO", "--env", "CartPole-v1", "--gamma", "0.9",
                                      "--lr", "1e-3", "--set", "lr=2e-3", "--no-standardize-advantages"])
    plan = plan_training(args)
    assert plan.config["gae_lambda"] == 0.8  # preset
    assert plan.config["gamma"] == 0.9  # option over preset
    assert plan.config["lr"] == 2e-3  # --set over option
    assert plan.config["standardize_advantages"] is False
    assert plan.total_steps == 100_000 and plan.preset == "CartPole-v1"
    assert str(plan.run_dir) == "runs/ppo-CartPole-v1-seed0"
    args = build_parser().parse_args(["train", "a2c", "--env", "MountainCar-v0", "--steps", "1e4"])
    plan = plan_training(args)
    assert (plan.config, plan.preset, plan.total_steps) == ({}, "none", 10_000)


def test_resume_continues_an_interrupted_run_to_the_same_total(run_dir, tmp_path, monkeypatch):
    """Interrupted after its checkpoint at 256 steps, a run resumed with --resume ends where
    the uninterrupted run (the ``run_dir`` fixture) ends, weight for weight."""
    fit = PPO.fit

    def fit_until_ctrl_c(self, total_steps, callback=None, **kwargs):
        def interrupt(agent, record):
            callback(agent, record)
            if agent.num_steps > 256:
                raise KeyboardInterrupt

        return fit(self, total_steps, callback=interrupt, **kwargs)

    resumed_dir = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(PPO, "fit", fit_until_ctrl_c)
        assert main(train_args(resumed_dir, "--checkpoint-interval", "256", "--no-gif")) == 130
    assert main(train_args(resumed_dir, "--resume", "--no-gif")) == 0
    run = json.loads((resumed_dir / "run.json").read_text())
    assert (run["status"], run["steps"]) == ("finished", 512)
    resumed, uninterrupted = (PPO.load(str(d / "agent")) for d in (resumed_dir, run_dir))
    for a, b in zip(resumed.learner.get_weights(), uninterrupted.learner.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_resume_without_a_checkpoint_is_a_usage_error(tmp_path, capsys):
    assert main(train_args(tmp_path / "run", "--resume")) == 2
    assert "--resume: restore: no checkpoint in model_dir" in capsys.readouterr().err
