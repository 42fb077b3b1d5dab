"""SVPG's particles: n parameter sets of one on-policy learner, acting and training as one.

Every function of the learner (``sample``, ``forward``, ``update_step``) runs mapped over a leading
particle axis of the stacked train states (:func:`~plugrl._backend.named_vmap`), so that one
jitted call acts for every particle's environments and one trains them all: each particle takes
the gradients of its own loss on its own rollout, and the learner's gradient hook
(:func:`~plugrl.updaters.stein.stein_gradient_hook`) turns them into the joint Stein update.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl._backend import TrainState, jit_for, keras, named_vmap, split_keys
from plugrl.agents.on_policy.fast_many import run_of
from plugrl.agents.on_policy.learner import Coefficients, OnPolicyLearner
from plugrl.updaters.stein import PARTICLES, median_heuristic, stein_gradient_hook

__all__ = ["Particles", "pairwise_distances", "particle_columns", "squared_distances"]


class Particles:
    """The stacked states of ``num_particles`` copies of ``learner`` and the mapped functions.

    Parameters
    ----------
    learner : OnPolicyLearner
        The particle: its networks, loss and optimizer (its own state is particle 0's start).
        Its ``gradient_hook`` becomes the Stein update.
    states : TrainState
        The particles' initial states, stacked along a leading axis
        (:func:`~plugrl.agents.on_policy.fast_many.stack_runs`).
    temperature : float
        SVPG's :math:`\\alpha`.
    """

    def __init__(self, learner: OnPolicyLearner, states: TrainState, temperature: float) -> None:
        self.learner = learner
        self.states = states
        self.num = int(np.shape(keras.tree.flatten(states.params)[0])[0])
        #: Which raveled weights the kernel sees: the policy's (and a body shared with the critic).
        self.mask = learner.policy_mask()
        learner.gradient_hook = stein_gradient_hook(self.mask, temperature)
        jit = jit_for(learner.convolutional)
        self._sample = jit(named_vmap(learner.sample, PARTICLES))
        self._values = jit(named_vmap(lambda p, nt, S: learner.forward(p, nt, S)[1], PARTICLES))
        self._update = jit(named_vmap(learner.update_step, PARTICLES, in_axes=(0, 0, 0, 0, None)))

    # ------------------------------------------------------------------ acting
    def act(self, S: np.ndarray, noise: np.ndarray) -> dict[str, np.ndarray]:
        """Actions, log-probabilities and values for the observations of every particle's
        environments, ``S`` [num_particles * num_envs, ...] (particle ``i`` acts in envs
        ``i * num_envs`` to ``(i + 1) * num_envs - 1``), with the policy ``noise`` of each."""
        A, logP, V = self._sample(self.states.params, self.states.non_trainable,
                                  self._split(S), self._split(noise))
        return {"A": self._join(A), "logP": self._join(logP), "V": self._join(V)}

    def values(self, S: np.ndarray) -> np.ndarray:
        """Each particle's state values of its environments' observations, time-major ``S``
        [T, n * num_envs, ...] in, [T, n * num_envs] out."""
        T = len(S)
        V = self._values(self.states.params, self.states.non_trainable, particle_columns(S, self.num))
        return np.asarray(V).reshape(self.num, T, -1).swapaxes(0, 1).reshape(T, -1)

    # ------------------------------------------------------------------ training
    def batch(self, rollout: Any, S: np.ndarray, S_next: np.ndarray) -> dict[str, np.ndarray]:
        """Each particle's update batch from a rollout of all particles' envs, [T, n * num_envs]:
        GAE advantages per env (the learner's), then the rows of each particle stacked,
        [n, T * num_envs, ...]. ``S`` and ``S_next``: the rollout's observations as the
        networks see them, [T, n * num_envs, ...]."""
        V_old = rollout.info["V"]
        Adv, Rlambda = self.learner.advantages(rollout.R, V_old, self.values(S_next),
                                               rollout.terminated, rollout.truncated)
        fields = {"S": S, "A": rollout.info["A"],
                  "logP": rollout.info["logP"], "V": V_old, "Adv": Adv, "R": Rlambda}
        return {k: particle_columns(v, self.num) for k, v in fields.items()}

    def update(self, batch: dict[str, np.ndarray], coefficients: Coefficients, key: Any,
               indices: np.ndarray) -> dict[str, float]:
        """One SVPG update of every particle, ``indices`` [n, num_epoch, minibatches, batch_size]
        each particle's shuffles; returns the metrics averaged over the particles."""
        coefficients = Coefficients(*(np.float32(c) for c in coefficients))
        self.states, metrics = self._update(self.states, batch, indices, split_keys(key, self.num),
                                            coefficients)
        per_particle = np.asarray(metrics.values)  # [n, metrics]
        return {name: float(np.mean(values)) for name, values in zip(metrics.names, per_particle.T)}

    # ------------------------------------------------------------------ particles
    def state(self, i: int) -> TrainState:
        """Particle ``i``'s train state (host arrays: one transfer per array, no device slicing)."""
        return run_of(self.states, i)

    def weights(self) -> np.ndarray:
        """The particles' policy weights, one raveled vector each [n, d] (what the kernel sees)."""
        flat = np.concatenate([np.reshape(x, (self.num, -1)) for x in keras.tree.flatten(self.states.params)],
                              axis=1)
        return flat[:, self.mask]

    def statistics(self) -> dict[str, Any]:
        """The kernel's bandwidth (median heuristic) and each particle's mean distance to the
        others, in policy-weight space, computed on the host."""
        squared = squared_distances(self.weights())
        mean_distance = np.sqrt(squared).sum(axis=1) / max(1, self.num - 1)
        return {"bandwidth": float(median_heuristic(squared, xp=np)), "distances": mean_distance}

    def _split(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x).reshape(self.num, -1, *np.shape(x)[1:])

    def _join(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        return x.reshape(-1, *x.shape[2:])


def particle_columns(x: np.ndarray, num_particles: int) -> np.ndarray:
    """Time-major rollout arrays [T, n * num_envs, ...] regrouped by particle, [n, T * num_envs,
    ...] (particle ``i`` owns env columns ``i * num_envs`` to ``(i + 1) * num_envs - 1``)."""
    x = np.asarray(x)
    T, M = x.shape[:2]
    per_particle = x.reshape(T, num_particles, M // num_particles, *x.shape[2:]).swapaxes(0, 1)
    return per_particle.reshape(num_particles, T * (M // num_particles), *x.shape[2:])


def squared_distances(X: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``X`` [n, d], [n, n], in float64 from
    the Gram matrix (exact zeros on the diagonal)."""
    X = np.asarray(X, np.float64)
    norms = np.square(X).sum(axis=1)
    squared = np.maximum(norms[:, None] + norms[None, :] - 2.0 * X @ X.T, 0.0)
    np.fill_diagonal(squared, 0.0)
    return squared


def pairwise_distances(X: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of ``X`` [n, d], [n, n]."""
    return np.sqrt(squared_distances(X))
