"""Many runs at once on the fast path: seeds and traced hyperparameters under ``jax.vmap``."""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import jax
import numpy as np

from plugrl._backend.jax import TrainState, prng_key
from plugrl.agents.on_policy.fast_path import TRACED_FIELDS
from plugrl.agents.on_policy.fast_training import (
    EVAL_SEED_OFFSET,
    FastPath,
    hyperparameters,
)
from plugrl.agents.on_policy.learner import OnPolicyLearner
from plugrl.function_approximators.predefined.mlp import MLP

__all__ = ["ManyRuns", "initial_states", "run_of", "stack_runs", "train_many"]


@dataclasses.dataclass
class ManyRuns:
    """The results of :func:`train_many`: one row per run.

    Attributes
    ----------
    runs : list of dict
        Each run's seed and the hyperparameters it was given.
    update_steps : ndarray, shape ``[U]``
        Env steps after each iteration.
    train_returns : ndarray, shape ``[R, U]``
        Per run and iteration, the mean return of the episodes that ended in its rollout (NaN
        if none did).
    eval_steps : ndarray, shape ``[C]``
        Env steps at each evaluation (empty without ``eval_interval``).
    eval_returns : ndarray, shape ``[R, C]``
        Mean return of the deterministic evaluation episodes, per run and evaluation.
    states : TrainState
        The final learner states, stacked along a leading run axis.
    """

    runs: list[dict[str, Any]]
    update_steps: np.ndarray
    train_returns: np.ndarray
    eval_steps: np.ndarray
    eval_returns: np.ndarray
    states: TrainState

    def state(self, i: int) -> TrainState:
        """Run ``i``'s final learner state (``agent.learner.load_state`` takes it)."""
        return jax.tree_util.tree_map(lambda x: x[i], self.states)


def train_many(fast_path: FastPath, seeds: list[int], total_steps: int,
               eval_interval: int | None = None, **grid: list[Any]) -> ManyRuns:
    """Train one run per seed and combination of ``grid`` values at once, under ``jax.vmap``.

    Parameters
    ----------
    fast_path : FastPath
        The fast path of an agent made on a JAX environment; gives the learner, the
        configuration and the agent's seed (nothing of the agent changes; a run of the agent's
        seed starts from the learner's current state).
    seeds : list of int
        Run ``seed`` starts from the networks of ``PPO(env, seed=seed)`` (default MLPs; a custom
        ``function_approximator`` keeps the agent's initial weights for every run) and draws
        all its randomness from ``seed``, as ``fit`` does.
    total_steps : int
        Env steps per run.
    eval_interval : int, optional
        Evaluate every run with ``config.eval_episodes`` deterministic episodes every so many
        env steps (on the JAX environment, inside the compiled program; the episodes of run
        ``seed`` are those ``fit`` plays with that seed).
    **grid : list
        Values of traced hyperparameters (:data:`~plugrl.agents.on_policy.fast_path.TRACED_FIELDS`); every
        combination runs with every seed.
    """
    unknown = sorted(set(grid) - set(TRACED_FIELDS))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: expected hyperparameters that can be traced, one "
                         f"of {list(TRACED_FIELDS)}; others need one agent per value")
    combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    runs = [{"seed": int(seed), **combo} for combo in combos for seed in seeds]
    cfg = fast_path.learner.config
    size = cfg.n_steps * cfg.num_envs
    chunk = eval_interval or total_steps
    max_updates = math.ceil(chunk / size) + (1 if eval_interval else 0)
    trainer = fast_path.trainer(max_updates, cfg.eval_episodes if eval_interval else 0)
    states = initial_states(fast_path.learner, fast_path.seed, [r["seed"] for r in runs])
    carry = stack_runs([trainer.start(state, np.asarray(prng_key(r["seed"])))
                    for state, r in zip(states, runs)])
    hp = stack_runs([hyperparameters(cfg, **{k: v for k, v in r.items() if k != "seed"}) for r in runs])
    eval_keys = stack_runs([prng_key(r["seed"] + EVAL_SEED_OFFSET) for r in runs])
    steps, train_returns, eval_steps, eval_returns = 0, [], [], []
    while steps < total_steps:
        target = min(total_steps, (steps // chunk + 1) * chunk)
        n = max(1, math.ceil((target - steps) / size))
        args = (carry, hp, np.float32(total_steps), np.int32(n))
        chunk_fn, evaluation = trainer.compiled(*args, vmapped=True)
        carry, log = chunk_fn(*args)
        steps += n * size
        train_returns.append(np.asarray(log.mean_return)[:, :n])
        if eval_interval:
            eval_steps.append(steps)
            eval_returns.append(np.asarray(evaluation(carry.learner, carry.moments, eval_keys)))
    returns = np.concatenate(train_returns, axis=1)
    return ManyRuns(runs, size * np.arange(1, returns.shape[1] + 1), returns, np.asarray(eval_steps),
                    np.stack(eval_returns, axis=1) if eval_returns else np.zeros((len(runs), 0)),
                    carry.learner)


def stack_runs(trees: list[Any]) -> Any:
    """Pytrees of the same structure stacked along a new leading axis, on the host."""
    return jax.tree_util.tree_map(lambda *x: np.stack([np.asarray(v) for v in x]), *trees)


def run_of(stacked: Any, i: int) -> Any:
    """Run ``i``'s pytree of :func:`stack_runs`'s stack, on the host (one transfer per array,
    no slicing on the device)."""
    return jax.tree_util.tree_map(lambda x: np.asarray(x)[i], stacked)


def initial_states(learner: OnPolicyLearner, agent_seed: int, seeds: list[int]) -> list[TrainState]:
    """Each seed's initial learner state, built like the agent's own networks."""
    default = isinstance(learner.policy.function_approximator, MLP)
    states = {}
    for seed in dict.fromkeys(seeds):
        if seed == agent_seed or not default:
            states[seed] = learner.state
        else:
            states[seed] = OnPolicyLearner(learner.observation_space, learner.action_space,
                                           learner.config, seed).state
    return [states[s] for s in seeds]
