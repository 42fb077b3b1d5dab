"""Hyperparameter presets: YAML files that fill the agents' configuration dataclass.

One file per agent (``ppo.yaml``, ``a2c.yaml``, ...), one entry per Gymnasium id; the values
that come from RL-Zoo are marked as such in the files' comments.

Examples
--------
>>> from plugrl.presets import list_presets, load_preset
>>> config, total_steps = load_preset("ppo", "CartPole-v1")
>>> total_steps
100000
"""

from __future__ import annotations

from plugrl.agents.presets import (
    NON_CONFIG_KEYS,
    coerce_field,
    list_presets,
    load_preset,
    load_preset_file,
    split_preset,
)

__all__ = ["NON_CONFIG_KEYS", "coerce_field", "list_presets", "load_preset", "load_preset_file",
           "split_preset"]
