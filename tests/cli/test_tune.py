"""``plugrl tune`` and ``plugrl train --workers`` (Ray; a local cluster, see tests/ray_cluster.py)."""

from __future__ import annotations

import json

import pytest

from plugrl.cli import main
from plugrl.cli.app import build_parser
from plugrl.cli.train import plan_training
from plugrl.cli.tune import search_space


def test_tune_runs_a_tiny_grid_and_reports_the_best_trial(ray_cluster, tmp_path, capsys):
    code = main(["tune", "ppo", "--env", "CartPole-v1", "--preset", "none", "--steps", "256",
                 "--grid", "lr=1e-3,1e-5", "--n-steps", "64", "--eval-episodes", "2",
                 "--hidden-sizes", "16", "--tune-dir", str(tmp_path)])
    assert code == 0
    summary = json.loads((tmp_path / "tune.json").read_text())
    trials = summary["trials"]
    assert sorted(t["config"]["lr"] for t in trials) == [1e-5, 1e-3]
    for trial in trials:  # each trial is a plugrl run with its own run directory
        run = json.loads((tmp_path / trial["run_dir"].rsplit("/", 1)[-1] / "run.json").read_text())
        assert run["status"] == "finished" and run["steps"] >= 256
        assert run["config"]["lr"] == trial["config"]["lr"] and run["config"]["n_steps"] == 64
        assert run["eval_mean_return"] == trial["eval_return"]
    assert summary["best"]["eval_return"] == max(t["eval_return"] for t in trials)
    assert "best: lr=" in capsys.readouterr().out


def test_tune_search_space_from_grid_and_yaml(tmp_path, capsys):
    space_file = tmp_path / "space.yaml"
    space_file.write_text("gamma: [0.9, 0.99]\nlr: {loguniform: [1.0e-4, 1.0e-2]}\n")
    space = search_space(["n_steps=32,64"], space_file)
    assert space == {"gamma": [0.9, 0.99], "lr": {"loguniform": [1e-4, 1e-2]}, "n_steps": [32, 64]}
    with pytest.raises(Exception, match="--grid: expected NAME=V1,V2"):
        search_space(["lr"], None)
    # Every trial's configuration is checked before Ray starts.
    assert main(["tune", "ppo", "--env", "CartPole-v1", "--grid", "n_stepz=3,4"]) == 2
    assert "n_stepz: unknown hyperparameter" in capsys.readouterr().err
    assert main(["tune", "ppo", "--env", "CartPole-v1", "--grid", "n_steps=-3,4"]) == 2


def test_train_workers_selects_ray_actors():
    args = build_parser().parse_args(["train", "ppo", "--env", "CartPole-v1", "--preset", "none",
                                      "--workers", "2", "--envs-per-worker", "2", "--address", "auto"])
    plan = plan_training(args)
    assert plan.config["vectorization"] == "ray" and plan.config["num_envs"] == 4
    assert plan.config["address"] == "auto"
    bad = build_parser().parse_args(["train", "ppo", "--env", "CartPole-v1", "--workers", "2",
                                     "--num-envs", "3"])
    with pytest.raises(Exception, match="--workers: expected num_envs = workers"):
        plan_training(bad)
