"""``plugrl train svpg``: the preset, the fast path, the particles' plot; eval on the run."""

from __future__ import annotations

import json

import plugrl  # noqa: F401  (selects the JAX backend before Keras loads)
from plugrl.agents import SVPG
from plugrl.cli import main


def test_train_svpg_on_the_fast_path_writes_the_particles_plot_and_a_loadable_agent(tmp_path, capsys):
    from PIL import Image

    run_dir = tmp_path / "svpg"
    args = ["train", "svpg", "--env", "CartPole-v1", "--jax", "--steps", "2400", "--seed", "1",
            "--set", "num_particles=3", "--set", "hidden_sizes=16", "--eval-episodes", "2",
            "--run-dir", str(run_dir)]
    assert main(args) == 0
    run = json.loads((run_dir / "run.json").read_text())
    assert run["agent"] == "SVPG" and run["config"]["temperature"] == 1.0  # the preset's
    history = json.loads((run_dir / "history.json").read_text())
    assert {"SVPG/return_2", "SVPG/distance_2", "SVPG/bandwidth"} <= set(history[-1])
    assert Image.open(run_dir / "particles.png").size[1] > Image.open(run_dir / "learning_curve.png").size[1]
    agent = SVPG.load(run_dir / "agent")
    assert agent.num_particles == 3 and agent.num_steps == 2400
    assert main(["eval", str(run_dir), "--episodes", "1"]) == 0
    assert "SVPG on CartPole-v1" in capsys.readouterr().out


def test_train_svpg_refuses_many_seeds(capsys):
    assert main(["train", "svpg", "--env", "CartPole-v1", "--jax", "--seeds", "0-3"]) == 2
    assert "SVPG's particles already train together" in capsys.readouterr().err
