"""On-policy agents: collect rollouts, estimate advantages, update, evaluate, save and load."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from plugrl._backend.jax import prng_key, split_key
from plugrl.agents.config import OnPolicyConfig, build_config
from plugrl.agents.normalizer import RunningNormalizer
from plugrl.agents.on_policy import OnPolicyLearner, schedule_value
from plugrl.samplers import RolloutSampler, make_vector_env

__all__ = ["AgentPolicy", "OnPolicyAgent"]


class AgentPolicy:
    """The trained policy of an agent, callable on one raw observation: ``a = agent.policy(s)``."""

    def __init__(self, agent: OnPolicyAgent) -> None:
        self._agent = agent

    def __call__(self, s: Any) -> Any:
        return self._agent.select_action(s)

    def greedy(self, s: Any) -> Any:
        return self._agent.select_action(s, deterministic=True)


class OnPolicyAgent:
    """Base of REINFORCE, A2C, PPO and PPO2.

    Parameters
    ----------
    env : str, gymnasium.Env or gymnasium.vector.VectorEnv
        A Gymnasium id, an environment, or a vector environment.
    seed : int, optional
        Seeds networks, environments and every random draw; the same seed gives the same run.
    function_approximator : FunctionApproximator, optional
        A body shared by actor and critic, instead of the default MLPs.
    **config
        Hyperparameters (see :class:`~plugrl.agents.config.OnPolicyConfig`); aliases from the
        seeds are accepted, unknown names are an error.
    """

    AGENT_TYPE: ClassVar[str] = "OnPolicyAgent"
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, env: Any, *, seed: int | None = None, function_approximator: Any = None,
                 **config: Any) -> None:
        self.config: OnPolicyConfig = build_config(OnPolicyConfig, self.DEFAULTS, config)
        self.seed = int(seed) if seed is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1)
        self.env_id = _env_id(env)
        self.envs = make_vector_env(env, self.config.num_envs, self.config.vectorization, self.seed)
        self.observation_space = self.envs.single_observation_space
        self.action_space = self.envs.single_action_space
        self.learner = OnPolicyLearner(self.observation_space, self.action_space, self.config,
                                       self.seed, function_approximator)
        self.normalizer = (RunningNormalizer(self.observation_space.shape)
                           if self.config.normalize_observations else None)
        self.sampler = RolloutSampler(self.envs, self.config.n_steps, seed=self.seed)
        self._rng = np.random.default_rng(self.seed)
        self._key = prng_key(self.seed)
        self.num_steps = 0
        self.history: list[dict[str, float]] = []
        self.policy = AgentPolicy(self)

    # ------------------------------------------------------------------ training
    def fit(self, total_steps: int, callback: Callable[[OnPolicyAgent, dict], Any] | None = None,
            checkpoint_interval: int | None = None, restore: bool = False,
            checkpoint_dir: str | None = None, keep_checkpoints: int = 3) -> OnPolicyAgent:
        """Train until ``total_steps`` environment steps (counted over all environments).

        Parameters
        ----------
        total_steps : int
            The total number of env steps after training; ``fit(2 * N, restore=True)`` after
            ``fit(N)`` continues to ``2 * N``.
        callback : callable, optional
            ``callback(agent, record)`` after each rollout's update, with the record appended to
            ``agent.history``; returning ``False`` stops training.
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

        if (checkpoint_interval or restore) and checkpoint_dir is None:
            raise ValueError("checkpoint_dir: expected a directory when checkpoint_interval or "
                             "restore is given, got None")
        if restore and (path := latest_agent_checkpoint(checkpoint_dir)) is not None:
            restore_agent(self, path)
        next_checkpoint = _next_multiple(self.num_steps, checkpoint_interval)
        while self.num_steps < total_steps:
            record = self._learn_from_rollout(total_steps)
            if callback is not None and callback(self, record) is False:
                break
            if checkpoint_interval and self.num_steps >= next_checkpoint:
                save_agent(self, checkpoint_dir, keep_last=keep_checkpoints)
                next_checkpoint = _next_multiple(self.num_steps, checkpoint_interval)
        if checkpoint_interval:
            save_agent(self, checkpoint_dir, keep_last=keep_checkpoints)
        return self

    def _learn_from_rollout(self, total_steps: int) -> dict[str, float]:
        rollout = self.sampler.collect(self._act)
        T, N = rollout.R.shape
        self.num_steps += T * N
        batch = self._batch(rollout)
        progress = min(1.0, self.num_steps / total_steps)
        self._key, key = split_key(self._key)
        metrics = self.learner.update(batch, schedule_value(self.config.lr, progress),
                                      schedule_value(self.config.clip, progress), key, self._rng)
        if self.normalizer is not None:
            self.normalizer.update(rollout.S.reshape(T * N, *self.observation_space.shape))
        returns = self.sampler.episode_returns[-10:]
        record = {"steps": float(self.num_steps), "episodes": float(len(self.sampler.episode_returns)),
                  "mean_return": float(np.mean(returns)) if returns else float("nan"), **metrics}
        self.history.append(record)
        return record

    def _batch(self, rollout: Any) -> dict[str, np.ndarray]:
        T, N = rollout.R.shape
        obs_shape = self.observation_space.shape
        S = self._normalize(rollout.S.reshape(T * N, *obs_shape))
        S_next = self._normalize(rollout.S_next.reshape(T * N, *obs_shape))
        V_old = rollout.info["V"]
        V_next = self.learner.values(S_next).reshape(T, N)
        Adv, Rlambda = self.learner.advantages(rollout.R, V_old, V_next, rollout.terminated,
                                               rollout.truncated)
        A = rollout.info["A"]
        return {"S": S, "A": A.reshape(T * N, *A.shape[2:]), "logP": rollout.info["logP"].reshape(-1),
                "V": V_old.reshape(-1), "Adv": Adv.reshape(-1), "R": Rlambda.reshape(-1)}

    # ------------------------------------------------------------------ acting
    def _act(self, S: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        info = self.learner.act(self._normalize(S), self._noise(len(S)))
        return self._env_actions(info["A"]), info

    def _noise(self, batch_size: int) -> np.ndarray:
        return self.learner.policy._noise_block(batch_size, self._rng)

    def _env_actions(self, A: np.ndarray) -> np.ndarray:
        """Actions for the env: Box actions are clipped to the bounds (log-probabilities are
        those of the unclipped samples)."""
        if self.learner.discrete:
            return A
        return np.clip(A.reshape(len(A), *self.action_space.shape), self.action_space.low,
                       self.action_space.high)

    def _normalize(self, S: np.ndarray) -> np.ndarray:
        S = np.asarray(S, np.float32)
        return self.normalizer(S) if self.normalizer is not None else S

    def select_action(self, s: Any, deterministic: bool = False) -> Any:
        """One action for one observation: sampled, or the most likely if ``deterministic``."""
        S = self._normalize(self.learner.policy._check_state(s)[None])
        if deterministic:
            Z = self.learner.policy_params(S)
            A = np.argmax(Z, axis=-1) if self.learner.discrete else Z[0]
        else:
            A = self.learner.act(S, self._noise(1))["A"]
        a = self._env_actions(A)[0]
        return int(a) if self.learner.discrete else a

    def predict(self, s: Any) -> tuple[Any, float]:
        """DeepChem's pair: action probabilities (or ``(mu, logvar)``) and the value of ``s``."""
        S = self._normalize(self.learner.policy._check_state(s)[None])
        Z = self.learner.policy_params(S)
        value = float(self.learner.values(S)[0])
        if self.learner.discrete:
            probs = np.exp(Z[0] - Z[0].max())
            return probs / probs.sum(), value
        return (Z[0][0], Z[1][0]), value

    def evaluate(self, n_episodes: int = 10, deterministic: bool = True,
                 return_episode_rewards: bool = False) -> float | tuple[float, list[float]]:
        """Mean return over ``n_episodes`` on a fresh environment (seeded from the agent's seed)."""
        env = self._evaluation_env()
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

    def _evaluation_env(self) -> gym.Env:
        if self.env_id is None:
            raise ValueError("evaluate: the agent was made from an env without a Gymnasium id; "
                             "construct it from an id or a registered env")
        return gym.make(self.env_id)

    def close(self) -> None:
        """Close the training environments (and their subprocesses, with async vectorization)."""
        self.sampler.close()

    # ------------------------------------------------------------------ persistence
    def save(self, path: str) -> str:
        """Save the agent (weights, optimizer, normaliser, config, counters) to ``path``."""
        from plugrl.agents.persistence import save_agent_to

        return str(save_agent_to(self, path))

    @classmethod
    def load(cls, path: str, **env_overrides: Any) -> OnPolicyAgent:
        """Load an agent saved with :meth:`save` (or a checkpoint of ``fit``)."""
        from plugrl.agents.persistence import load_agent

        return load_agent(cls, path, **env_overrides)

    @classmethod
    def from_preset(cls, name_or_env: str, **overrides: Any) -> OnPolicyAgent:
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
        from plugrl.presets import load_preset

        config, _ = load_preset(cls.AGENT_TYPE, name_or_env)
        return cls(name_or_env, **{**config, **overrides})

    def config_dict(self) -> dict[str, Any]:
        """The hyperparameters as plain data."""
        return dataclasses.asdict(self.config)


def _env_id(env: Any) -> str | None:
    if isinstance(env, str):
        return env
    spec = getattr(env, "spec", None)
    return getattr(spec, "id", None)


def _next_multiple(steps: int, interval: int | None) -> int:
    if not interval:
        return 0
    return (steps // interval + 1) * interval
