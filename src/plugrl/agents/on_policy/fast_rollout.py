"""The fast path's environment loops: rollouts and evaluation episodes on a JAX environment.

Pure, traceable functions around an :class:`~plugrl.agents.on_policy.learner.OnPolicyLearner`:
the policy samples with :meth:`~OnPolicyLearner.sample`, acts through
:meth:`~OnPolicyLearner.env_actions` and sees observations standardised by
:func:`plugrl.utils.running_moments.normalize`, the functions that the ordinary path calls on the
host. Environments reset automatically, inside the loop.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from plugrl.agents.on_policy.learner import OnPolicyLearner
from plugrl.agents.on_policy.recurrent import RecurrentLearner
from plugrl.utils.running_moments import Moments, normalize

__all__ = ["EnvCarry", "JaxRollouts", "RolloutRandomness", "TracedRollout"]


class EnvCarry(NamedTuple):
    """The ongoing episodes of ``num_envs`` environments, from one rollout to the next."""

    env_state: Any
    obs: ArrayLike  # raw observations, [num_envs, *obs_shape]
    episode_return: ArrayLike  # [num_envs]
    rnn_state: Any = ()  # a recurrent learner's rollout state after the last step (before resets)
    episode_start: Any = None  # [num_envs] bool: ``obs`` begins an episode (recurrent learners)


class RolloutRandomness(NamedTuple):
    """Every random number of one rollout, each [n_steps, num_envs, ...]."""

    noise: jax.Array  # the policy's sampling noise
    step_keys: jax.Array  # the environments' step keys
    resets: tuple  # (obs, env_state) of a reset for every env at every step, used where an episode ends
    first: EnvCarry  # [num_envs, ...] reset episodes, where a run starts


class TracedRollout(NamedTuple):
    """One rollout, time-major [n_steps, num_envs, ...], as :class:`plugrl.samplers.Rollout`:
    ``S`` raw, ``S_next`` the episode's final observation after an episode end; ``logP`` and
    ``V`` the policy info, ``done`` the episode ends and ``returns`` the returns so far."""

    S: jax.Array
    A: jax.Array
    R: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    logP: jax.Array
    V: jax.Array
    S_next: jax.Array
    done: jax.Array
    returns: jax.Array
    starts: Any = None  # [n_steps, num_envs] bool, where episodes start (recurrent learners)
    state0: Any = None  # the rollout state before the first step (recurrent learners)
    states: Any = None  # the rollout states before every step, [n_steps, num_envs, ...] (chunked sequences)


class JaxRollouts:
    """Rollouts of ``config.n_steps`` vector steps of ``config.num_envs`` environments, and
    deterministic evaluation episodes, of a learner's policy on a JAX environment.

    Parameters
    ----------
    learner : OnPolicyLearner
        The policy (and its configuration).
    env : JaxEnv
        Pure ``reset``/``step`` functions (see :mod:`plugrl.envs.jax`).
    env_params : Any
        The environment's parameters.
    normalizer : RunningNormalizer, optional
        Its ``clip`` and ``epsilon``; observations are then standardised with the moments given.
    """

    def __init__(self, learner: OnPolicyLearner, env: Any, env_params: Any,
                 normalizer: Any = None) -> None:
        self.learner, self.env, self.env_params = learner, env, env_params
        self.num_envs, self.n_steps = learner.config.num_envs, learner.config.n_steps
        self.obs_shape = tuple(env.observation_space.shape)
        space = learner.action_space
        self.noise_shape = ((int(space.n),) if isinstance(space, gym.spaces.Discrete)
                            else tuple(env.action_space.shape))
        size = self.n_steps * self.num_envs
        self.bit_counts = (size * math.prod(self.noise_shape), 2 * (size + self.num_envs), 2 * size)
        self.norm = None if normalizer is None else (normalizer.clip, normalizer.epsilon)
        self.recurrent = isinstance(learner, RecurrentLearner)
        self.reset = jax.vmap(env.reset, in_axes=(0, None))
        self.step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def normalize(self, moments: Moments | None, S: ArrayLike) -> ArrayLike:
        """``S`` standardised with ``moments`` (as the agent's normaliser does), if any."""
        if moments is None or self.norm is None:  # both or neither, as the agent has them
            return S
        return normalize(S, moments, *self.norm, xp=jnp)

    def randomness(self, bits: jax.Array) -> RolloutRandomness:
        """A rollout's random numbers from ``sum(self.bit_counts)`` random uint32 ``bits``: each
        PRNG call took 0.1-0.5 s to trace and compile, and inside a loop ran as a loop of its own
        on the CPU, so the fast path draws an iteration's bits at once."""
        T, N = self.n_steps, self.num_envs
        noise, reset_keys, step_keys = jnp.split(bits, list(itertools.accumulate(self.bit_counts[:-1])))
        noise = noise.reshape(T, N, *self.noise_shape)
        # As jax.random.gumbel and jax.random.normal draw them from uniform numbers.
        noise = (-jnp.log(-jnp.log(_uniform(noise, jnp.finfo(jnp.float32).tiny)))
                 if self.learner.discrete else
                 jnp.sqrt(2.0) * jax.lax.erf_inv(_uniform(noise, float(np.nextafter(np.float32(-1), 0)))))
        obs, env_state = self.reset(reset_keys.reshape(T * N + N, 2), self.env_params)
        first = self.fresh_envs(_tree_slice(env_state, T * N, None), obs[T * N:])
        resets = jax.tree_util.tree_map(lambda x: x[:T * N].reshape(T, N, *x.shape[1:]), (obs, env_state))
        return RolloutRandomness(noise, step_keys.reshape(T, N, 2), resets, first)

    def fresh_envs(self, env_state: Any, obs: Any) -> EnvCarry:
        """The carry of new episodes in every environment (with the initial recurrent state)."""
        N = self.num_envs
        if not self.recurrent:
            return EnvCarry(env_state, obs, jnp.zeros(N))
        return EnvCarry(env_state, obs, jnp.zeros(N), self._recurrent().initial_state(N), jnp.ones(N, bool))

    def _recurrent(self) -> RecurrentLearner:
        assert isinstance(self.learner, RecurrentLearner)
        return self.learner

    def collect(self, params: tuple, non_trainable: tuple, moments: Moments | None, envs: EnvCarry,
                randomness: RolloutRandomness) -> tuple[EnvCarry, TracedRollout]:
        """One rollout from ``envs`` with the policy of these weights."""
        # The scan carries only what a step changes: a loop-carried buffer is copied on every
        # iteration, and the weights alone made up most of a step's cost.
        step = functools.partial(self._step, params, non_trainable, moments)
        state0 = envs.rnn_state
        envs, rollout = jax.lax.scan(step, envs, randomness[:3])
        traced = TracedRollout(*rollout)
        return envs, traced._replace(state0=state0) if self.recurrent else traced

    def _step(self, params: tuple, non_trainable: tuple, moments: Moments | None, envs: EnvCarry,
              xs: tuple) -> tuple[EnvCarry, tuple]:
        noise, step_keys, (reset_obs, reset_state) = xs
        learner, S = self.learner, self.normalize(moments, envs.obs)
        if self.recurrent:
            A, logP, V, rnn_state = self._recurrent().sample_step(params, non_trainable, S, noise,
                                                                  envs.rnn_state, envs.episode_start)
        else:
            A, logP, V = learner.sample(params, non_trainable, S, noise)
        obs_next, env_state, r, terminated, truncated, _ = self.step(
            step_keys, envs.env_state, learner.env_actions(A), self.env_params)
        r = r.astype(jnp.float32)
        done = terminated | truncated
        returns = envs.episode_return + r
        following = EnvCarry(_tree_where(done, reset_state, env_state),
                             jnp.where(_rows(done, obs_next), reset_obs, obs_next),
                             jnp.where(done, 0.0, returns))
        outputs = (envs.obs, A, r, terminated, truncated, logP, V, obs_next, done, returns)
        if not self.recurrent:
            return following, outputs
        recorded = (envs.rnn_state,) if self._recurrent().chunked else ()
        return (following._replace(rnn_state=rnn_state, episode_start=done),
                (*outputs, envs.episode_start, None, *recorded))

    def next_values(self, params: tuple, non_trainable: tuple, moments: Moments | None,
                    rollout: TracedRollout, obs_last: ArrayLike) -> jax.Array:
        """:math:`V(s'_t)` [n_steps, num_envs]: the next step's recorded value, except after a
        time limit, where the episode's final observation needs its own (a second critic pass,
        only if it happened). ``obs_last``: the observations after the rollout."""
        T, N = rollout.V.shape
        if self.recurrent:
            S, S_next = (self.normalize(moments, x) for x in (rollout.S, rollout.S_next))
            return self._recurrent().sequence_next_values(params, non_trainable, S, rollout.starts,
                                                     rollout.state0, S_next)

        def values(S: ArrayLike) -> jax.Array:
            return self.learner.forward(params, non_trainable, self.normalize(moments, S))[1]

        shifted = jnp.concatenate([rollout.V[1:], values(obs_last)[None]], axis=0)
        return jax.lax.cond(jnp.any(rollout.truncated),
                            lambda: values(rollout.S_next.reshape(T * N, *self.obs_shape)).reshape(T, N),
                            lambda: shifted)

    def evaluate(self, params: tuple, non_trainable: tuple, moments: Moments | None, key: jax.Array,
                 episodes: int) -> jax.Array:
        """Mean return of ``episodes`` deterministic episodes (the policy's most likely actions)."""
        E, learner = episodes, self.learner
        limit = int(getattr(self.env_params, "max_episode_steps", 100_000))
        # Keys for the resets and every step drawn at once, as in the rollout (CartPole's 500
        # steps of 20 episodes are 10k keys); a PRNG call inside the loop if the limit is long.
        presplit = limit * E <= 65_536
        keys = jax.random.bits(key, ((1 + (limit if presplit else 1)) * E, 2), jnp.uint32)
        obs, env_state = self.reset(keys[:E], self.env_params)
        step_keys = keys[E:].reshape(limit, E, 2) if presplit else keys[E:]

        def body(c: tuple) -> tuple:
            t, obs, env_state, G, done, rnn_state = c
            S = self.normalize(moments, obs)
            if self.recurrent:
                Z, _, rnn_state = self._recurrent().forward_step(params, non_trainable, S, rnn_state)
            else:
                Z = learner.forward(params, non_trainable, S)[0]
            keys_t = (step_keys[t] if presplit
                      else jax.vmap(jax.random.fold_in, in_axes=(0, None))(step_keys, t))
            obs, env_state, r, terminated, truncated, _ = self.step(
                keys_t, env_state, learner.env_actions(learner.greedy_actions(Z)), self.env_params)
            G = G + jnp.where(done, 0.0, r)
            return t + 1, obs, env_state, G, done | terminated | truncated, rnn_state

        c = (jnp.zeros((), jnp.int32), obs, env_state, jnp.zeros(E), jnp.zeros(E, bool),
             self._recurrent().initial_state(E) if self.recurrent else ())
        c = jax.lax.while_loop(lambda c: (c[0] < limit) & ~jnp.all(c[4]), body, c)
        return jnp.mean(c[3])


def _uniform(bits: jax.Array, minval: float | np.floating) -> jax.Array:
    """Floats uniform in ``[minval, 1)`` from uint32 ``bits``, as ``jax.random.uniform``."""
    unit = jax.lax.bitcast_convert_type((bits >> 9) | jnp.uint32(0x3F800000), jnp.float32) - 1.0
    return jnp.maximum(minval, unit * (1.0 - minval) + minval)


def _tree_slice(tree: Any, start: int, stop: int | None) -> Any:
    return jax.tree_util.tree_map(lambda x: x[start:stop], tree)


def _tree_where(mask: jax.Array, new: Any, old: Any) -> Any:
    """``new`` where ``mask`` [N] holds, else ``old``, leaf by leaf of two pytrees [N, ...]."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(_rows(mask, b), a, b), new, old)


def _rows(mask: jax.Array, x: jax.Array) -> jax.Array:
    """``mask`` [N] broadcast against ``x`` [N, ...]."""
    return mask.reshape(-1, *([1] * (x.ndim - 1)))
