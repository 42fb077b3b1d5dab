"""The fast path: rollouts on a JAX environment and updates, all inside one ``jax.jit``.

Given an on-policy learner and a :class:`~plugrl.envs.jax.JaxEnv`, :func:`make_jitted_training`
builds one compiled function that runs ``num_updates`` times: a rollout of ``n_steps`` vector
steps of ``num_envs`` environments (``lax.scan``, environments reset automatically), GAE
advantages, then every epoch and minibatch of the learner's update. Nothing leaves the device
until the end. The learner's loss and GAE are the same code the ordinary path runs, so the
trained state can be loaded back into the agent (``agent.learner.load_state``), which then acts
on Gymnasium's environment as usual.

Not yet on this path: the observation normaliser, learning-rate and clip schedules (constant
here), periodic evaluation and training many seeds at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from plugrl._backend.jax import (
    TrainState,
    minibatch_epochs,
    train_step,
    with_learning_rate,
)
from plugrl.agents.on_policy import OnPolicyLearner
from plugrl.caching.gae import gae_advantages

__all__ = ["make_jitted_training"]


class _Carry(NamedTuple):
    learner: TrainState
    env_state: Any
    obs: jax.Array
    returns: jax.Array  # of the ongoing episodes, [num_envs]
    key: jax.Array


def make_jitted_training(learner: OnPolicyLearner, env: Any, env_params: Any,
                         num_updates: int, lr: float, clip: float) -> Callable:
    """A jitted ``train(state, key) -> (state, mean_returns)`` for a JAX environment.

    ``mean_returns`` [num_updates] holds, per update, the mean return of the episodes that
    ended during its rollout (NaN if none did). Schedules are constant on this path.
    """
    cfg = learner.config
    N, T = cfg.num_envs, cfg.n_steps
    size = N * T
    num_minibatches = size // cfg.batch_size
    step_fn = train_step(learner._loss_fn, learner.optimizer, type(learner).__name__)
    reset = jax.vmap(env.reset, in_axes=(0, None))
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def env_step(carry: _Carry, _: Any) -> tuple[_Carry, tuple]:
        key, k_noise, k_step, k_reset = jax.random.split(carry.key, 4)
        noise = (jax.random.gumbel(k_noise, (N, learner.policy.function_approximator.num_actions))
                 if learner.discrete else
                 jax.random.normal(k_noise, (N, *learner.policy.function_approximator.action_space.shape)))
        packed = learner._act_fn(carry.learner.params, carry.learner.non_trainable, carry.obs, noise)
        logP, V = packed[:, 0], packed[:, 1]
        A = packed[:, 2].astype(jnp.int32) if learner.discrete else packed[:, 2:2 + noise[0].size]
        # As on the ordinary path: Box actions are clipped to the bounds for the environment.
        A_env = A if learner.discrete else jnp.clip(A, env.action_space.low, env.action_space.high)
        obs_next, env_state, r, terminated, truncated, _ = step(
            jax.random.split(k_step, N), carry.env_state, A_env, env_params)
        done = terminated | truncated
        reset_obs, reset_state = reset(jax.random.split(k_reset, N), env_params)
        env_state = jax.tree_util.tree_map(
            lambda new, old: jnp.where(done.reshape(-1, *([1] * (old.ndim - 1))), new, old),
            reset_state, env_state)
        returns = carry.returns + r
        transition = (carry.obs, A, r, terminated, truncated, obs_next, logP, V, done, returns)
        carry = _Carry(carry.learner, env_state, jnp.where(done[:, None], reset_obs, obs_next),
                       jnp.where(done, 0.0, returns), key)
        return carry, transition

    def one_update(carry: _Carry, _: Any) -> tuple[_Carry, jax.Array]:
        carry, (S, A, R, terminated, truncated, S_next, logP, V, done, returns) = jax.lax.scan(
            env_step, carry, None, length=T)
        state = carry.learner
        V_next = learner._forward(state.params, state.non_trainable,
                                  S_next.reshape(size, -1))[1].reshape(T, N)
        Adv, Rlambda = gae_advantages(R, V, V_next, terminated, done, cfg.gamma, cfg.gae_lambda)
        key, k_perm, k_update = jax.random.split(carry.key, 3)
        indices = jax.vmap(lambda k: jax.random.permutation(k, size)[: num_minibatches * cfg.batch_size])(
            jax.random.split(k_perm, cfg.num_epoch)).reshape(cfg.num_epoch, num_minibatches, -1)
        batch = {"S": S.reshape(size, -1), "A": A.reshape(size, *A.shape[2:]), "logP": logP.reshape(-1),
                 "V": V.reshape(-1), "Adv": Adv.reshape(-1), "R": Rlambda.reshape(-1)}
        state = state._replace(opt_state=with_learning_rate(state.opt_state, lr))
        state, _ = minibatch_epochs(lambda st, mb, k: step_fn(st, {**mb, "clip": clip}, k),
                                    state, batch, indices, k_update)
        finished = jnp.sum(done)
        mean_return = jnp.where(finished > 0, jnp.sum(jnp.where(done, returns, 0.0)) / finished, jnp.nan)
        return carry._replace(learner=state, key=key), mean_return

    @jax.jit
    def train(state: TrainState, key: jax.Array) -> tuple[TrainState, jax.Array]:
        key, k_reset = jax.random.split(key)
        obs, env_state = reset(jax.random.split(k_reset, N), env_params)
        carry = _Carry(state, env_state, obs, jnp.zeros(N), key)
        carry, mean_returns = jax.lax.scan(one_update, carry, None, length=num_updates)
        return carry.learner, mean_returns

    return train
