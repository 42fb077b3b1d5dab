"""Saving, loading and checkpointing agents in the safe checkpoint format.

An agent is stored as a checkpoint directory (:mod:`plugrl.utils.checkpoints`): every array
of the learner's state (weights, optimizer state), the JAX key, the actions of each
environment's current episode and the agent's own arrays (the observation normaliser's
statistics, the replay buffer) in ``arrays.npz``; the configuration, counters, training
history, the NumPy generators' states and how each current episode began in JSON; and the
agent's networks as Keras model files. Replaying the current
episodes (:mod:`plugrl.samplers.replay`) makes a resumed run continue exactly where the saved
one stopped.

A directory of checkpoints (an agent's ``model_dir``) belongs to one *run*: every checkpoint
records the ``run_id`` of the agent that wrote it (a restored agent takes over the run it
restores). A run prunes only its own checkpoints, "latest" means the newest of the run, and a
new run does not start in a directory holding another run's checkpoints unless told to
overwrite them (:func:`claim_directory`), so an older run can neither prune a fresh one away
nor be resumed in its place.
"""

from __future__ import annotations

import dataclasses
import pathlib
import tempfile
from typing import TYPE_CHECKING, Any

import numpy as np

from plugrl._backend import keras
from plugrl.samplers import episode_logs, replay_episodes, replays_episodes

if TYPE_CHECKING:
    from plugrl.agents.run_control import RunControl
from plugrl.utils.checkpoints import (
    CheckpointError,
    checkpoint_name,
    checkpoint_state,
    delete_checkpoint,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    rng_from_json,
    rng_state_to_json,
    save_checkpoint,
)

__all__ = ["checkpoint_files", "claim_directory", "latest_agent_checkpoint", "load_agent",
           "restore_agent", "restore_checkpoint_files", "run_checkpoints", "save_agent", "save_agent_to",
           "tree_arrays", "tree_from_arrays"]

_HISTORY_KEPT = 10_000
_EPISODES_KEPT = 1000


def save_agent_to(agent: Any, path: str | pathlib.Path) -> pathlib.Path:
    """Save ``agent`` as the checkpoint directory ``path`` (replaced atomically if it exists)."""
    path = pathlib.Path(path)
    logs = episode_logs(agent.envs) if replays_episodes(agent.envs) else []
    own_arrays, own_state = agent.checkpoint_parts()
    return save_checkpoint(path.parent, path.name, agent_type=agent.AGENT_TYPE,
                           config=_config_json(agent), state=_state_json(agent, logs, own_state),
                           arrays={**_arrays(agent, logs), **own_arrays},
                           write_extra=lambda tmp: _write_models(agent, tmp))


def save_agent(agent: Any, directory: str | pathlib.Path, keep_last: int = 5) -> pathlib.Path:
    """Write a checkpoint of the agent's run, named after its step count, and keep the newest
    ``keep_last`` checkpoints of that run (other runs' checkpoints are never touched)."""
    path = save_agent_to(agent, pathlib.Path(directory) / checkpoint_name(agent.num_steps))
    prune_checkpoints(directory, keep_last, among=lambda p: _run_of(p) == agent.run_id)
    return path


def run_checkpoints(directory: str | pathlib.Path) -> dict[str | None, list[pathlib.Path]]:
    """The checkpoints in ``directory`` by the run that wrote them (oldest first); checkpoints
    of plugrl versions that did not record runs fall under ``None``."""
    runs: dict[str | None, list[pathlib.Path]] = {}
    for path in list_checkpoints(directory):
        runs.setdefault(_run_of(path), []).append(path)
    return runs


def latest_agent_checkpoint(directory: str | pathlib.Path, run_id: str | None = None) -> pathlib.Path | None:
    """The newest checkpoint of run ``run_id`` in ``directory`` if it has any, else of the one
    run the directory holds; None when it holds none (or is missing).

    Raises
    ------
    CheckpointError
        When the directory holds several other runs and none of ``run_id``: which to resume
        would be a guess.
    """
    runs = run_checkpoints(directory)
    if run_id in runs:
        return runs[run_id][-1]
    if len(runs) > 1:
        raise CheckpointError(f"{directory}: expected the checkpoints of one run, found "
                              f"{len(runs)} runs ({_describe(runs)}); move all but one elsewhere")
    return next(iter(runs.values()))[-1] if runs else None


def claim_directory(agent: Any, directory: str | pathlib.Path, overwrite: bool = False) -> None:
    """Make ``directory`` the agent's checkpoint directory for its run: another run's
    checkpoints there are an error, or are deleted with ``overwrite=True``.

    Raises
    ------
    FileExistsError
        Naming the directory and the other runs, and the two ways on.
    """
    others = {run: paths for run, paths in run_checkpoints(directory).items() if run != agent.run_id}
    if not others:
        return
    if not overwrite:
        raise FileExistsError(
            f"model_dir: {directory} holds checkpoints of another run ({_describe(others)}); "
            "pass restore=True to continue it, overwrite=True to delete them, or choose another "
            "model_dir")
    for paths in others.values():
        for path in paths:
            delete_checkpoint(path)


def load_agent(agent_class: type[RunControl] | None, path: str | pathlib.Path, **overrides: Any) -> Any:
    """Rebuild an agent from a checkpoint: same env id, seed and configuration, restored state.

    ``agent_class`` is the class the checkpoint must hold (a registered agent), or None for
    whichever agent it holds. ``overrides`` may change settings that do not alter the learner
    (e.g. ``vectorization``).
    """
    from plugrl.agents import AGENTS

    expected = None if agent_class is None or agent_class.AGENT_TYPE not in AGENTS else agent_class.AGENT_TYPE
    checkpoint = load_checkpoint(path, expected_agent_type=expected)
    agent_class = AGENTS[checkpoint.agent_type]
    env_id = checkpoint.state.get("env_id")
    if env_id is None:
        raise CheckpointError(f"{path}: the agent was saved without a Gymnasium env id, "
                              "so its environment cannot be rebuilt")
    agent = agent_class(env_id, seed=checkpoint.state["seed"], **{**checkpoint.config, **overrides})
    _restore(agent, checkpoint)
    return agent


def restore_agent(agent: Any, path: str | pathlib.Path) -> None:
    """Restore the state of a checkpoint into an agent of the same type and configuration."""
    checkpoint = load_checkpoint(path, expected_agent_type=agent.AGENT_TYPE)
    config = _config_json(agent)
    if checkpoint.config != config:
        changed = sorted(k for k in checkpoint.config if checkpoint.config[k] != config.get(k))
        raise CheckpointError(f"{path}: expected a checkpoint with the agent's configuration, "
                              f"got different values for {changed}")
    _restore(agent, checkpoint)


def checkpoint_files(agent: Any) -> dict[str, bytes]:
    """The files of a checkpoint of ``agent``, keyed by relative path (to pickle an agent)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_agent_to(agent, pathlib.Path(tmp) / "agent")
        return {str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()}


def restore_checkpoint_files(agent: Any, files: dict[str, bytes]) -> None:
    """Restore into ``agent`` the checkpoint that :func:`checkpoint_files` returned."""
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "agent"
        for name, content in files.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_bytes(content)
        restore_agent(agent, path)


def _run_of(path: pathlib.Path) -> str | None:
    return checkpoint_state(path).get("run_id")


def _describe(runs: dict[str | None, list[pathlib.Path]]) -> str:
    return "; ".join(f"run {run or '(unrecorded)'}: {len(paths)} checkpoints up to {paths[-1].name}"
                     for run, paths in runs.items())


def _restore(agent: Any, checkpoint: Any) -> None:
    arrays, state = checkpoint.arrays, checkpoint.state
    agent.learner.load_state(tree_from_arrays(
        agent.learner.state, arrays, "learner", f"{checkpoint.path}: ",
        "; build the agent from the same objects it was saved with (policy=, critic=, "
        "function_approximator=, networks)"))
    agent.restore_parts(arrays, state)
    agent.num_steps = int(state["num_steps"])
    agent.run_id = state.get("run_id")  # None: written before runs were recorded
    agent.curr_iter = int(state.get("curr_iter", len(state["history"])))
    agent.history = list(state["history"])
    if not state.get("episodes_replayed", True):
        agent.sampler.load_state(*_restarted_episodes(agent, state["sampler"]))
        agent.episodes_restarted()
        return
    logs = [{"seed": env["seed"], "rng": None if env["rng"] is None else rng_from_json(env["rng"]),
             "actions": arrays[f"env/{i}/actions"]} for i, env in enumerate(state["envs"])]
    agent.sampler.load_state(state["sampler"], replay_episodes(agent.envs, logs))


def _restarted_episodes(agent: Any, sampler_state: dict[str, Any]) -> tuple[dict[str, Any], np.ndarray]:
    """The sampler's state and observations after new episodes start in every env: a native
    vector env (ale-py's) cannot replay the episodes it was in. Its reset seed follows from the
    agent's seed and step count, so that restoring twice gives the same episodes."""
    seed = int(np.random.SeedSequence([agent.seed, agent.num_steps]).generate_state(1)[0])
    S, _ = agent.envs.reset(seed=seed)
    num_envs = agent.envs.num_envs
    return {**sampler_state, "returns": [0.0] * num_envs, "lengths": [0] * num_envs,
            "episode_starts": [True] * num_envs}, S


def tree_arrays(tree: Any, prefix: str) -> dict[str, np.ndarray]:
    """A checkpoint's arrays of a pytree (a train state): leaf ``i`` as ``"<prefix>/<i>"``."""
    return {f"{prefix}/{i}": np.asarray(x) for i, x in enumerate(keras.tree.flatten(tree))}


def tree_from_arrays(template: Any, arrays: Any, prefix: str, where: str = "", hint: str = "") -> Any:
    """The pytree that :func:`tree_arrays` saved under ``prefix``, structured as ``template``.

    Raises
    ------
    CheckpointError
        If the checkpoint holds another number of arrays, or an array of another shape, than
        ``template`` (``where`` starts the message, ``hint`` ends the first).
    """
    expected = keras.tree.flatten(template)
    stored = sum(name.startswith(f"{prefix}/") for name in arrays)
    if stored != len(expected):
        raise CheckpointError(f"{where}expected a {prefix} of {len(expected)} arrays, the "
                              f"checkpoint's has {stored}{hint}")
    leaves = [arrays[f"{prefix}/{i}"] for i in range(len(expected))]
    for i, (old, new) in enumerate(zip(expected, leaves)):
        if tuple(np.shape(old)) != tuple(new.shape):
            raise CheckpointError(f"{where}{prefix}/{i}: expected shape {np.shape(old)}, got {new.shape}")
    return keras.tree.pack_sequence_as(template, leaves)


def _arrays(agent: Any, logs: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    arrays = tree_arrays(agent.learner.state, "learner")
    for i, log in enumerate(logs):
        arrays[f"env/{i}/actions"] = np.asarray(log["actions"])
    return arrays


def _state_json(agent: Any, logs: list[dict[str, Any]], own_state: dict[str, Any]) -> dict[str, Any]:
    return {
        "env_id": agent.env_id,
        "seed": agent.seed,
        "num_steps": agent.num_steps,
        "run_id": agent.run_id,
        "curr_iter": agent.curr_iter,
        "history": agent.history[-_HISTORY_KEPT:],
        "rng": own_state["rng"],
        "sampler": _sampler_state(agent.sampler),
        "envs": [{"seed": log["seed"], "rng": None if log["rng"] is None else rng_state_to_json(log["rng"])}
                 for log in logs],
        "episodes_replayed": replays_episodes(agent.envs),
        "extra": own_state["extra"],
    }


def _sampler_state(sampler: Any) -> dict[str, Any]:
    state = sampler.state()
    for key in ("episode_returns", "episode_lengths"):
        state[key] = state[key][-_EPISODES_KEPT:]
    return state


def _config_json(agent: Any) -> dict[str, Any]:
    config = dataclasses.asdict(agent.config)
    for name, value in config.items():
        if callable(value):
            raise CheckpointError(f"{name}: a callable schedule cannot be saved; use a float or "
                                  f"'lin_<float>', got {value!r}")
    return {name: list(value) if isinstance(value, tuple) else value for name, value in config.items()}


def _write_models(agent: Any, directory: pathlib.Path) -> None:
    """The agent's networks as Keras model files, for use outside plugrl."""
    for name, model in agent.keras_models().items():
        model.save(directory / f"{name}.keras")
