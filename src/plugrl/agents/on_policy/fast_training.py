"""Training on the fast path, from the host: ``fit`` chunk by chunk.

An on-policy agent constructed on a JAX environment (``PPO(plugrl.envs.jax.make("CartPole-v1"))``)
trains through :class:`FastPath`: each iteration of ``fit`` is one call of the compiled chunk of
:class:`~plugrl.agents.on_policy.fast_path.FastTrainer`, which runs every rollout and update up to
the next evaluation, callback or checkpoint, so Python callbacks run between chunks on the host
and never inside the compiled program. The chunk starts from the agent's state and returns the
new one (:class:`TrainingState`), which the agent takes.
:func:`~plugrl.agents.on_policy.fast_many.train_many` runs the same compiled chunk under
``jax.vmap`` for many seeds and hyperparameter settings.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from plugrl._backend.jax import TrainState, prng_key
from plugrl.agents.on_policy.fast_path import (
    TRACED_FIELDS,
    FastTrainer,
    Hyperparameters,
)
from plugrl.agents.on_policy.learner import OnPolicyLearner
from plugrl.utils.running_moments import Moments
from plugrl.utils.schedules import schedule_start

__all__ = ["EVAL_SEED_OFFSET", "FastPath", "TrainingState", "check_fast_path", "hyperparameters",
           "is_jax_env", "mean_episode_return"]

#: The evaluation episodes of seed ``s`` are seeded from ``s + EVAL_SEED_OFFSET``, as in
#: ``BaseAgent.evaluate``.
EVAL_SEED_OFFSET = 1_000_003


class TrainingState(NamedTuple):
    """What a chunk of the fast path takes from the agent and gives back to it."""

    learner: TrainState
    moments: Moments | None  # the observation normaliser's statistics, if any
    key: jax.Array  # the agent's raw JAX key
    steps: int  # env steps so far


class FastPath:
    """The fast-path state of one agent: compiled trainers and the carry between chunks.

    Parameters
    ----------
    learner : OnPolicyLearner
        The agent's learner (its functions; the state travels in :class:`TrainingState`).
    env : JaxEnv
        The JAX environment to train on.
    normalizer : RunningNormalizer, optional
        The agent's observation normaliser (its ``clip`` and ``epsilon``).
    seed : int, optional
        The agent's seed: it seeds the evaluation episodes, and the run of that seed in
        :func:`~plugrl.agents.on_policy.fast_many.train_many` starts from the learner's state.
    """

    def __init__(self, learner: OnPolicyLearner, env: Any, normalizer: Any = None, seed: int = 0) -> None:
        check_fast_path(learner, env)
        self.learner, self.env, self.normalizer, self.seed = learner, env, normalizer, seed
        self.env_params = env.default_params
        self.chunk_steps: int | None = None  # None: a chunk runs to the end of ``fit``
        self.evaluate = False
        self.episodes = 0
        self._trainers: dict[tuple[int, int], FastTrainer] = {}
        self._carry: Any = None

    def trainer(self, max_updates: int, eval_episodes: int) -> FastTrainer:
        """The compiled trainer for chunks of at most ``max_updates`` iterations (cached)."""
        key = (max_updates, eval_episodes)
        if key not in self._trainers:
            self._trainers[key] = FastTrainer(self.learner, self.env, self.env_params, max_updates,
                                              eval_episodes, self.normalizer)
        return self._trainers[key]

    def iteration(self, state: TrainingState, total_steps: int) -> tuple[TrainingState, dict[str, float]]:
        """Run one chunk from ``state`` up to the next multiple of ``chunk_steps`` (or
        ``total_steps``); returns the new state and the chunk's record."""
        cfg = self.learner.config
        trainer, num_updates = self.plan_chunk(state.steps, total_steps)
        args = (self._current_carry(trainer, state), hyperparameters(cfg), np.float32(total_steps),
                np.int32(num_updates))
        chunk, evaluation = trainer.compiled(*args)
        carry, log = chunk(*args)
        eval_return = (evaluation(carry.learner, carry.moments, prng_key(self.seed + EVAL_SEED_OFFSET))
                       if evaluation is not None else None)
        self._carry = carry
        moments = None if carry.moments is None else Moments(*(np.asarray(x) for x in carry.moments))
        state = TrainingState(carry.learner, moments, carry.key, int(carry.steps))
        return state, self._record(trainer, state.steps, log, num_updates, eval_return)

    def plan_chunk(self, done: int, total_steps: int, runs: int = 1) -> tuple[FastTrainer, int]:
        """The trainer and the iterations of the chunk from ``done`` env steps up to the next
        multiple of ``chunk_steps`` (or ``total_steps``), where ``runs`` runs (SVPG's particles)
        step together and ``done`` and ``total_steps`` count all of their steps."""
        cfg = self.learner.config
        size = cfg.n_steps * cfg.num_envs * runs
        chunk = self.chunk_steps or total_steps
        target = min(total_steps, (done // chunk + 1) * chunk)
        num_updates = max(1, math.ceil((target - done) / size))
        trainer = self.trainer(math.ceil(chunk / size) + 1 if self.chunk_steps else num_updates,
                               cfg.eval_episodes if self.evaluate else 0)
        return trainer, num_updates

    def _current_carry(self, trainer: FastTrainer, state: TrainingState) -> Any:
        """The carry of the last chunk, unless the state changed since (restored)."""
        carry = self._carry
        if carry is not None and carry.learner is state.learner and int(carry.steps) == state.steps:
            return carry
        return trainer.start(state.learner, np.asarray(state.key), state.steps, state.moments)

    def _record(self, trainer: FastTrainer, steps: int, log: Any, num_updates: int,
                eval_return: Any) -> dict[str, float]:
        returns, episodes = (np.asarray(x)[:num_updates] for x in (log.mean_return, log.episodes))
        self.episodes += int(episodes.sum())
        record = {"steps": float(steps), "episodes": float(self.episodes),
                  "mean_return": mean_episode_return(returns, episodes)}
        if trainer.metric_names:
            record.update(zip(trainer.metric_names, np.asarray(log.metrics)[num_updates - 1].tolist()))
        if eval_return is not None:
            record["eval_return"] = float(eval_return)
        return record


def mean_episode_return(returns: np.ndarray, episodes: np.ndarray) -> float:
    """The mean return of the episodes that ended in a chunk, from each iteration's mean return
    ``returns`` and number of episodes ``episodes`` ([iterations]); NaN if none ended."""
    ended = episodes > 0
    if not ended.any():
        return float("nan")
    return float(np.sum(returns[ended] * episodes[ended]) / episodes[ended].sum())


def hyperparameters(config: Any, **overrides: Any) -> Hyperparameters:
    """The traced hyperparameters of a configuration; ``overrides`` replace single fields.

    ``lr`` and ``clip`` give the initial value of the configuration's schedule: ``'lin_1e-3'``
    becomes 1e-3 (decayed linearly in the graph); a callable schedule ignores its value.
    """
    values = {}
    for name in TRACED_FIELDS:
        value = overrides.get(name, getattr(config, name))
        base = getattr(config, name)
        if isinstance(value, str) != isinstance(base, str) or (callable(value) and value is not base):
            raise ValueError(f"{name}: expected a value of the configuration's kind of schedule "
                             f"({base!r}), got {value!r}")
        if isinstance(base, str) or callable(base):
            value = schedule_start(value)
        values[name] = np.float32(value)  # a host scalar: jnp.float32 compiles a kernel
    return Hyperparameters(**values)


def is_jax_env(env: Any) -> bool:
    """Whether ``env`` is a JAX environment (pure ``reset``/``step``), which selects the fast path."""
    from plugrl.envs.jax import JaxEnv

    return isinstance(env, JaxEnv)


def check_fast_path(learner: OnPolicyLearner, env: Any, env_params: Any = None) -> None:
    """Check, by tracing without compiling, that the fast path can run; name what cannot.

    Raises
    ------
    TypeError
        If the environment's ``reset``/``step`` or the networks cannot be traced by JAX, or a
        callable schedule cannot take a traced value.
    """
    check_traceable(learner, env, env.default_params if env_params is None else env_params)
    for name in ("lr", "clip"):
        check_schedule(name, getattr(learner.config, name))


def check_schedule(name: str, schedule: Any) -> None:
    """A callable schedule must accept a traced progress (``jnp`` arithmetic, no ``float()``)."""
    if not callable(schedule):
        return
    try:
        jax.eval_shape(lambda p: jnp.asarray(schedule(p), jnp.float32), jnp.float32(0.5))
    except Exception as exc:  # noqa: BLE001  (any failure to trace means the same thing)
        raise TypeError(f"{name}: on the fast path a callable schedule is called on a traced JAX "
                        f"scalar inside jit; expected jnp-compatible arithmetic, got "
                        f"{type(exc).__name__}: {_first_line(exc)}. Use a float or "
                        f"'lin_<float>'") from None


def check_traceable(learner: OnPolicyLearner, env: Any, env_params: Any) -> None:
    """Trace (without compiling) the environment and the networks once, so that an untraceable
    piece is named here instead of failing deep inside the compiled program (shapes only: a
    concrete array made here would compile a kernel of its own)."""
    key = jax.ShapeDtypeStruct((2,), jnp.uint32)
    action = (jax.ShapeDtypeStruct((), jnp.int32) if isinstance(env.action_space, gym.spaces.Discrete)
              else jax.ShapeDtypeStruct(env.action_space.shape, jnp.float32))
    for method in ("reset", "step"):
        try:
            _, state = jax.eval_shape(env.reset, key, env_params)
            if method == "step":
                jax.eval_shape(env.step, key, state, action, env_params)
        except Exception as exc:  # noqa: BLE001
            raise TypeError(f"env.{method}: expected a pure function that jax.jit can trace, got "
                            f"{type(exc).__name__} while tracing {type(env).__name__}.{method}: "
                            f"{_first_line(exc)}") from None
    S = jax.ShapeDtypeStruct((2, *env.observation_space.shape), jnp.float32)
    try:
        jax.eval_shape(learner.forward, learner.state.params, learner.state.non_trainable, S)
    except Exception as exc:  # noqa: BLE001
        raise TypeError(f"function_approximator: the fast path needs a network that JAX can trace "
                        f"(Keras layers and keras.ops only), got {type(exc).__name__} while "
                        f"tracing the body: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""

