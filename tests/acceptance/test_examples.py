"""Every example in ``examples/`` runs, with a small budget."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from examples_loader import EXAMPLES, load_example
from PIL import Image, ImageSequence

import plugrl


def test_every_example_is_covered():
    covered = {"cartpole_sarsa", "frozen_lake_q_learning", "cartpole_double_q",
               "frozen_lake_reinforce", "frozen_lake_actor_critic", "frozen_lake_sac", "pendulum_ppo",
               "pyrado_ppo_cartpole", "deepchem_a2c_cartpole", "tf_agents_ppo_cartpole",
               "atari_pong_ppo", "atari_pong_dqn", "connect_four_mcts", "alphazero_connect_four",
               "pyrado_svpg_cartpole", "dqn_her_bit_flipping", "deepchem_ppo_hindsight",
               "ppo_lstm_masked_cartpole"}
    assert {p.stem for p in EXAMPLES.glob("[!_]*.py")} == covered


def test_readme_main_job_trains_ppo_on_cartpole(tmp_path):
    """The README's main job, as a user runs it (into a temporary run directory)."""
    proc = subprocess.run(["plugrl", "train", "ppo", "--env", "CartPole-v1", "--run-dir",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "run.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] >= 100_000
    assert summary["eval_mean_return"] >= 475
    for name in ("agent", "tensorboard", "learning_curve.png", "episode.gif", "history.json"):
        assert (tmp_path / "run" / name).exists()


def test_cartpole_sarsa_example_prints_progress_and_success():
    """The seed's CartPole SARSA example, as a user runs it."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "examples/cartpole_sarsa.py"], cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "episode   1:" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("Solved")


def test_frozen_lake_example_runs(capsys):
    result = load_example("frozen_lake_q_learning").main(num_episodes=30, seed=0)
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert last_line.startswith("Solved" if result["greedy_return"] == 1.0 else "Not solved")


def test_cartpole_double_q_example_runs(capsys):
    result = load_example("cartpole_double_q").main(num_steps=1500, seed=0, target_sync_steps=200)
    assert len(result["returns"]) > 10
    assert "Best average return over 10 episodes" in capsys.readouterr().out


def test_pendulum_ppo_example_runs(capsys):
    result = load_example("pendulum_ppo").main(num_steps=1200, seed=0, rollout_length=512,
                                               num_epochs=2)
    assert len(result["returns"]) == 6
    assert "Best average return over 10 episodes" in capsys.readouterr().out


def test_pyrado_ppo_cartpole_example_solves_cartpole(capsys, tmp_path):
    """pyrado's set-up (policy and GAE critic objects, num_workers, min_steps, save_dir,
    max_iter, train) at its budget."""
    result = load_example("pyrado_ppo_cartpole").main(num_steps=36_000, seed=0, save_dir=str(tmp_path))
    assert result["mean_return"] >= 195
    assert [p.name for p in tmp_path.glob("ckpt-*")] == [f"ckpt-{result['agent'].num_steps:012d}"]
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("Solved")


def test_pyrado_svpg_example_gets_a_particle_to_the_maximum(capsys):
    """pyrado's SVPG set-up (an A2C blueprint particle, horizon, max_iter, train,
    iter_particles) on the fast path: the best particle balances the pole to the end."""
    result = load_example("pyrado_svpg_cartpole").main(steps_per_particle=48_000, seed=0)
    agent = result["agent"]
    assert result["returns"].max() >= 475 and len(result["returns"]) == 8
    assert agent.num_steps == 8 * 48_000 and len(agent.history) == 48_000 // (16 * 8)
    assert "best particle" in capsys.readouterr().out.strip().splitlines()[-1]


def test_deepchem_example_learns_cartpole(capsys):
    """A DeepChem user's Policy subclass and PPO with DeepChem's names and a Keras optimizer
    solve CartPole (~10-15 s); its A2C variant runs."""
    example = load_example("deepchem_a2c_cartpole")
    result = example.main(total_steps=50_000, seed=1)
    assert result["eval_return"] >= 195
    assert "greedy return" in capsys.readouterr().out
    a2c = example.main(total_steps=320, seed=0, algorithm="a2c", verbose=False)["agent"]
    assert a2c.num_steps == 320 and a2c.config.batch_size == 160  # one step per rollout


def test_tf_agents_example_learns_cartpole(capsys):
    """A TF-Agents user's separate actor and value networks and observation normaliser solve
    CartPole with PPO (~10 s)."""
    result = load_example("tf_agents_ppo_cartpole").main(total_steps=40_000, seed=0)
    assert result["eval_return"] >= 195
    assert result["agent"].normalizer.count == 40_960
    assert "mean log-probability" in capsys.readouterr().out


def test_lstm_example_runs_on_masked_cartpole(capsys):
    """PPO with an LSTM on velocity-masked CartPole, the fast path, then played with DeepChem's
    saved states on Gymnasium's masked CartPole (a small budget: it runs, it does not learn)."""
    result = load_example("ppo_lstm_masked_cartpole").main(total_steps=4096, eval_interval=2048)
    assert [steps for steps, _ in result["curve"]] == [2048, 4096]
    assert len(result["returns"]) == 5 and all(r >= 8 for r in result["returns"])
    assert "LSTM of 64: on Gymnasium's masked CartPole" in capsys.readouterr().out


def check_pong_run(result: dict, printed: str, log: str, tmp_path: Path, capacity: int) -> None:
    """What both Pong examples must have done: 100-step episodes, one 6-frame GIF of episode 2,
    a buffer that stores each 105 x 80 frame once, progress lines."""
    assert result["steps"] == len(result["returns"]) * 100 and result["episodes"] >= 2
    assert result["gifs"] == [str(tmp_path / "ep000002.gif")]
    frames = iio.imread(result["gifs"][0], index=None)
    assert frames.shape[1:] == (420, 320, 3)
    # a frame after the reset and one per step, 50 ms each; the GIF merges identical neighbours
    with Image.open(result["gifs"][0]) as gif:
        assert sum(frame.info["duration"] for frame in ImageSequence.Iterator(gif)) == 6 * 50
    buffer = result["buffer"]
    assert buffer.frame_stack_axis == 2  # FrameStacker's last axis, read from the env
    assert buffer.nbytes == capacity * (105 * 80 + 24)  # a frame, not a stack of 3, per slot
    assert "ep: 2, T: 200, G: " in log  # TrainMonitor's line
    assert f"{result['steps']} steps, {result['episodes']} episodes" in printed


def test_atari_pong_ppo_example_runs(tmp_path, capsys, caplog):
    """keras-gym's Pong PPO notebook with a tiny budget (~15 s): two rounds of 4 updates."""
    result = load_example("atari_pong_ppo").main(
        num_steps=300, capacity=128, batch_size=32, num_epochs=1, max_episode_steps=100,
        gif_every=2, gif_dir=str(tmp_path), gif_max_steps=5)
    check_pong_run(result, capsys.readouterr().out, caplog.text, tmp_path, capacity=128)
    assert result["num_updates"] == 2 * 4  # full at T = 123 and 246 (episode starts take slots)
    # the heads start at zero (uniform policy, v = 0): the updates moved them
    s = result["buffer"].sample()[0][0]
    actor_critic = result["actor_critic"]
    assert np.ptp(actor_critic.policy.dist_params(s)) > 0 and actor_critic.v_func(s) != 0


def test_atari_pong_dqn_example_runs(tmp_path, capsys, caplog):
    """keras-gym's Pong DQN notebook with a tiny budget (~15 s) and a type-I Q-function."""
    example = load_example("atari_pong_dqn")
    assert [example.epsilon(T, 100) for T in (0, 50, 100, 150, 200, 300)] == \
        pytest.approx([1.0, 0.55, 0.1, 0.055, 0.01, 0.01])
    result = example.main(num_steps=200, capacity=500, warmup_steps=194, target_sync_steps=100,
                          max_episode_steps=100, gif_every=2, gif_dir=str(tmp_path),
                          gif_max_steps=5)
    check_pong_run(result, capsys.readouterr().out, caplog.text, tmp_path, capacity=500)
    q = result["q"]
    assert isinstance(q, plugrl.QTypeI) and result["num_updates"] == 6
    assert np.ptp(q(result["buffer"].sample()[0][0])) > 0  # the zero head learned


def test_connect_four_mcts_example_learns_on_a_small_board(capsys):
    """keras-gym's loop of MCTSNode searches and ActorCritic updates: after 30 games of
    self-play the searcher beats a random player (measured 0.75 before, 0.95 after 40 games)."""
    result = load_example("connect_four_mcts").main(episodes=30, simulations=24, eval_games=20)
    assert len(result["losses"]) == 30 and np.all(np.isfinite(result["losses"]))
    assert result["score_after"] >= 0.85
    assert "score against a random player" in capsys.readouterr().out


def test_alphazero_connect_four_example_trains_and_scores(tmp_path, capsys):
    """The AlphaZero script's training (a few seconds on the small board) and its arena table."""
    example = load_example("alphazero_connect_four")
    agent = example.train(0.1, str(tmp_path / "run"), board=(4, 5, 3), num_games=16,
                          num_simulations=8, updates_per_iteration=8, arena_games=4)
    assert agent.history and all("minutes" in record for record in agent.history)
    assert (tmp_path / "run").is_dir() and any((tmp_path / "run").iterdir())
    results = example.evaluate(agent, ["random"], 10)
    wins, draws, losses, score = results["random"]
    assert wins + draws + losses == 10 and score == (wins + draws / 2) / 10
    assert "min" in capsys.readouterr().out



def test_dqn_her_bit_flipping_example_solves_6_bits(capsys):
    result = load_example("dqn_her_bit_flipping").main(n_bits=6, total_steps=2500, seed=0)
    assert result["success_rate"] >= 0.9
    assert "DQN + HER on 6-bit flipping after 2500 steps: success rate" in capsys.readouterr().out


def test_deepchem_ppo_hindsight_example_runs(capsys):
    result = load_example("deepchem_ppo_hindsight").main(n_bits=4, total_steps=2048, seed=0)
    assert result["agent"].hindsight is not None and 0.0 <= result["success_rate"] <= 1.0
    assert "PPO with hindsight on 4-bit flipping after 2048 steps" in capsys.readouterr().out
