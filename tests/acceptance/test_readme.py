"""The README's Python examples run as written (with smaller budgets)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_examples_run(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 7
    shrink = {"range(10_000)": "range(300)", "fit(100_000": "fit(2_000", '"runs/': f'"{tmp_path}/',
              "fit(50_000)": "fit(1_100)", "fit(20_000": "fit(300",
              "eval_interval=10_000": "eval_interval=1_024",
              "range(16)": "range(2)", "total_steps=50_000": "total_steps=512"}
    namespace: dict = {}
    for block in blocks:
        for old, new in shrink.items():
            block = block.replace(old, new)
        exec(compile(block, str(README), "exec"), namespace)
    assert (tmp_path / "ppo" / "agent" / "checkpoint.json").is_file()
    assert namespace["agent"].num_steps >= 2_000
    assert namespace["dqn"].num_steps >= 1_100 and namespace["sac"].num_steps >= 300
    assert (tmp_path / "sac" / "checkpoints").is_dir()
    assert namespace["ppo"].num_steps >= 1_100 and (tmp_path / "dc").is_dir()  # DeepChem's
    assert namespace["policy_step"].state == ()  # TF-Agents'
    assert namespace["algo"].curr_iter == 3 and (tmp_path / "pyrado").is_dir()  # pyrado's
    assert namespace["s"].shape == (105, 80, 4) and namespace["buffer"].frame_stack_axis == 2  # Atari
    assert namespace["pong"].num_steps >= 300
