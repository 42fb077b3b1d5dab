"""The fast path: rollouts on a JAX environment and the learner's updates, all inside one ``jax.jit``.

:class:`FastTrainer` compiles one *chunk* of training: up to ``max_updates`` iterations of a
rollout of ``n_steps`` vector steps of ``num_envs`` environments
(:class:`~plugrl.agents.on_policy.fast_rollout.JaxRollouts`), GAE advantages, and the learner's
own update, :meth:`OnPolicyLearner.update_step`, the function that the ordinary path jits; the
first chunk of a run also resets every environment. Deterministic evaluation episodes on the
same JAX environment are a second compiled program, run on the chunk's final state; the two
compile side by side, in two threads. Nothing leaves the device within a chunk; the host calls
the compiled chunk again to go on, which is where callbacks, checkpoints and early stopping
happen, without recompiling.

The trained state is the ordinary path's, so it loads back into the agent, which then acts on
Gymnasium's environment as usual. The hyperparameters that only scale numbers
(:data:`TRACED_FIELDS`) are arguments of the compiled function, not constants in it, so one
compilation serves every value and ``jax.vmap`` trains many settings.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from plugrl._backend.jax import TrainState, compile_concurrently, jit
from plugrl.agents.on_policy.fast_rollout import (
    EnvCarry,
    JaxRollouts,
    RolloutRandomness,
    TracedRollout,
)
from plugrl.agents.on_policy.learner import (
    Coefficients,
    OnPolicyLearner,
    update_coefficients,
)
from plugrl.agents.on_policy.recurrent import RecurrentLearner, sequence_batch
from plugrl.caching.gae import gae_advantages
from plugrl.utils.running_moments import Moments, merge_moments

__all__ = ["TRACED_FIELDS", "Carry", "ChunkLog", "FastTrainer", "Hyperparameters"]


class Hyperparameters(NamedTuple):
    """The traced hyperparameters of one run (scalars, or one axis per run under ``vmap``).

    ``lr`` and ``clip`` are the initial values of their schedules (the ``x`` of ``'lin_x'``).
    """

    lr: Any
    clip: Any
    entropy_coeff: Any
    vfcn_coeff: Any
    gamma: Any
    gae_lambda: Any


#: Hyperparameters that can differ between the runs of one compiled program.
TRACED_FIELDS = Hyperparameters._fields


class Carry(NamedTuple):
    """Everything that one chunk of training passes to the next: device arrays, or host
    (NumPy) ones in a carry from :meth:`FastTrainer.start`, built so without compiling kernels."""

    learner: TrainState
    envs: EnvCarry
    moments: Moments | None  # the observation normaliser's statistics
    key: ArrayLike
    steps: ArrayLike  # env steps so far (int32), for the schedules
    fresh: ArrayLike  # bool: the environments are still to be reset (a carry from ``start``)


class ChunkLog(NamedTuple):
    """What one chunk reports; per-update entries beyond the chunk's updates are NaN."""

    mean_return: jax.Array  # [max_updates] mean return of the episodes ended in each rollout
    episodes: jax.Array  # [max_updates] number of episodes ended in each rollout
    metrics: jax.Array  # [max_updates, num_metrics] the update's metrics (means over minibatches)


class FastTrainer:
    """The compiled training chunk of an on-policy learner on a JAX environment.

    Parameters
    ----------
    learner : OnPolicyLearner
        Networks, loss, optimizer and update (shared with the agent).
    env : JaxEnv
        Pure ``reset``/``step`` functions (see :mod:`plugrl.envs.jax`).
    env_params : Any
        The environment's parameters (``env.default_params``).
    max_updates : int
        Iterations (rollout and update) per chunk at most; a chunk runs ``num_updates`` of them.
    eval_episodes : int
        Deterministic episodes of :meth:`evaluate` (0: the trainer does not evaluate).
    normalizer : RunningNormalizer, optional
        Its ``clip`` and ``epsilon``; observations are normalised in the graph when given.
    record_metrics : bool, optional
        Report the update's metrics (losses, entropy, KL, ...) per iteration. Off by default:
        unused, they are left out of the compiled program, which then compiles faster.

    Notes
    -----
    :func:`plugrl.agents.on_policy.fast_training.check_fast_path` names untraceable pieces beforehand.
    """

    def __init__(self, learner: OnPolicyLearner, env: Any, env_params: Any, max_updates: int,
                 eval_episodes: int = 0, normalizer: Any = None, record_metrics: bool = False) -> None:
        self.learner, self.config = learner, learner.config
        self.max_updates, self.eval_episodes = int(max_updates), int(eval_episodes)
        self.rollouts = JaxRollouts(learner, env, env_params, normalizer)
        self.normalized = normalizer is not None
        self.size = self.config.n_steps * self.config.num_envs
        self._compiled: dict[Any, tuple[Any, Any]] = {}
        self._placeholders = jax.eval_shape(
            self.rollouts.reset, jax.ShapeDtypeStruct((self.config.num_envs, 2), jnp.uint32), env_params)
        self.metric_names = self._metric_names() if record_metrics else ()

    # ------------------------------------------------------------------ state
    def start(self, state: TrainState, key: ArrayLike, steps: int = 0,
              moments: Moments | None = None) -> Carry:
        """The carry of a run that starts from ``state``, built on the host: the first iteration
        resets the environments (inside the chunk, which spares compiling a program for it)."""
        if self.normalized:
            shape = self.rollouts.obs_shape
            moments = moments or Moments(np.zeros(shape), np.ones(shape), 0.0)  # as a new normaliser
            moments = Moments(*(np.asarray(x, np.float32) for x in moments))
        obs, env_state = jax.tree_util.tree_map(lambda x: np.zeros(x.shape, x.dtype), self._placeholders)
        envs = EnvCarry(env_state, obs, np.zeros(self.config.num_envs, np.float32))
        if isinstance(self.learner, RecurrentLearner):
            envs = envs._replace(rnn_state=self.learner.initial_state(self.config.num_envs),
                                 episode_start=np.ones(self.config.num_envs, bool))
        return Carry(state, envs, moments, np.asarray(key, np.uint32), np.int32(steps), np.bool_(True))

    def compiled(self, *chunk_args: Any, vmapped: bool = False,
                 axis_name: str | None = None) -> tuple[Any, Any]:
        """The chunk and evaluation programs for these chunk arguments, compiled side by side
        (:func:`~plugrl._backend.jax.compile_concurrently`): on 2 cores the evaluation's
        compilation then took 0.5 s less wall time than after the chunk's.

        ``vmapped``: both programs over a leading run axis of the carry, hyperparameters and
        evaluation key (as :func:`~plugrl.agents.on_policy.fast_many.train_many` calls them).
        ``axis_name`` names that axis inside the chunk, for a learner whose gradient hook
        couples the runs (SVPG's particles).
        """
        runs = np.shape(chunk_args[0].steps)  # () for one run, (R,) for R runs under vmap
        if (vmapped, runs, axis_name) not in self._compiled:
            chunk, evaluation = self._chunk, self.evaluate
            if vmapped:
                chunk = jax.vmap(chunk, in_axes=(0, 0, None, None), axis_name=axis_name)
                evaluation = jax.vmap(evaluation)
            carry = chunk_args[0]
            eval_key = jax.ShapeDtypeStruct((*runs, 2), jnp.uint32)
            programs = [(jit(chunk), chunk_args)]
            if self.eval_episodes:
                programs.insert(0, (jit(evaluation), (carry.learner, carry.moments, eval_key)))
            *compiled_evaluation, compiled_chunk = compile_concurrently(programs)
            self._compiled[vmapped, runs, axis_name] = (
                compiled_chunk, compiled_evaluation[0] if compiled_evaluation else None)
        return self._compiled[vmapped, runs, axis_name]

    def evaluate(self, state: TrainState, moments: Moments | None, key: jax.Array) -> jax.Array:
        """Mean return of ``eval_episodes`` deterministic episodes on the JAX environment."""
        return self.rollouts.evaluate(state.params, state.non_trainable, moments, key,
                                      self.eval_episodes)

    # ------------------------------------------------------------------ one chunk
    def _chunk(self, carry: Carry, hp: Hyperparameters, total_steps: ArrayLike,
               num_updates: jax.Array) -> tuple[Carry, ChunkLog]:
        K = self.max_updates
        log = ChunkLog(jnp.full(K, jnp.nan), jnp.zeros(K), jnp.full((K, len(self.metric_names)), jnp.nan))

        def body(i: jax.Array, state: tuple[Carry, ChunkLog]) -> tuple[Carry, ChunkLog]:
            carry, log = state
            carry, (mean_return, episodes, metrics) = self.iteration(carry, hp, total_steps)
            log = log._replace(mean_return=log.mean_return.at[i].set(mean_return),
                               episodes=log.episodes.at[i].set(episodes))
            if self.metric_names:
                log = log._replace(metrics=log.metrics.at[i].set(metrics.values))
            return carry, log

        return jax.lax.fori_loop(0, num_updates, body, (carry, log))

    def iteration(self, carry: Carry, hp: Hyperparameters,
                  total_steps: ArrayLike) -> tuple[Carry, tuple[jax.Array, jax.Array, Any]]:
        """One rollout and the update on it (the ordinary path's ``_train_iteration``):
        :meth:`draw`, :meth:`collect` and :meth:`learn`."""
        key, randomness, indices, update_key = self.draw(carry.key)
        carry, rollout = self.collect(carry._replace(key=key), randomness)
        return self.learn(carry, rollout, hp, total_steps, indices, update_key)

    def draw(self, key: ArrayLike) -> tuple[jax.Array, RolloutRandomness, jax.Array, jax.Array]:
        """An iteration's randomness from the carry's ``key``, in one draw of bits: the key to
        pass on, the rollout's random numbers, the update's shuffles ``indices`` [num_epoch,
        minibatches, batch_size] (a sort of random numbers compiles much faster than
        ``jax.random.permutation``) and its keys [num_epoch, minibatches, 2], one per step."""
        next_key, k_iteration = jax.random.split(key)
        # A recurrent learner's minibatches are whole sequences: they shuffle those.
        learner = self.learner
        items = self.size // learner.sequence_length if isinstance(learner, RecurrentLearner) else self.size
        E, B = self.config.num_epoch, self._minibatch_items()
        M, rollout = max(1, items // B), sum(self.rollouts.bit_counts)
        B = min(B, items)
        bits = jax.random.bits(k_iteration, (rollout + E * items + 2 * E * M,), jnp.uint32)
        rollout_bits, order, update_keys = jnp.split(bits, [rollout, rollout + E * items])
        indices = jnp.argsort(order.reshape(E, items), axis=1)[:, :M * B].reshape(E, M, B)
        return next_key, self.rollouts.randomness(rollout_bits), indices, update_keys.reshape(E, M, 2)

    def _minibatch_items(self) -> int:
        """Samples per minibatch, or environments' sequences for a recurrent learner."""
        learner = self.learner
        if isinstance(learner, RecurrentLearner):
            return learner.envs_per_minibatch()
        return self.config.batch_size

    def collect(self, carry: Carry, randomness: RolloutRandomness) -> tuple[Carry, TracedRollout]:
        """One rollout with the carry's policy (a fresh carry's environments start from the
        resets drawn with the others)."""
        envs = jax.tree_util.tree_map(lambda a, b: jnp.where(carry.fresh, a, b), randomness.first,
                                      carry.envs)
        envs, rollout = self.rollouts.collect(carry.learner.params, carry.learner.non_trainable,
                                              carry.moments, envs, randomness)
        return carry._replace(envs=envs, fresh=jnp.asarray(False)), rollout

    def learn(self, carry: Carry, rollout: TracedRollout, hp: Hyperparameters, total_steps: ArrayLike,
              indices: jax.Array, key: jax.Array) -> tuple[Carry, tuple[jax.Array, jax.Array, Any]]:
        """The update on one rollout, as the ordinary path's ``_train_iteration`` does it: GAE
        advantages, the learner's :meth:`~OnPolicyLearner.update_step` with the coefficients
        at this point of the schedules, and the normaliser's moments merged with the rollout's
        observations. Returns the carry, and the mean return and number of the episodes that
        ended in the rollout, and the update's metrics."""
        state, moments, steps = carry.learner, carry.moments, carry.steps + self.size
        V_next = self.rollouts.next_values(state.params, state.non_trainable, moments, rollout,
                                           carry.envs.obs)
        Adv, Rlambda = gae_advantages(rollout.R, rollout.V, V_next, rollout.terminated, rollout.done,
                                      hp.gamma, hp.gae_lambda)
        S = rollout.S.reshape(self.size, *self.rollouts.obs_shape)
        if self.learner.recurrent:
            assert isinstance(self.learner, RecurrentLearner)
            batch = sequence_batch(self.rollouts.normalize(moments, rollout.S), rollout.starts,
                                   rollout.state0,
                                   {"A": rollout.A, "logP": rollout.logP, "V": rollout.V, "Adv": Adv,
                                    "R": Rlambda}, xp=jnp, states=rollout.states,
                                   length=self.learner.sequence_length)
        else:
            batch = {"S": self.rollouts.normalize(moments, S),
                     "A": rollout.A.reshape(self.size, *rollout.A.shape[2:]),
                     "logP": rollout.logP.reshape(-1), "V": rollout.V.reshape(-1),
                     "Adv": Adv.reshape(-1), "R": Rlambda.reshape(-1)}
        progress = jnp.minimum(1.0, steps / total_steps)
        coefficients = Coefficients(*(jnp.asarray(c, jnp.float32)
                                      for c in update_coefficients(self.config, progress, hp,
                                                                   jnp.asarray(carry.steps) // self.size)))
        state, metrics = self.learner.update_step(state, batch, indices, key, coefficients)
        if moments is not None:
            moments = merge_moments(moments, S)
        finished = jnp.sum(rollout.done)
        mean_return = jnp.where(finished > 0, jnp.sum(jnp.where(rollout.done, rollout.returns, 0.0))
                                / jnp.maximum(finished, 1), jnp.nan)
        carry = carry._replace(learner=state, moments=moments, steps=steps)
        return carry, (mean_return, finished.astype(jnp.float32), metrics)

    def _metric_names(self) -> tuple[str, ...]:
        """The names of the update's metrics, from tracing one iteration (not compiled)."""
        carry = self.start(self.learner.state, np.zeros(2, np.uint32))
        hp = Hyperparameters(*np.ones(len(TRACED_FIELDS), np.float32))
        return jax.eval_shape(lambda c: self.iteration(c, hp, np.float32(1))[1][2], carry).names
