"""What every ready-made agent shares: construction, the ``fit`` loop with checkpoints,
evaluation, saving, loading and presets.

An agent subclasses :class:`BaseAgent` and supplies its configuration class, its learner and
three pieces: :meth:`BaseAgent._train_iteration` (collect experience and update once),
:meth:`BaseAgent.select_action` and :meth:`BaseAgent.predict`. What goes into a checkpoint
beyond the common parts (learner state, counters, generators, environments) comes from
:meth:`BaseAgent._checkpoint_extra` and :meth:`BaseAgent._restore_extra` (saved and restored through
:meth:`BaseAgent.checkpoint_parts` and :meth:`BaseAgent.restore_parts`).
"""

from __future__ import annotations

import abc
import dataclasses
import os
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from plugrl.agents.config import build_config
from plugrl.agents.config_checks import ray_options
from plugrl.agents.presets import load_preset
from plugrl.agents.run_control import (
    CheckpointSchedule,
    RunControl,
    check_logger,
    check_not_a_directory,
    log_record,
    model_dir_argument,
)
from plugrl.samplers import make_env_like, make_evaluation_env, make_vector_env
from plugrl.utils.checkpoints import rng_from_json, rng_state_to_json
from plugrl.utils.media import episode_return
from plugrl.utils.validation import check_positive_int

__all__ = ["AgentPolicy", "BaseAgent"]


class AgentPolicy:
    """The trained policy of an agent, callable on one raw observation: ``a = agent.policy(s)``."""

    def __init__(self, agent: BaseAgent) -> None:
        self._agent = agent

    def __call__(self, s: Any) -> Any:
        return self._agent.select_action(s)

    def greedy(self, s: Any) -> Any:
        return self._agent.select_action(s, deterministic=True)


class BaseAgent(RunControl, abc.ABC):
    """Base of the ready-made agents.

    Parameters
    ----------
    env : str, gymnasium.Env or gymnasium.vector.VectorEnv
        A Gymnasium id, an environment, or a vector environment.
    seed : int, optional
        Seeds networks, environments and every random draw; the same seed gives the same run.
    function_approximator : FunctionApproximator, optional
        A user-made body instead of the default MLPs.
    model_dir : str, optional
        The directory of the agent's checkpoints (DeepChem's name; ``save_dir`` is pyrado's):
        ``fit`` writes them there, ``restore`` and ``fit(restore=True)`` read them.
    save_dir : str, optional
        pyrado's name for ``model_dir`` (give one of the two).
    max_iter : int, optional
        pyrado's number of iterations: what ``fit()`` without a step count (and ``train()``) runs.
    eval_intvl : int, optional
        pyrado's evaluation interval: every so many iterations of ``fit``, the greedy policy's
        mean return over ``config.eval_episodes`` episodes is recorded as ``"eval_return"``.
    logger : object, optional
        pyrado's step logger: after each iteration, ``logger.add_value(name, value)`` for every
        entry of the iteration's record, then ``logger.record_step()``; or a callable
        ``logger(record)``.
    **config
        Hyperparameters (fields of the agent's ``CONFIG`` dataclass); aliases from the seeds are
        accepted, unknown names are an error.
    """

    AGENT_TYPE: ClassVar[str] = "BaseAgent"
    CONFIG: ClassVar[type]
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, env: Any, *, seed: int | None = None, function_approximator: Any = None,
                 model_dir: str | os.PathLike[str] | None = None,
                 save_dir: str | os.PathLike[str] | None = None, max_iter: int | None = None,
                 eval_intvl: int | None = None, logger: Any = None, **config: Any) -> None:
        self.config = build_config(self.CONFIG, self.config_defaults(config), config)
        #: Where ``fit`` writes checkpoints and ``restore`` reads them (DeepChem's ``model_dir``,
        #: pyrado's ``save_dir``); None: no checkpoints unless ``fit`` is given an interval.
        self.model_dir = model_dir_argument(model_dir, save_dir)
        #: pyrado's iterations of ``fit()`` without a step count (and of ``train()``).
        self.max_iter = None if max_iter is None else check_positive_int(max_iter, "max_iter")
        #: pyrado's evaluation interval in iterations of ``fit`` (recorded as ``"eval_return"``).
        self.eval_intvl = None if eval_intvl is None else check_positive_int(eval_intvl, "eval_intvl")
        #: Identifies this run's checkpoints in ``model_dir``; restoring takes over the saved run's.
        self.run_id: str | None = uuid.uuid4().hex
        self.logger = check_logger(logger)
        self.seed = int(seed) if seed is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1)
        self.env_id = _env_id(check_not_a_directory(env))
        self._env_argument = env  # evaluation copies it when it has no id
        self.envs = make_vector_env(env, self._num_vector_envs(), self.config.vectorization, self.seed,
                                    ray_options(self.config))
        self.observation_space = self.envs.single_observation_space
        self.action_space = self.envs.single_action_space
        self.learner = self._make_learner(function_approximator)
        self.sampler = self._make_sampler()
        self._seed_generators()
        self.num_steps = 0
        self.curr_iter = 0  # iterations of fit done (pyrado's name)
        self.history: list[dict[str, float]] = []
        self.policy = AgentPolicy(self)

    @abc.abstractmethod
    def _make_learner(self, function_approximator: Any) -> Any:
        """The agent's learner (networks, optimizer, jitted update), for the env's spaces."""

    @classmethod
    def config_defaults(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The agent's defaults over the configuration's for the keywords ``config``:
        :attr:`DEFAULTS` (SVPG's depend on its ``particle``)."""
        return cls.DEFAULTS

    def _num_vector_envs(self) -> int:
        """The environments the agent steps together: ``config.num_envs`` (SVPG's particles
        each have that many)."""
        return int(self.config.num_envs)

    @abc.abstractmethod
    def _steps_per_iteration(self) -> int:
        """Vector steps collected by one iteration of :meth:`fit`."""

    # ------------------------------------------------------------------ training
    def fit(self, total_steps: int | None = None, max_checkpoints_to_keep: int = 5,
            checkpoint_interval: int | None = None, restore: bool = False, *,
            callback: Callable[[Any, dict], Any] | None = None, checkpoint_seconds: float | None = None,
            overwrite: bool = False) -> BaseAgent:
        """Train for ``total_steps`` **more** env steps (over all environments), as DeepChem's
        ``fit`` and SB3's ``learn``: ``fit(N)`` twice trains as ``fit(2 * N)`` with constant
        schedules (a schedule such as ``lr='lin_3e-4'`` spans each call's steps).

        Parameters
        ----------
        total_steps : int, optional
            Env steps for this call (training stops after the iteration that reaches them).
            None: pyrado's ``max_iter`` iterations, given at construction.
        max_checkpoints_to_keep : int, optional
            How many of this run's newest checkpoints ``model_dir`` keeps (DeepChem's name).
        checkpoint_interval : int, optional
            A checkpoint every so many **env steps** (DeepChem counts seconds: plugrl counts
            steps so that runs are reproducible; for wall-clock time use ``checkpoint_seconds``;
            a value that looks like seconds, such as 600, warns). Without a ``model_dir``, a new
            temporary directory becomes ``agent.model_dir``, as in DeepChem.
        restore : bool, optional
            First :meth:`restore` the newest checkpoint of ``model_dir``; an error if none.
        callback : callable, optional
            ``callback(agent, record)`` after each iteration, the record appended to
            ``agent.history``; returning ``False`` stops training.
        checkpoint_seconds : float, optional
            Also a checkpoint whenever this much wall-clock time has passed since the last.
        overwrite : bool, optional
            Delete another run's checkpoints found in ``model_dir`` instead of refusing to
            start: a run never writes among another's (its own would be pruned, or a later
            restore would resume the other).

        With a ``model_dir``, every call also ends with a checkpoint.
        """
        if restore:
            self.restore()
        iterations = None
        if total_steps is None:
            if self.max_iter is None:
                raise ValueError("total_steps: expected an int > 0, or max_iter given at "
                                 "construction, got None")
            iterations, total_steps = self.max_iter, self.max_iter * self.steps_per_iteration()
        check_positive_int(total_steps, "total_steps")
        schedule = CheckpointSchedule(self, max_checkpoints_to_keep, checkpoint_interval,
                                      checkpoint_seconds, overwrite)
        target, done = self.num_steps + int(total_steps), 0
        while self.num_steps < target if iterations is None else done < iterations:
            record = self._train_iteration(target)
            done += 1
            self.curr_iter += 1
            if self.eval_intvl and done % self.eval_intvl == 0:
                record["eval_return"] = float(self.evaluate(self.config.eval_episodes))  # type: ignore[arg-type]
            self.history.append(record)
            log_record(self.logger, record)
            if callback is not None and callback(self, record) is False:
                break
            schedule.after_iteration()
        schedule.finish()
        return self

    @abc.abstractmethod
    def _train_iteration(self, total_steps: int) -> dict[str, float]:
        """Collect experience, update, advance ``num_steps``; return the iteration's record."""

    def _progress_record(self) -> dict[str, float]:
        """Steps, episodes and the mean return of the last 10 episodes, for the history."""
        returns = self.sampler.episode_returns[-10:]
        return {"steps": float(self.num_steps), "episodes": float(len(self.sampler.episode_returns)),
                "mean_return": float(np.mean(returns)) if returns else float("nan")}

    # ------------------------------------------------------------------ acting
    @abc.abstractmethod
    def select_action(self, s: Any, deterministic: bool = False) -> Any:
        """One action for one observation: sampled, or the greedy one if ``deterministic``."""

    def evaluate(self, n_episodes: int = 10, deterministic: bool = True,
                 return_episode_rewards: bool = False) -> float | tuple[float, list[float]]:
        """Mean return over ``n_episodes`` on a fresh environment (seeded from the agent's seed)."""
        env = self.evaluation_env()
        returns = [episode_return(env, self.episode_policy(deterministic), seed=self.seed + 1_000_003 + i)
                   for i in range(n_episodes)]
        env.close()
        mean = float(np.mean(returns))
        return (mean, returns) if return_episode_rewards else mean

    def episode_policy(self, deterministic: bool) -> Callable[[Any], Any]:
        """The policy of one evaluation episode, ``s -> a`` (agents whose policy keeps a state
        between steps start each episode afresh)."""
        return lambda s: self.select_action(s, deterministic)

    def evaluation_env(self) -> gym.Env:
        """A fresh Gymnasium environment for :meth:`evaluate` (the caller closes it)."""
        if self.env_id is not None:  # with the keywords the agent's env was made with, if any
            spec = getattr(self._env_argument, "spec", None)
            return make_evaluation_env(spec if spec is not None and spec.kwargs else self.env_id)
        try:  # a copy of the instance (or DeepChem env) the agent was made from
            return make_env_like(self._env_argument)
        except TypeError as error:
            raise ValueError("evaluate: the agent was made from an env without a Gymnasium id "
                             "that cannot be copied either; construct it from an id, a registered "
                             "env or an env instance") from error

    def close(self) -> None:
        """Close the training environments (and their subprocesses, with async vectorization)."""
        self.sampler.close()

    # ------------------------------------------------------------------ presets and parts
    @classmethod
    def from_preset(cls, name_or_env: str, **overrides: Any) -> Any:
        """An agent on the env ``name_or_env`` with this agent's preset for it (``plugrl.presets``).

        Parameters
        ----------
        name_or_env : str
            The Gymnasium id the preset is named after, e.g. ``"CartPole-v1"``.
        **overrides
            ``seed``, ``function_approximator`` or hyperparameters; they win over the preset.

        Examples
        --------
        >>> agent = PPO.from_preset("CartPole-v1", seed=0)  # doctest: +SKIP
        >>> _, total_steps = plugrl.presets.load_preset("PPO", "CartPole-v1")  # doctest: +SKIP
        >>> agent.fit(total_steps)  # doctest: +SKIP
        """
        config, _ = load_preset(cls, name_or_env)
        return cls(name_or_env, **{**config, **overrides})

    def config_dict(self) -> dict[str, Any]:
        """The hyperparameters as plain data."""
        return dataclasses.asdict(self.config)

    def keras_models(self) -> dict[str, Any]:
        """The agent's networks as Keras models with the current weights (saved as ``.keras``)."""
        return self.learner.keras_models()

    def checkpoint_parts(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The agent's own part of a checkpoint: its JAX key (array ``"key"``), its NumPy
        generator (``"rng"``) and what its family adds (:meth:`_checkpoint_extra`, under
        ``"extra"``). The learner, counters, history, sampler and environments are saved by
        :mod:`plugrl.agents.persistence`."""
        arrays, extra = self._checkpoint_extra()
        return {"key": np.asarray(self._key), **arrays}, {"rng": rng_state_to_json(self._rng), "extra": extra}

    def restore_parts(self, arrays: Any, state: dict[str, Any]) -> None:
        """Restore what :meth:`checkpoint_parts` saved."""
        self._restore_extra(arrays, state.get("extra", {}))
        self._key = arrays["key"]
        self._rng = rng_from_json(state["rng"])

    def episodes_restarted(self) -> None:  # noqa: B027  (an optional hook)
        """Called when a restored checkpoint has started new episodes in every environment (a
        native vector env cannot replay the saved ones): what the agent keeps of the old
        episodes must not run on into the new ones."""

    def _checkpoint_extra(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays (named ``"<part>/<name>"``) and JSON data a checkpoint holds beyond the common
        parts."""
        return {}, {}

    def _restore_extra(self, arrays: Any, state: dict[str, Any]) -> None:  # noqa: B027  (an optional hook)
        """Restore what :meth:`_checkpoint_extra` saved."""


def _env_id(env: Any) -> str | None:
    if isinstance(env, str):
        return env
    spec = getattr(env, "spec", None)
    return getattr(spec, "id", None)
