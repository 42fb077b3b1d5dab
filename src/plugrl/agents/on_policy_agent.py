"""The on-policy agents' base: rollouts, GAE advantages and one jitted update per rollout."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from plugrl._backend.jax import split_key
from plugrl.agents.base import BaseAgent
from plugrl.agents.config import OnPolicyConfig
from plugrl.agents.normalizer import RunningNormalizer
from plugrl.agents.on_policy import OnPolicyLearner, schedule_value

__all__ = ["OnPolicyAgent"]


class OnPolicyAgent(BaseAgent):
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
    CONFIG: ClassVar[type] = OnPolicyConfig
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    config: OnPolicyConfig

    def __init__(self, env: Any, *, seed: int | None = None, function_approximator: Any = None,
                 **config: Any) -> None:
        super().__init__(env, seed=seed, function_approximator=function_approximator, **config)
        self.normalizer = (RunningNormalizer(self.observation_space.shape)
                           if self.config.normalize_observations else None)

    def _make_learner(self, function_approximator: Any) -> OnPolicyLearner:
        return OnPolicyLearner(self.observation_space, self.action_space, self.config, self.seed,
                               function_approximator)

    def _steps_per_iteration(self) -> int:
        return self.config.n_steps

    # ------------------------------------------------------------------ training
    def _train_iteration(self, total_steps: int) -> dict[str, float]:
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
        return {**self._progress_record(), **metrics}

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

    # ------------------------------------------------------------------ persistence
    def keras_models(self) -> dict[str, Any]:
        """The actor and the critic as Keras models with the current weights."""
        models = {}
        for name, function in (("actor", self.learner.policy), ("critic", self.learner.v_func)):
            function.function_approximator.sync_keras_variables()
            models[name] = function._head.model
        return models

    def _checkpoint_extra(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        if self.normalizer is None:
            return {}, {}
        return {f"normalizer/{k}": np.asarray(v) for k, v in self.normalizer.state().items()}, {}

    def _restore_extra(self, arrays: Any, state: dict[str, Any]) -> None:
        if self.normalizer is not None:
            self.normalizer.load_state({k: arrays[f"normalizer/{k}"] for k in ("mean", "var", "count")})
