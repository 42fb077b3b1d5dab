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
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from plugrl._backend import prng_key
from plugrl.agents.config import build_config
from plugrl.agents.presets import load_preset
from plugrl.samplers import RolloutSampler, make_vector_env
from plugrl.utils.checkpoints import rng_from_json, rng_state_to_json
from plugrl.utils.pickling import Rebuildable

__all__ = ["AgentPolicy", "BaseAgent"]


class AgentPolicy:
    """The trained policy of an agent, callable on one raw observation: ``a = agent.policy(s)``."""

    def __init__(self, agent: BaseAgent) -> None:
        self._agent = agent

    def __call__(self, s: Any) -> Any:
        return self._agent.select_action(s)

    def greedy(self, s: Any) -> Any:
        return self._agent.select_action(s, deterministic=True)


class BaseAgent(Rebuildable, abc.ABC):
    """Base of the ready-made agents.

    Parameters
    ----------
    env : str, gymnasium.Env or gymnasium.vector.VectorEnv
        A Gymnasium id, an environment, or a vector environment.
    seed : int, optional
        Seeds networks, environments and every random draw; the same seed gives the same run.
    function_approximator : FunctionApproximator, optional
        A user-made body instead of the default MLPs.
    **config
        Hyperparameters (fields of the agent's ``CONFIG`` dataclass); aliases from the seeds are
        accepted, unknown names are an error.
    """

    AGENT_TYPE: ClassVar[str] = "BaseAgent"
    CONFIG: ClassVar[type]
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, env: Any, *, seed: int | None = None, function_approximator: Any = None,
                 **config: Any) -> None:
        self.config = build_config(self.CONFIG, self.DEFAULTS, config)
        self.seed = int(seed) if seed is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1)
        self.env_id = _env_id(env)
        self.envs = make_vector_env(env, self.config.num_envs, self.config.vectorization, self.seed)
        self.observation_space = self.envs.single_observation_space
        self.action_space = self.envs.single_action_space
        self.learner = self._make_learner(function_approximator)
        self.sampler = RolloutSampler(self.envs, self._steps_per_iteration(), seed=self.seed)
        self._rng = np.random.default_rng(self.seed)
        self._key = prng_key(self.seed)
        self.num_steps = 0
        self.history: list[dict[str, float]] = []
        self.policy = AgentPolicy(self)

    @abc.abstractmethod
    def _make_learner(self, function_approximator: Any) -> Any:
        """The agent's learner (networks, optimizer, jitted update), for the env's spaces."""

    @abc.abstractmethod
    def _steps_per_iteration(self) -> int:
        """Vector steps collected by one iteration of :meth:`fit`."""

    # ------------------------------------------------------------------ training
    def fit(self, total_steps: int, callback: Callable[[Any, dict], Any] | None = None,
            checkpoint_interval: int | None = None, restore: bool = False,
            checkpoint_dir: str | None = None, keep_checkpoints: int = 3) -> BaseAgent:
        """Train until ``total_steps`` environment steps (counted over all environments).

        Parameters
        ----------
        total_steps : int
            The total number of env steps after training; ``fit(2 * N, restore=True)`` after
            ``fit(N)`` continues to ``2 * N``.
        callback : callable, optional
            ``callback(agent, record)`` after each iteration (a rollout and its update), with the
            record appended to ``agent.history``; returning ``False`` stops training.
        checkpoint_interval : int, optional
            Write a checkpoint every so many env steps (and at the end) into ``checkpoint_dir``.
        restore : bool, optional
            Continue from the newest checkpoint in ``checkpoint_dir``, if there is one.
        checkpoint_dir : str, optional
            Where checkpoints live; needed with ``checkpoint_interval`` or ``restore``.
        keep_checkpoints : int, optional
            How many of the newest checkpoints to keep.
        """
        from plugrl.agents.persistence import (
            latest_agent_checkpoint,
            restore_agent,
            save_agent,
        )

        directory = checkpoint_dir or ""
        if (checkpoint_interval or restore) and not directory:
            raise ValueError("checkpoint_dir: expected a directory when checkpoint_interval or "
                             f"restore is given, got {checkpoint_dir!r}")
        if restore and (path := latest_agent_checkpoint(directory)) is not None:
            restore_agent(self, path)
        next_checkpoint = _next_multiple(self.num_steps, checkpoint_interval)
        while self.num_steps < total_steps:
            record = self._train_iteration(total_steps)
            self.history.append(record)
            if callback is not None and callback(self, record) is False:
                break
            if checkpoint_interval and self.num_steps >= next_checkpoint:
                save_agent(self, directory, keep_last=keep_checkpoints)
                next_checkpoint = _next_multiple(self.num_steps, checkpoint_interval)
        if checkpoint_interval:
            save_agent(self, directory, keep_last=keep_checkpoints)
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
        returns = []
        for i in range(n_episodes):
            s, _ = env.reset(seed=self.seed + 1_000_003 + i)
            G, done = 0.0, False
            while not done:
                s, r, terminated, truncated, _ = env.step(self.select_action(s, deterministic))
                G += float(r)
                done = terminated or truncated
            returns.append(G)
        env.close()
        mean = float(np.mean(returns))
        return (mean, returns) if return_episode_rewards else mean

    def evaluation_env(self) -> gym.Env:
        """A fresh Gymnasium environment for :meth:`evaluate` (the caller closes it)."""
        if self.env_id is None:
            raise ValueError("evaluate: the agent was made from an env without a Gymnasium id; "
                             "construct it from an id or a registered env")
        return gym.make(self.env_id)

    def close(self) -> None:
        """Close the training environments (and their subprocesses, with async vectorization)."""
        self.sampler.close()

    # ------------------------------------------------------------------ persistence
    def save(self, path: str) -> str:
        """Save the agent (weights, optimizer, configuration, counters, ...) to ``path``."""
        from plugrl.agents.persistence import save_agent_to

        return str(save_agent_to(self, path))

    def __getstate__(self) -> dict[str, Any]:
        """Constructor arguments and the files of a checkpoint (the one source of what an
        agent's state is): unpickling builds the agent again and restores the checkpoint."""
        from plugrl.agents.persistence import checkpoint_files

        return {"_init_args": self.__dict__["_init_args"], "checkpoint": checkpoint_files(self)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        from plugrl.agents.persistence import restore_checkpoint_files

        self._construct_again(state["_init_args"])
        restore_checkpoint_files(self, state["checkpoint"])

    @classmethod
    def load(cls, path: str, **env_overrides: Any) -> Any:
        """Load an agent saved with :meth:`save` (or a checkpoint of ``fit``)."""
        from plugrl.agents.persistence import load_agent

        return load_agent(cls, path, **env_overrides)

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


def _next_multiple(steps: int, interval: int | None) -> int:
    if not interval:
        return 0
    return (steps // interval + 1) * interval
