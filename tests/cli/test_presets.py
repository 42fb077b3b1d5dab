"""Presets: every YAML entry builds a valid configuration; lookups fail with the valid names."""

from __future__ import annotations

import importlib.resources

import pytest

import plugrl  # noqa: F401  (selects the JAX backend before Keras loads)
from plugrl.agents import AGENTS, PPO
from plugrl.agents.config import build_config
from plugrl.presets import (
    NON_CONFIG_KEYS,
    coerce_field,
    list_presets,
    load_preset,
    load_preset_file,
)

ALL_PRESETS = [(agent, env) for agent, envs in list_presets().items() for env in envs]


def test_list_presets_covers_the_required_envs():
    presets = list_presets()
    assert set(presets) == set(AGENTS)
    assert {"CartPole-v1", "Acrobot-v1", "Pendulum-v1"} <= set(presets["PPO"])
    assert {"CartPole-v1", "Acrobot-v1", "Pendulum-v1"} <= set(presets["PPO2"])
    for agent in ("A2C", "REINFORCE"):
        assert {"CartPole-v1", "Acrobot-v1"} <= set(presets[agent])


@pytest.mark.parametrize(("agent", "env_id"), ALL_PRESETS)
def test_every_preset_builds_a_valid_config(agent, env_id):
    overrides, total_steps = load_preset(agent, env_id)
    config = build_config(AGENTS[agent].CONFIG, AGENTS[agent].config_defaults(overrides), overrides)
    assert isinstance(config, AGENTS[agent].CONFIG)
    assert not set(overrides) & set(NON_CONFIG_KEYS)
    assert isinstance(total_steps, int) and total_steps > 0
    # every value in the file is what the field holds, not a string YAML left unparsed
    for name, value in overrides.items():
        assert getattr(config, name) == value


def test_ppo_cartpole_is_rl_zoo_exactly():
    overrides, total_steps = load_preset("PPO", "CartPole-v1")
    assert overrides == {"num_envs": 8, "n_steps": 32, "batch_size": 256, "gae_lambda": 0.8,
                         "gamma": 0.98, "num_epoch": 20, "entropy_coeff": 0.0,
                         "lr": "lin_0.001", "clip": "lin_0.2"}
    assert total_steps == 100_000


def test_rl_zoo_acrobot_and_pendulum_for_ppo():
    acrobot, acrobot_steps = load_preset("ppo", "Acrobot-v1")
    assert acrobot["normalize_observations"] is True
    assert (acrobot["num_envs"], acrobot["n_steps"], acrobot["num_epoch"]) == (16, 256, 4)
    assert (acrobot["gae_lambda"], acrobot["gamma"], acrobot_steps) == (0.94, 0.99, 1_000_000)
    pendulum, pendulum_steps = load_preset("ppo", "Pendulum-v1")
    assert (pendulum["num_envs"], pendulum["n_steps"], pendulum["batch_size"]) == (4, 1024, 64)
    assert (pendulum["gamma"], pendulum["lr"], pendulum["clip"], pendulum_steps) == (0.9, 1e-3, 0.2, 100_000)


def test_agent_names_are_case_insensitive():
    assert load_preset("ppo", "CartPole-v1") == load_preset("PPO", "CartPole-v1")


def test_unknown_agent_lists_the_valid_ones():
    with pytest.raises(ValueError, match="PPO2") as info:
        load_preset("PPX", "CartPole-v1")
    assert all(name in str(info.value) for name in AGENTS)


def test_unknown_env_lists_the_presets_and_close_matches():
    with pytest.raises(ValueError, match="did you mean CartPole-v1") as info:
        load_preset("PPO", "CartPol-v1")
    assert "Pendulum-v1" in str(info.value)


def test_yaml_files_ship_inside_the_package():
    names = {p.name for p in importlib.resources.files("plugrl.presets").iterdir()}
    assert {"ppo.yaml", "ppo2.yaml", "a2c.yaml", "reinforce.yaml"} <= names


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("lr", "1e-3", 1e-3),               # YAML 1.1 would keep this a string
    ("lr", "lin_0.001", "lin_0.001"),
    ("clip_value", "none", None),
    ("clip_value", "0.2", 0.2),
    ("hidden_sizes", "32,32", (32, 32)),
    ("hidden_sizes", "[8, 4]", (8, 4)),
    ("standardize_advantages", "false", False),
    ("n_steps", "64", 64),
    ("max_rollout_length", "64", 64),   # aliases are typed as their field
    ("gamma", 1, 1.0),
])
def test_coerce_field_parses_by_the_field_type(name, text, expected):
    assert coerce_field(name, text) == expected


@pytest.mark.parametrize(("name", "value"), [("n_steps", "6.4"), ("n_steps", True),
                                             ("gamma", "abc"), ("hidden_sizes", "a,b")])
def test_coerce_field_rejects_values_of_the_wrong_type(name, value):
    with pytest.raises(TypeError, match=name):
        coerce_field(name, value)


def test_preset_file_flat_or_per_env(tmp_path):
    flat = tmp_path / "flat.yaml"
    flat.write_text("n_steps: 64\nlr: 1.0e-3\ntotal_steps: 5000\n")
    assert load_preset_file(flat, agent_name="ppo") == ({"n_steps": 64, "lr": 1e-3}, 5000)
    per_env = tmp_path / "per_env.yaml"
    per_env.write_text("CartPole-v1:\n  gamma: 0.9\n")
    assert load_preset_file(per_env, "CartPole-v1") == ({"gamma": 0.9}, None)
    bad = tmp_path / "bad.yaml"
    bad.write_text("n_step: 64\n")
    with pytest.raises(ValueError, match="did you mean n_steps"):
        load_preset_file(bad, agent_name="ppo")


def test_from_preset_applies_the_preset_and_overrides_win():
    agent = PPO.from_preset("CartPole-v1", seed=0, num_envs=1, n_steps=32, batch_size=32)
    assert (agent.config.gamma, agent.config.gae_lambda, agent.config.lr) == (0.98, 0.8, "lin_0.001")
    assert (agent.config.num_envs, agent.config.n_steps, agent.seed) == (1, 32, 0)
    agent.envs.close()
