"""Tests of plugrl.utils.checkpoints: round trips, atomic replacement, corruption, pruning."""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import pytest

import plugrl
from plugrl.utils.checkpoints import (
    FORMAT_VERSION,
    CheckpointError,
    checkpoint_name,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    rng_from_json,
    rng_state_to_json,
    save_checkpoint,
)


def _arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "actor/dense/kernel": rng.normal(size=(4, 3)).astype(np.float32),
        "actor/dense/bias": np.arange(3, dtype=np.float64),
        "critic/steps": np.array(7, dtype=np.int64),  # zero-dimensional
        "mask": np.array([True, False, True]),
        "obs/uint8": rng.integers(0, 255, size=(2, 3, 4), dtype=np.uint8),
        "half": np.array([0.5, -1.25], dtype=np.float16),
        "complex": np.array([1 + 2j], dtype=np.complex64),
        "empty": np.zeros((0, 5), dtype=np.int32),
        "labels": np.array(["left", "right"]),
        "a0": np.array([-(2**62)], dtype=np.int64),  # clashes with a positional npz key
    }


def _save(directory: pathlib.Path, name: str = "ckpt", **overrides) -> pathlib.Path:
    kwargs = {"agent_type": "DQN", "config": {"lr": 1e-3}, "state": {"step": 1},
              "arrays": {"w": np.ones(3)}}
    kwargs.update(overrides)
    return save_checkpoint(directory, name, **kwargs)


def _scratch(directory: pathlib.Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith((".tmp-", ".old-"))]


def _edit_meta(path: pathlib.Path, **changes) -> None:
    meta = json.loads((path / "checkpoint.json").read_text())
    meta.update(changes)
    (path / "checkpoint.json").write_text(json.dumps(meta))


def test_round_trip_of_arrays_config_and_state(tmp_path):
    arrays = _arrays()
    config = {"gamma": np.float32(0.5), "layers": (64, 64), "opt": {"name": "adam", "b": [0.9]},
              "huge": 2**100, "clip": None, "flag": True, "inf": float("inf")}
    state = {"step": np.int64(12345), "schedule": {"eps": 0.1, "nested": {"k": [1, 2]}}}
    path = save_checkpoint(tmp_path, "c", agent_type="PPO", config=config, state=state,
                           arrays=arrays)
    assert path == tmp_path / "c"
    loaded = load_checkpoint(path, expected_agent_type="PPO")
    assert list(loaded.arrays) == list(arrays)
    for name, array in arrays.items():
        assert loaded.arrays[name].dtype == array.dtype, name
        assert loaded.arrays[name].shape == array.shape, name
        np.testing.assert_array_equal(loaded.arrays[name], array)
    assert loaded.config == {"gamma": 0.5, "layers": [64, 64], "opt": {"name": "adam", "b": [0.9]},
                             "huge": 2**100, "clip": None, "flag": True, "inf": float("inf")}
    assert loaded.state == {"step": 12345, "schedule": {"eps": 0.1, "nested": {"k": [1, 2]}}}
    assert (loaded.agent_type, loaded.format_version) == ("PPO", FORMAT_VERSION)
    assert loaded.plugrl_version == plugrl.__version__
    assert _scratch(tmp_path) == []


@pytest.mark.parametrize("bit_generator", ["PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"])
def test_rng_state_survives_a_checkpoint(tmp_path, bit_generator):
    rng = np.random.Generator(getattr(np.random, bit_generator)(1234))
    rng.random(5)
    rng.integers(0, 10, dtype=np.uint32)  # leaves a buffered 32-bit half in the state
    path = _save(tmp_path, state={"rng": rng_state_to_json(rng)})
    restored = rng_from_json(load_checkpoint(path).state["rng"])
    np.testing.assert_array_equal(restored.random(10), rng.random(10))
    np.testing.assert_array_equal(restored.integers(0, 2**62, size=4),
                                  rng.integers(0, 2**62, size=4))


def test_rng_json_holds_no_number_a_double_cannot_represent():
    state = rng_state_to_json(np.random.default_rng(99))

    def numbers(value):
        if isinstance(value, dict):
            return [n for item in value.values() for n in numbers(item)]
        if isinstance(value, list):
            return [n for item in value for n in numbers(item)]
        return [value] if isinstance(value, int | float) else []

    assert all(abs(n) < 2**53 for n in numbers(state))
    assert rng_from_json(json.loads(json.dumps(state))).random() == np.random.default_rng(
        99).random()


def test_rng_from_json_rejects_unknown_bit_generators():
    state = rng_state_to_json(np.random.default_rng(0))
    state["bit_generator"] = "os.system"
    with pytest.raises(ValueError, match="bit_generator"):
        rng_from_json(state)


def test_failed_save_keeps_the_previous_checkpoint_and_no_temporary_directory(tmp_path):
    path = _save(tmp_path, arrays={"w": np.full(3, 1.0)}, state={"step": 1})

    def write_extra(tmp_dir: pathlib.Path) -> None:
        (tmp_dir / "model.keras").write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _save(tmp_path, arrays={"w": np.full(3, 2.0)}, state={"step": 2}, write_extra=write_extra)
    loaded = load_checkpoint(path)
    assert loaded.state == {"step": 1}
    np.testing.assert_array_equal(loaded.arrays["w"], np.full(3, 1.0))
    assert not (path / "model.keras").exists()
    assert _scratch(tmp_path) == []


def test_failed_final_rename_puts_the_previous_checkpoint_back(tmp_path, monkeypatch):
    path = _save(tmp_path, state={"step": 1})
    real_rename = os.rename

    def rename(src, dst):
        if pathlib.Path(src).name.startswith(".tmp-") and pathlib.Path(dst) == path:
            raise OSError("interrupted")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="interrupted"):
        _save(tmp_path, state={"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(path).state == {"step": 1}
    assert _scratch(tmp_path) == []


def test_successful_save_replaces_the_previous_checkpoint(tmp_path):
    _save(tmp_path, state={"step": 1}, write_extra=lambda d: (d / "old.bin").write_bytes(b"x"))
    path = _save(tmp_path, state={"step": 2})
    assert load_checkpoint(path).state == {"step": 2}
    assert not (path / "old.bin").exists()
    assert _scratch(tmp_path) == []


def test_invalid_input_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match=r"arrays\['objs'\].*object"):
        _save(tmp_path, arrays={"objs": np.array([{}, None], dtype=object)})
    with pytest.raises(TypeError, match=r"config has key 1 of type int"):
        _save(tmp_path, config={1: "a"})
    with pytest.raises(TypeError, match=r"state\['f'\] is a function"):
        _save(tmp_path, state={"f": lambda: 0})
    with pytest.raises(ValueError, match="name must be one path component"):
        _save(tmp_path, name="a/b")
    with pytest.raises(ValueError, match="'arrays.npz'.*reserved"):
        _save(tmp_path, write_extra=lambda d: (d / "arrays.npz").write_bytes(b""))
    assert list(tmp_path.iterdir()) == []


def test_extra_files_are_checksummed(tmp_path):
    def write_extra(tmp_dir: pathlib.Path) -> None:
        (tmp_dir / "model.keras").write_bytes(b"weights" * 100)
        (tmp_dir / "sub").mkdir()
        (tmp_dir / "sub" / "notes.txt").write_text("hello")

    path = _save(tmp_path, write_extra=write_extra)
    load_checkpoint(path)
    (path / "sub" / "notes.txt").write_text("hellO")
    with pytest.raises(CheckpointError, match=r"notes.txt is corrupted or truncated"):
        load_checkpoint(path)
    (path / "sub" / "notes.txt").write_text("hello")
    (path / "model.keras").unlink()
    with pytest.raises(CheckpointError, match=r"corrupted or truncated: model.keras is missing"):
        load_checkpoint(path)


def test_truncated_arrays_are_detected_by_checksum(tmp_path):
    path = _save(tmp_path, arrays=_arrays())
    data = (path / "arrays.npz").read_bytes()
    (path / "arrays.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"arrays.npz is corrupted or truncated"):
        load_checkpoint(path)


def test_truncated_arrays_are_detected_even_with_a_matching_checksum(tmp_path):
    import hashlib

    path = _save(tmp_path, arrays=_arrays())
    data = (path / "arrays.npz").read_bytes()[:-100]
    (path / "arrays.npz").write_bytes(data)
    _edit_meta(path, checksums={"arrays.npz": hashlib.sha256(data).hexdigest()})
    with pytest.raises(CheckpointError, match=r"arrays.npz is corrupted or truncated"):
        load_checkpoint(path)


def test_arrays_differing_from_the_index_are_rejected(tmp_path):
    path = _save(tmp_path, arrays={"w": np.ones((2, 3), dtype=np.float32)})
    meta = json.loads((path / "checkpoint.json").read_text())
    meta["arrays"][0]["shape"] = [3, 2]
    (path / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"'w' has shape \(2, 3\).*expects shape \(3, 2\)"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", ["{not json", '{"hello": 1}', "[1, 2]",
                                     '{"format": "plugrl-checkpoint", "format_version": 1}'])
def test_foreign_json_is_not_a_plugrl_checkpoint(tmp_path, content):
    (tmp_path / "checkpoint.json").write_text(content)
    with pytest.raises(CheckpointError, match="not a plugrl checkpoint") as info:
        load_checkpoint(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_missing_or_foreign_directories_are_rejected(tmp_path):
    with pytest.raises(CheckpointError, match=r"no checkpoint at .*nowhere.*found nothing"):
        load_checkpoint(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(CheckpointError, match="not a plugrl checkpoint: checkpoint.json is miss"):
        load_checkpoint(tmp_path)


def test_newer_format_version_is_a_clear_error(tmp_path):
    path = _save(tmp_path)
    _edit_meta(path, format_version=FORMAT_VERSION + 1)
    with pytest.raises(CheckpointError, match=rf"written by a newer plugrl .*format version "
                       rf"{FORMAT_VERSION + 1}, this plugrl reads up to {FORMAT_VERSION}"):
        load_checkpoint(path)


def test_wrong_agent_type_is_a_clear_error(tmp_path):
    path = _save(tmp_path, agent_type="DQN")
    with pytest.raises(CheckpointError, match="is a checkpoint of a DQN agent, expected PPO"):
        load_checkpoint(path, expected_agent_type="PPO")
    assert load_checkpoint(path, expected_agent_type="DQN").agent_type == "DQN"


def test_checkpoint_name():
    assert checkpoint_name(12345) == "ckpt-000000012345"
    assert checkpoint_name(np.int64(0)) == "ckpt-000000000000"
    assert checkpoint_name(10**12) == "ckpt-1000000000000"
    for bad in (-1, 1.0, True):
        with pytest.raises(ValueError, match="step must be an int >= 0"):
            checkpoint_name(bad)


def test_list_and_latest_order_by_step_not_by_name(tmp_path):
    assert list_checkpoints(tmp_path / "missing") == []
    assert latest_checkpoint(tmp_path) is None
    steps = [10**12, 5, 999_999_999_999, 40]  # 10**12 sorts first by name, last by step
    for step in steps:
        _save(tmp_path, checkpoint_name(step))
    (tmp_path / "ckpt-000000000007").mkdir()  # no checkpoint.json: not a checkpoint
    (tmp_path / "ckpt-latest").mkdir()
    expected = [tmp_path / checkpoint_name(s) for s in sorted(steps)]
    assert list_checkpoints(tmp_path) == expected
    assert latest_checkpoint(str(tmp_path)) == tmp_path / checkpoint_name(10**12)


def test_prune_keeps_the_newest_and_leaves_other_files_alone(tmp_path):
    for step in (300, 1, 20, 4000):
        _save(tmp_path, checkpoint_name(step))
    others = {"notes.txt", "ckpt-000000000002.bak", "ckpt-000000000003", "best"}
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "ckpt-000000000002.bak").write_text("keep me")
    (tmp_path / "ckpt-000000000003").mkdir()
    _save(tmp_path, "best")
    deleted = prune_checkpoints(tmp_path, keep_last=2)
    assert deleted == [tmp_path / checkpoint_name(1), tmp_path / checkpoint_name(20)]
    names = {p.name for p in tmp_path.iterdir()}
    assert names == others | {checkpoint_name(300), checkpoint_name(4000)}
    assert prune_checkpoints(tmp_path, keep_last=5) == []
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="keep_last must be an int >= 1"):
            prune_checkpoints(tmp_path, bad)
