"""SVPG on the fast path: every particle's rollouts and the joint Stein update in one program.

The on-policy fast path's compiled chunk (:class:`~plugrl.agents.on_policy.fast_path.FastTrainer`)
runs mapped over the particles with a named axis, as
:func:`~plugrl.agents.on_policy.fast_many.train_many` runs seeds, except that the learner's gradient
hook gathers all particles' gradients at every optimizer step
(:func:`~plugrl.updaters.stein.stein_gradient_hook`): the particles collect, compute their own
gradients and move together, all inside one ``jax.jit``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from plugrl._backend.jax import TrainState, prng_key
from plugrl.agents.on_policy.fast_many import run_of, stack_runs
from plugrl.agents.on_policy.fast_training import (
    EVAL_SEED_OFFSET,
    FastPath,
    hyperparameters,
    mean_episode_return,
)
from plugrl.updaters.stein import PARTICLES

__all__ = ["FastParticles", "ParticlesState"]


class ParticlesState(NamedTuple):
    """What a chunk takes from the SVPG agent and gives back: per particle, stacked."""

    learner: TrainState  # [n, ...]
    keys: np.ndarray  # [n, 2] raw JAX keys
    steps: int  # env steps so far, per particle


class FastParticles:
    """The compiled SVPG chunk of an agent made on a JAX environment.

    Parameters
    ----------
    fast_path : FastPath
        The agent's fast path (its learner carries the Stein gradient hook).
    num_particles : int
        The particles, the leading axis of every state.
    """

    def __init__(self, fast_path: FastPath, num_particles: int) -> None:
        self.fast_path, self.num = fast_path, num_particles
        self._carry: Any = None

    def iteration(self, state: ParticlesState, total_steps: int,
                  eval_seed: int) -> tuple[ParticlesState, dict[str, Any]]:
        """One chunk from ``state`` up to the next multiple of the fast path's ``chunk_steps``
        (in env steps of all particles) or ``total_steps``; returns the new state and the
        chunk's results: ``"steps"``, ``"episodes"`` and ``"returns"`` per particle (the mean
        return of the episodes that ended in the chunk, NaN if none), and ``"eval_returns"``
        per particle when the fast path evaluates."""
        trainer, num_updates = self.fast_path.plan_chunk(state.steps * self.num, total_steps, self.num)
        hp = stack_runs([hyperparameters(self.fast_path.learner.config)] * self.num)
        args = (self._current_carry(trainer, state), hp, np.float32(total_steps / self.num),
                np.int32(num_updates))
        chunk_fn, evaluation = trainer.compiled(*args, vmapped=True, axis_name=PARTICLES)
        carry, log = chunk_fn(*args)
        self._carry = carry
        state = ParticlesState(carry.learner, np.asarray(carry.key), int(np.asarray(carry.steps)[0]))
        returns, episodes = (np.asarray(x)[:, :num_updates] for x in (log.mean_return, log.episodes))
        result = {"steps": state.steps * self.num, "episodes": episodes.sum(axis=1),
                  "returns": np.array([mean_episode_return(r, e) for r, e in zip(returns, episodes)])}
        if evaluation is not None:
            keys = stack_runs([np.asarray(prng_key(eval_seed + EVAL_SEED_OFFSET))] * self.num)
            result["eval_returns"] = np.asarray(evaluation(carry.learner, carry.moments, keys))
        return state, result

    def _current_carry(self, trainer: Any, state: ParticlesState) -> Any:
        """The carry of the last chunk, unless the state changed since (restored, loaded)."""
        carry = self._carry
        if (carry is not None and carry.learner is state.learner
                and int(np.asarray(carry.steps)[0]) == state.steps):
            return carry
        return stack_runs([trainer.start(run_of(state.learner, i), state.keys[i], state.steps)
                           for i in range(self.num)])

