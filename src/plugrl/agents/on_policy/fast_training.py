"""Training on the fast path, from the host: ``fit`` chunk by chunk, and many runs at once.

An on-policy agent constructed on a JAX environment (``PPO(plugrl.envs.jax.make("CartPole-v1"))``)
trains through :class:`FastPath`: each iteration of ``fit`` is one call of the compiled chunk of
:class:`~plugrl.agents.on_policy.fast_path.FastTrainer`, which runs every rollout and update up to the next
evaluation, callback or checkpoint, so Python callbacks run between chunks on the host and
never inside the compiled program. :func:`train_many` runs the same compiled chunk under
``jax.vmap`` for many seeds and hyperparameter settings.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from plugrl._backend.jax import TrainState, prng_key
from plugrl.agents.on_policy.fast_path import (
    TRACED_FIELDS,
    FastTrainer,
    Hyperparameters,
    NormState,
)
from plugrl.function_approximators.predefined.mlp import MLP
from plugrl.agents.on_policy.learner import OnPolicyLearner

__all__ = ["FastPath", "ManyRuns", "check_fast_path", "hyperparameters", "train_many"]

_EVAL_SEED_OFFSET = 1_000_003  # as BaseAgent.evaluate


class FastPath:
    """The fast-path state of one agent: compiled trainers and the carry between chunks.

    Parameters
    ----------
    agent : OnPolicyAgent
        Trained in place; its learner, normaliser, key and counters are updated after each chunk.
    env : JaxEnv
        The JAX environment to train on.
    """

    def __init__(self, agent: Any, env: Any) -> None:
        check_fast_path(agent.learner, env)
        self.agent, self.env = agent, env
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
            self._trainers[key] = FastTrainer(self.agent.learner, self.env, self.env_params,
                                              max_updates, eval_episodes, self.agent.normalizer)
        return self._trainers[key]

    def iteration(self, total_steps: int) -> dict[str, float]:
        """Run one chunk up to the next multiple of ``chunk_steps`` (or ``total_steps``)."""
        agent, cfg = self.agent, self.agent.config
        size = cfg.n_steps * cfg.num_envs
        chunk = self.chunk_steps or total_steps
        target = min(total_steps, (agent.num_steps // chunk + 1) * chunk)
        num_updates = max(1, math.ceil((target - agent.num_steps) / size))
        trainer = self.trainer(math.ceil(chunk / size) + 1 if self.chunk_steps else num_updates,
                               cfg.eval_episodes if self.evaluate else 0)
        args = (self._current_carry(trainer), hyperparameters(cfg), np.float32(total_steps),
                np.int32(num_updates))
        chunk, evaluation = trainer.compiled(*args)
        carry, log = chunk(*args)
        eval_return = (evaluation(carry.learner, carry.norm, prng_key(agent.seed + _EVAL_SEED_OFFSET))
                       if evaluation is not None else None)
        self._carry = carry
        agent.learner.load_state(carry.learner)
        if carry.norm is not None:
            agent.normalizer.load_state({k: np.asarray(v, np.float64)
                                         for k, v in carry.norm._asdict().items()})
        agent._key = np.asarray(carry.key)
        agent.num_steps = int(carry.steps)
        return self._record(trainer, log, num_updates, eval_return)

    def _current_carry(self, trainer: FastTrainer) -> Any:
        """The carry of the last chunk, unless the agent's state changed since (restored)."""
        agent, carry = self.agent, self._carry
        if carry is not None and carry.learner is agent.learner.state \
                and int(carry.steps) == agent.num_steps:
            return carry
        norm = None
        if agent.normalizer is not None:
            norm = NormState(*(np.asarray(agent.normalizer.state()[k], np.float32)
                               for k in ("mean", "var", "count")))
        return trainer.start(agent.learner.state, np.asarray(agent._key), agent.num_steps, norm)

    def _record(self, trainer: FastTrainer, log: Any, num_updates: int,
                eval_return: Any) -> dict[str, float]:
        returns, episodes = (np.asarray(x)[:num_updates] for x in (log.mean_return, log.episodes))
        self.episodes += int(episodes.sum())
        ended = episodes > 0
        record = {"steps": float(self.agent.num_steps), "episodes": float(self.episodes),
                  "mean_return": (float(np.sum(returns[ended] * episodes[ended]) / episodes[ended].sum())
                                  if ended.any() else float("nan"))}
        if trainer.metric_names:
            record.update(zip(trainer.metric_names, np.asarray(log.metrics)[num_updates - 1].tolist()))
        if eval_return is not None:
            record["eval_return"] = float(eval_return)
        return record


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
            value = float(value[4:]) if isinstance(value, str) else 1.0
        values[name] = np.float32(value)  # a host scalar: jnp.float32 compiles a kernel
    return Hyperparameters(**values)


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


def train_many(agent: Any, seeds: list[int], total_steps: int, eval_interval: int | None = None,
               **grid: list[Any]) -> ManyRuns:
    """Train one run per seed and combination of ``grid`` values at once, under ``jax.vmap``.

    Parameters
    ----------
    agent : OnPolicyAgent
        Made on a JAX environment; gives the configuration (its own state is not changed).
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
    fast = agent._fast
    unknown = sorted(set(grid) - set(TRACED_FIELDS))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: expected hyperparameters that can be traced, one "
                         f"of {list(TRACED_FIELDS)}; others need one agent per value")
    combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    runs = [{"seed": int(seed), **combo} for combo in combos for seed in seeds]
    cfg = agent.config
    size = cfg.n_steps * cfg.num_envs
    chunk = eval_interval or total_steps
    max_updates = math.ceil(chunk / size) + (1 if eval_interval else 0)
    trainer = fast.trainer(max_updates, cfg.eval_episodes if eval_interval else 0)
    states = _initial_states(agent, [r["seed"] for r in runs])
    carry = _stack([trainer.start(state, np.asarray(prng_key(r["seed"])))
                    for state, r in zip(states, runs)])
    hp = _stack([hyperparameters(cfg, **{k: v for k, v in r.items() if k != "seed"}) for r in runs])
    eval_keys = _stack([prng_key(r["seed"] + _EVAL_SEED_OFFSET) for r in runs])
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
            eval_returns.append(np.asarray(evaluation(carry.learner, carry.norm, eval_keys)))
    returns = np.concatenate(train_returns, axis=1)
    return ManyRuns(runs, size * np.arange(1, returns.shape[1] + 1), returns, np.asarray(eval_steps),
                    np.stack(eval_returns, axis=1) if eval_returns else np.zeros((len(runs), 0)),
                    carry.learner)


def _stack(trees: list[Any]) -> Any:
    """Pytrees of the same structure stacked along a new leading axis, on the host."""
    return jax.tree_util.tree_map(lambda *x: np.stack([np.asarray(v) for v in x]), *trees)


def _initial_states(agent: Any, seeds: list[int]) -> list[TrainState]:
    """Each seed's initial learner state, built like the agent's own networks."""
    learner = agent.learner
    default = isinstance(learner.policy.function_approximator, MLP)
    states = {}
    for seed in dict.fromkeys(seeds):
        if seed == agent.seed or not default:
            states[seed] = learner.state
        else:
            states[seed] = OnPolicyLearner(agent.observation_space, agent.action_space,
                                           agent.config, seed).state
    return [states[s] for s in seeds]


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
            obs, state = jax.eval_shape(env.reset, key, env_params)
            if method == "step":
                jax.eval_shape(env.step, key, state, action, env_params)
        except Exception as exc:  # noqa: BLE001
            raise TypeError(f"env.{method}: expected a pure function that jax.jit can trace, got "
                            f"{type(exc).__name__} while tracing {type(env).__name__}.{method}: "
                            f"{_first_line(exc)}") from None
    S = jax.ShapeDtypeStruct((2, *env.observation_space.shape), jnp.float32)
    try:
        jax.eval_shape(learner._forward, learner.state.params, learner.state.non_trainable, S)
    except Exception as exc:  # noqa: BLE001
        raise TypeError(f"function_approximator: the fast path needs a network that JAX can trace "
                        f"(Keras layers and keras.ops only), got {type(exc).__name__} while "
                        f"tracing the body: {_first_line(exc)}") from None




def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""

