"""The fast path: rollouts on a JAX environment and updates, all inside one ``jax.jit``.

:class:`FastTrainer` compiles one *chunk* of training: up to ``max_updates`` iterations of a
rollout of ``n_steps`` vector steps of ``num_envs`` environments (``lax.scan``, environments
reset automatically), GAE advantages, and every epoch and minibatch of the learner's update;
the first chunk of a run also resets every environment. Deterministic evaluation episodes on the
same JAX environment are a second compiled program, run on the chunk's final state; the two
compile side by side, in two threads. Nothing leaves the device within a chunk; the host
calls the compiled chunk again to go on, which is where callbacks, checkpoints and early
stopping happen, without recompiling.

The loss, GAE and the learner's state are those of the ordinary path, so the trained state loads
back into the agent, which then acts on Gymnasium's environment as usual. The hyperparameters
that only scale numbers (:data:`TRACED_FIELDS`) are arguments of the compiled function, not
constants in it, so one compilation serves every value and ``jax.vmap`` trains many settings.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from plugrl._backend.jax import (
    TrainState,
    compile_concurrently,
    jit,
    train_step,
    with_learning_rate,
)
from plugrl.agents.on_policy.learner import OnPolicyLearner
from plugrl.caching.gae import gae_advantages
from plugrl.utils.schedules import schedule_value

__all__ = ["TRACED_FIELDS", "Carry", "ChunkLog", "FastTrainer", "Hyperparameters", "NormState"]


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


class NormState(NamedTuple):
    """Running mean, variance and count of the observations (the agent's normaliser)."""

    mean: jax.Array
    var: jax.Array
    count: jax.Array


class Carry(NamedTuple):
    """Everything that one chunk of training passes to the next."""

    learner: TrainState
    env_state: Any
    obs: jax.Array  # raw observations of the ongoing episodes, [num_envs, *obs_shape]
    episode_return: jax.Array  # [num_envs]
    norm: NormState | None
    key: jax.Array
    steps: jax.Array  # env steps so far (int32), for the schedules
    fresh: jax.Array  # bool: the environments are still to be reset (a carry from ``start``)


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
        Networks, loss and optimizer (shared with the agent).
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
        self.learner, self.env, self.env_params = learner, env, env_params
        self.config = cfg = learner.config
        self.max_updates, self.eval_episodes = int(max_updates), int(eval_episodes)
        self.num_envs, self.n_steps = cfg.num_envs, cfg.n_steps
        self.num_minibatches = cfg.n_steps * cfg.num_envs // cfg.batch_size
        self.obs_shape = tuple(env.observation_space.shape)
        self.norm_clip = None if normalizer is None else (normalizer.clip, normalizer.epsilon)
        self._reset = jax.vmap(env.reset, in_axes=(0, None))
        self._step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
        self.metric_names = self._metric_names() if record_metrics else ()
        self._compiled: dict[Any, tuple[Any, Any]] = {}
        self._placeholders = jax.eval_shape(
            self._reset, jax.ShapeDtypeStruct((self.num_envs, 2), jnp.uint32), env_params)

    # ------------------------------------------------------------------ state
    def start(self, state: TrainState, key: jax.Array, steps: int = 0,
              norm: NormState | None = None) -> Carry:
        """The carry of a run that starts from ``state``, built on the host: the first iteration
        resets the environments (inside the chunk, which spares compiling a program for it)."""
        if self.norm_clip is not None and norm is None:
            norm = NormState(np.zeros(self.obs_shape, np.float32), np.ones(self.obs_shape, np.float32),
                             np.zeros((), np.float32))
        obs, env_state = jax.tree_util.tree_map(lambda x: np.zeros(x.shape, x.dtype), self._placeholders)
        return Carry(state, env_state, obs, np.zeros(self.num_envs, np.float32), norm,
                     np.asarray(key, np.uint32), np.int32(steps), np.bool_(True))

    def compiled(self, *chunk_args: Any, vmapped: bool = False) -> tuple[Any, Any]:
        """The chunk and evaluation programs for these chunk arguments, compiled side by side
        (:func:`~plugrl._backend.jax.compile_concurrently`): on 2 cores the evaluation's
        compilation then took 0.5 s less wall time than after the chunk's.

        ``vmapped``: both programs over a leading run axis of the carry, hyperparameters and
        evaluation key (as :func:`~plugrl.agents.on_policy.fast_training.train_many` calls them).
        """
        runs = np.shape(chunk_args[0].steps)  # () for one run, (R,) for R runs under vmap
        if (vmapped, runs) not in self._compiled:
            chunk, evaluation = self._chunk, self.evaluate
            if vmapped:
                chunk = jax.vmap(chunk, in_axes=(0, 0, None, None))
                evaluation = jax.vmap(evaluation)
            carry = chunk_args[0]
            eval_key = jax.ShapeDtypeStruct((*runs, 2), jnp.uint32)
            programs = [(jit(chunk), chunk_args)]
            if self.eval_episodes:
                programs.insert(0, (jit(evaluation), (carry.learner, carry.norm, eval_key)))
            *evaluation, chunk = compile_concurrently(programs)
            self._compiled[vmapped, runs] = (chunk, evaluation[0] if evaluation else None)
        return self._compiled[vmapped, runs]

    # ------------------------------------------------------------------ one chunk
    def _chunk(self, carry: Carry, hp: Hyperparameters, total_steps: jax.Array,
               num_updates: jax.Array) -> tuple[Carry, ChunkLog]:
        K = self.max_updates
        log = ChunkLog(jnp.full(K, jnp.nan), jnp.zeros(K),
                       jnp.full((K, len(self.metric_names)), jnp.nan))

        def body(i: jax.Array, state: tuple[Carry, ChunkLog]) -> tuple[Carry, ChunkLog]:
            carry, log = state
            carry, (mean_return, episodes, metrics) = self._iteration(carry, hp, total_steps)
            log = log._replace(mean_return=log.mean_return.at[i].set(mean_return),
                               episodes=log.episodes.at[i].set(episodes))
            if self.metric_names:
                log = log._replace(metrics=log.metrics.at[i].set(metrics))
            return carry, log

        return jax.lax.fori_loop(0, num_updates, body, (carry, log))

    def _metric_names(self) -> tuple[str, ...]:
        """The names of the update's metrics, from tracing one minibatch step (not compiled)."""
        B, d_obs = self.config.batch_size, math.prod(self.obs_shape)
        d_action = 1 if self.learner.discrete else math.prod(self.env.action_space.shape)

        def step(state: TrainState) -> Any:
            rows = jnp.zeros((B, d_obs + d_action + 4))
            coefficients = dict.fromkeys(("clip", "entropy_coeff", "vfcn_coeff"), jnp.float32(0.1))
            flat, unravel = ravel_pytree(state.params)
            return self._train_step(unravel)(state._replace(params=flat),
                                             {**self._unpack(rows), **coefficients},
                                             jnp.zeros(2, jnp.uint32))

        return jax.eval_shape(step, self.learner.state)[1].names

    def _iteration(self, carry: Carry, hp: Hyperparameters,
                   total_steps: jax.Array) -> tuple[Carry, tuple[jax.Array, jax.Array, jax.Array]]:
        """One rollout and the update on it (the ordinary path's ``_train_iteration``)."""
        key, k_iteration = jax.random.split(carry.key)
        rollout_randomness, update_randomness, first = self._randomness(k_iteration)
        # A fresh carry's environments start from resets drawn with the others.
        (obs, env_state), fresh = first, carry.fresh
        envs = (_where(fresh, env_state, carry.env_state), jnp.where(fresh, obs, carry.obs),
                jnp.where(fresh, 0.0, carry.episode_return))
        # The scan carries only what a step changes: a loop-carried buffer is copied on every
        # iteration, and the weights alone made up most of a step's cost.
        act = functools.partial(self._env_step, carry.learner.params,
                                carry.learner.non_trainable, carry.norm)
        (env_state, obs, episode_return), rollout = jax.lax.scan(
            act, envs, rollout_randomness)
        carry = carry._replace(env_state=env_state, obs=obs, episode_return=episode_return)
        S, A, R, terminated, truncated, logP, V, S_next, done, returns = rollout
        steps = carry.steps + self.n_steps * self.num_envs
        progress = jnp.minimum(1.0, steps / total_steps)
        state = carry.learner
        V_next = self._next_values(state, carry, S_next, V, truncated)
        Adv, Rlambda = gae_advantages(R, V, V_next, terminated, done, hp.gamma, hp.gae_lambda)
        batch = self._pack(carry.norm, S, A, logP, V, Adv, Rlambda)
        state = state._replace(opt_state=with_learning_rate(
            state.opt_state, _float32(schedule_value(self.config.lr, progress, hp.lr))))
        coefficients = {"clip": _float32(schedule_value(self.config.clip, progress, hp.clip)),
                        "entropy_coeff": hp.entropy_coeff, "vfcn_coeff": hp.vfcn_coeff}
        state, metrics = self._update(state, batch, coefficients, *update_randomness)
        norm = carry.norm
        if norm is not None:
            norm = merge_moments(norm, S.reshape(-1, *self.obs_shape))
        finished = jnp.sum(done)
        mean_return = jnp.where(finished > 0, jnp.sum(jnp.where(done, returns, 0.0))
                                / jnp.maximum(finished, 1), jnp.nan)
        carry = carry._replace(learner=state, norm=norm, key=key, steps=steps, fresh=jnp.asarray(False))
        return carry, (mean_return, finished.astype(jnp.float32), metrics)

    # ------------------------------------------------------------------ rollout
    def _randomness(self, key: jax.Array) -> tuple[tuple, tuple[jax.Array, jax.Array], tuple]:
        """All the random numbers of an iteration from one draw of bits: each PRNG call took
        0.1-0.5 s to trace and compile, and inside a loop ran as a loop of its own on the CPU.

        Returns the rollout's action noise, env keys and reset states (a reset is drawn for
        every env at every step, used where an episode ends), each [n_steps, num_envs, ...];
        the update's shuffles [num_epoch, samples] and step keys [num_epoch, minibatches];
        and one more reset per env [num_envs, ...], where a run starts.
        """
        T, N, E, M = self.n_steps, self.num_envs, self.config.num_epoch, self.num_minibatches
        learner, size = self.learner, self.n_steps * self.num_envs
        shape = ((learner.policy.function_approximator.num_actions,) if learner.discrete
                 else self.env.action_space.shape)
        counts = (size * math.prod(shape), 2 * (size + N), 2 * size, E * size, 2 * E * M)
        bits = jax.random.bits(key, (sum(counts),), jnp.uint32)
        noise, reset_keys, step_keys, order, update_keys = jnp.split(
            bits, list(itertools.accumulate(counts[:-1])))
        noise = noise.reshape(T, N, *shape)
        # As jax.random.gumbel and jax.random.normal draw them from uniform numbers.
        noise = (-jnp.log(-jnp.log(_uniform(noise, jnp.finfo(jnp.float32).tiny)))
                 if learner.discrete else
                 jnp.sqrt(2.0) * jax.lax.erf_inv(_uniform(noise, float(np.nextafter(np.float32(-1), 0)))))
        resets = self._reset(reset_keys.reshape(size + N, 2), self.env_params)
        first = jax.tree_util.tree_map(lambda x: x[size:], resets)
        resets = jax.tree_util.tree_map(lambda x: x[:size].reshape(T, N, *x.shape[1:]), resets)
        # A sort of random numbers shuffles much cheaper to compile than jax.random.permutation.
        orders = jnp.argsort(order.reshape(E, size), axis=1)[:, :M * self.config.batch_size]
        return ((noise, step_keys.reshape(T, N, 2), resets), (orders, update_keys.reshape(E, M, 2)),
                first)

    def _env_step(self, params: Any, non_trainable: Any, norm: NormState | None, envs: tuple,
                  xs: tuple) -> tuple[tuple, tuple]:
        learner = self.learner
        env_state, obs, episode_return = envs
        noise, step_keys, (reset_obs, reset_state) = xs
        S = self._normalize(norm, obs)
        packed = learner._act_fn(params, non_trainable, S, noise)
        logP, V = packed[:, 0], packed[:, 1]
        A = packed[:, 2].astype(jnp.int32) if learner.discrete else packed[:, 2:2 + noise[0].size]
        obs_next, env_state, r, terminated, truncated, _ = self._step(
            step_keys, env_state, self._env_actions(A), self.env_params)
        r = r.astype(jnp.float32)
        done = terminated | truncated
        env_state = jax.tree_util.tree_map(lambda new, old: jnp.where(_rows(done, old), new, old),
                                           reset_state, env_state)
        returns = episode_return + r
        envs = (env_state, jnp.where(_rows(done, obs_next), reset_obs, obs_next),
                jnp.where(done, 0.0, returns))
        return envs, (obs, A, r, terminated, truncated, logP, V, obs_next, done, returns)

    def _env_actions(self, A: jax.Array) -> jax.Array:
        """As on the ordinary path: Box actions are clipped to the bounds for the environment."""
        if self.learner.discrete:
            return A
        space = self.env.action_space
        return jnp.clip(A.reshape(len(A), *space.shape), space.low, space.high)

    def _next_values(self, state: TrainState, carry: Carry, S_next: jax.Array, V: jax.Array,
                     truncated: jax.Array) -> jax.Array:
        """:math:`V(s'_t)`: the next step's recorded value, except after a time limit, where the
        episode's final observation needs its own (a second critic pass, only if it happened)."""
        T, N = V.shape
        V_last = self._values(state, self._normalize(carry.norm, carry.obs))
        shifted = jnp.concatenate([V[1:], V_last[None]], axis=0)
        return jax.lax.cond(
            jnp.any(truncated),
            lambda: self._values(state, self._normalize(
                carry.norm, S_next.reshape(T * N, *self.obs_shape))).reshape(T, N),
            lambda: shifted)

    def _values(self, state: TrainState, S: jax.Array) -> jax.Array:
        learner = self.learner
        weights = learner._groups.select(state.params, state.non_trainable, 1)
        return learner.v_func.apply(*weights, S)[0]

    # ------------------------------------------------------------------ update
    def _pack(self, norm: NormState | None, S: jax.Array, A: jax.Array, logP: jax.Array,
              V: jax.Array, Adv: jax.Array, R: jax.Array) -> jax.Array:
        """The rollout as one [size, features] array, so a minibatch is one gather."""
        size = self.n_steps * self.num_envs
        columns = [self._normalize(norm, S.reshape(size, *self.obs_shape)).reshape(size, -1),
                   A.reshape(size, -1).astype(jnp.float32)]
        columns += [x.reshape(size, 1) for x in (logP, V, Adv, R)]
        return jnp.concatenate(columns, axis=1)

    def _unpack(self, X: jax.Array) -> dict[str, jax.Array]:
        D = X.shape[1] - 4
        d_obs = math.prod(self.obs_shape)
        A = X[:, d_obs:D]
        A = A[:, 0].astype(jnp.int32) if self.learner.discrete else A
        S = X[:, :d_obs].reshape(len(X), *self.obs_shape)
        return {"S": S, "A": A, "logP": X[:, D], "V": X[:, D + 1], "Adv": X[:, D + 2],
                "R": X[:, D + 3]}

    def _train_step(self, unravel: Any) -> Any:
        """The learner's update step on raveled weights, which its loss unravels.

        Within an update the weights are one vector and the optimizer runs on it, gradient
        clipping included (the ordinary path clips per array, which rounds the norm
        differently); its state is the same. No array is copied in or out of the vector at each
        step: a 64x64 actor-critic's step ran 72 kernels instead of 79, and PureJaxRL's settings
        5-10% more env steps/s.
        """
        learner = self.learner
        return train_step(lambda flat, state, batch, key: learner._loss_fn(unravel(flat), state, batch, key),
                          learner.optimizer, type(learner).__name__)

    def _update(self, state: TrainState, X: jax.Array, coefficients: dict[str, jax.Array],
                orders: jax.Array, keys: jax.Array) -> tuple[TrainState, jax.Array]:
        """Every epoch: the rollout's samples in the epoch's order (``orders`` [num_epoch,
        minibatches x batch_size]), one step per minibatch (``keys`` [num_epoch, minibatches])."""
        M, B = self.num_minibatches, self.config.batch_size
        flat, unravel = ravel_pytree(state.params)
        train_step = self._train_step(unravel)

        def minibatch(state: TrainState, ys: tuple) -> tuple[TrainState, jax.Array]:
            rows, k = ys
            state, metrics = train_step(state, {**self._unpack(rows), **coefficients}, k)
            # Unrecorded metrics stay out of the scan's outputs, so XLA drops their computation.
            return state, metrics.values if self.metric_names else jnp.zeros(0)

        def epoch(state: TrainState, ys: tuple) -> tuple[TrainState, jax.Array]:
            order, keys = ys
            return jax.lax.scan(minibatch, state, (X[order].reshape(M, B, -1), keys))

        # The target weights (unused by these losses) stay out of the loop-carried state.
        targets = (state.target_params, state.target_non_trainable)
        light = state._replace(params=flat, target_params=jnp.zeros(0), target_non_trainable=())
        light, metrics = jax.lax.scan(epoch, light, (orders, keys))
        state = light._replace(params=unravel(light.params), target_params=targets[0],
                               target_non_trainable=targets[1])
        return state, metrics.mean(axis=(0, 1))

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, state: TrainState, norm: NormState | None, key: jax.Array) -> jax.Array:
        """Mean return of ``eval_episodes`` deterministic episodes on the JAX environment."""
        E, learner = self.eval_episodes, self.learner
        limit = int(getattr(self.env_params, "max_episode_steps", 100_000))
        weights = learner._groups.select(state.params, state.non_trainable, 0)
        # Keys for the resets and every step drawn at once, as in the rollout (CartPole's 500
        # steps of 20 episodes are 10k keys); a PRNG call inside the loop if the limit is long.
        presplit = limit * E <= 65_536
        keys = jax.random.bits(key, ((1 + (limit if presplit else 1)) * E, 2), jnp.uint32)
        obs, env_state = self._reset(keys[:E], self.env_params)
        step_keys = keys[E:].reshape(limit, E, 2) if presplit else keys[E:]

        def body(c: tuple) -> tuple:
            t, obs, env_state, G, done = c
            Z = learner.policy.apply(*weights, self._normalize(norm, obs))[0]
            A = jnp.argmax(Z, axis=-1) if learner.discrete else Z[0].reshape(E, -1)
            obs, env_state, r, terminated, truncated, _ = self._step(
                step_keys[t] if presplit else jax.vmap(jax.random.fold_in, in_axes=(0, None))(
                    step_keys, t), env_state,
                self._env_actions(A), self.env_params)
            G = G + jnp.where(done, 0.0, r)
            return t + 1, obs, env_state, G, done | terminated | truncated

        c = (jnp.zeros((), jnp.int32), obs, env_state, jnp.zeros(E), jnp.zeros(E, bool))
        c = jax.lax.while_loop(lambda c: (c[0] < limit) & ~jnp.all(c[4]), body, c)
        return jnp.mean(c[3])

    def _normalize(self, norm: NormState | None, S: jax.Array) -> jax.Array:
        if norm is None:
            return S
        clip, epsilon = self.norm_clip
        return jnp.clip((S - norm.mean) / jnp.sqrt(norm.var + epsilon), -clip, clip)


def merge_moments(norm: NormState, S: jax.Array) -> NormState:
    """Merge a batch into running moments (Chan et al.), as :class:`RunningNormalizer`."""
    batch_mean, batch_var, n = S.mean(axis=0), S.var(axis=0), S.shape[0]
    total = norm.count + n
    delta = batch_mean - norm.mean
    mean = norm.mean + delta * n / total
    var = (norm.var * norm.count + batch_var * n + delta**2 * norm.count * n / total) / total
    return NormState(mean, var, total)


def _float32(x: Any) -> jax.Array:
    return jnp.asarray(x, jnp.float32)


def _uniform(bits: jax.Array, minval: float) -> jax.Array:
    """Floats uniform in ``[minval, 1)`` from uint32 ``bits``, as ``jax.random.uniform``."""
    unit = jax.lax.bitcast_convert_type((bits >> 9) | jnp.uint32(0x3F800000), jnp.float32) - 1.0
    return jnp.maximum(minval, unit * (1.0 - minval) + minval)


def _where(condition: jax.Array, new: Any, old: Any) -> Any:
    """``new`` where the scalar ``condition`` holds, else ``old``, leaf by leaf of two pytrees."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(condition, a, b), new, old)


def _rows(mask: jax.Array, x: jax.Array) -> jax.Array:
    """``mask`` [N] broadcast against ``x`` [N, ...]."""
    return mask.reshape(-1, *([1] * (x.ndim - 1)))
