"""The README's Python examples run as written (with smaller budgets)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def leaves_ray_as_it_found_it():
    """The Ray block starts a local Ray instance in this test's process: shut it down after,
    unless an earlier test had started it, so that its workers hold no CPU of later tests."""
    started_before = "ray" in sys.modules and sys.modules["ray"].is_initialized()
    yield
    if not started_before and "ray" in sys.modules and sys.modules["ray"].is_initialized():
        sys.modules["ray"].shutdown()


def test_readme_python_examples_run(tmp_path, leaves_ray_as_it_found_it):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 12
    shrink = {"range(10_000)": "range(300)", "fit(100_000": "fit(2_000", '"runs/': f'"{tmp_path}/',
              "fit(50_000)": "fit(1_100)", "fit(20_000": "fit(300",
              "eval_interval=10_000": "eval_interval=1_024",
              "range(16)": "range(2)", "total_steps=50_000": "total_steps=512",
              'from_preset("ConnectFour-v0", seed=0)': 'from_preset("ConnectFour-v0", seed=0, num_games=8, '
              'num_simulations=4, updates_per_iteration=2, arena_games=2, arena_simulations=2)',
              "evaluate(200,": "evaluate(4,",
              "fit(400_000, eval_interval=100_000)": "fit(4_800, eval_interval=2_400)",
              "evaluate(5, particles": "evaluate(1, particles",
              "lstm.fit(150_000": "lstm.fit(512", "hindsight.fit(40_000)": "hindsight.fit(256)"}
    namespace: dict = {}
    after_block = []  # the names after each block (later blocks may reuse a name, such as s)
    for block in blocks:
        for old, new in shrink.items():
            block = block.replace(old, new)
        exec(compile(block, str(README), "exec"), namespace)
        after_block.append(dict(namespace))
    assert (tmp_path / "ppo" / "agent" / "checkpoint.json").is_file()
    assert namespace["agent"].num_steps >= 2_000
    assert namespace["dqn"].num_steps >= 1_100 and namespace["sac"].num_steps >= 300
    assert (tmp_path / "sac" / "checkpoints").is_dir()
    assert namespace["ppo"].num_steps >= 1_100 and (tmp_path / "dc").is_dir()  # DeepChem's
    assert namespace["policy_step"].state == ()  # TF-Agents'
    assert namespace["algo"].curr_iter == 3 and (tmp_path / "pyrado").is_dir()  # pyrado's
    assert after_block[6]["s"].shape == (105, 80, 4) and namespace["buffer"].frame_stack_axis == 2  # Atari
    assert namespace["pong"].num_steps >= 300
    assert namespace["node"].is_root and not namespace["done"]  # MCTSNode after play
    assert namespace["svpg"].num_steps == 4_800 and namespace["K"].shape == (8, 8)  # SVPG
    assert namespace["lstm"].num_steps >= 512 and len(namespace["step"].state) == 2  # recurrent
    assert namespace["her"].num_steps >= 300 and namespace["hindsight"].num_steps >= 256  # HER
    assert namespace["agent"].config.vectorization == "ray"  # the Ray block comes last
    assert namespace["alphazero"].num_steps >= 2_000 and -1 <= namespace["alphazero"].evaluate(2) <= 1
