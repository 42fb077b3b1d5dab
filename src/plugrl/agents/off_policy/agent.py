"""The off-policy agents' base (DQN, SAC): a replay buffer filled step by step and rounds of
jitted updates on batches sampled from it.

One iteration of ``fit`` collects ``train_freq`` steps of each of the ``num_envs`` environments
(uniformly random actions until ``num_init_memory_steps`` env steps are stored, the learner's
exploring policy after), stores them, then runs ``num_updates_per_step`` gradient steps in **one**
jitted call of the learner on as many batches sampled at once. ``num_steps`` counts the steps of
all environments. Truncated episodes bootstrap from their final observation (the buffer handles
it); terminated ones do not. With several environments (pyrado's ``num_workers``), each feeds its
own stream of a :class:`~plugrl.caching.ReplayStreams`, so an n-step return never mixes two of
them.

A learner (``CONFIG`` and ``LEARNER`` of the agent class) provides ``state``/``load_state``,
``buffer_action_space()``, ``random_actions(n, rng)`` and ``act(S, rng, exploration)`` (both
return env actions and the actions to store), ``greedy(S)``, ``predict(S)``,
``update(batch, lr, key, steps) -> (metrics, td_errors)`` and ``keras_models()``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypedDict

import gymnasium as gym
import numpy as np

from plugrl._backend import split_key
from plugrl.agents.base import BaseAgent
from plugrl.agents.config import DQNConfig, OffPolicyConfig, init_memory_steps
from plugrl.agents.off_policy.her import her_buffer, sb3_buffer_options, structured_observation_space
from plugrl.agents.off_policy.remote import OffPolicyRemote, stream_iteration
from plugrl.caching import ExperienceReplayBuffer, HerReplayBuffer, PrioritizedReplayBuffer, ReplayStreams
from plugrl.caching.frames import infer_frame_stack_axis
from plugrl.function_approximators.predefined.mlp import SpacesOnly
from plugrl.samplers.ray_sampler import RayStreamSampler
from plugrl.utils.schedules import schedule_value
from plugrl.utils.validation import check_observation

__all__ = ["UPDATE_FIELDS", "OffPolicyAgent", "check_update_batch"]

_BATCH_FIELDS = ("S", "A", "Rn", "In", "S_next", "A_next")

#: The fields of the batches a learner's ``update`` takes, each with leading axes [K, batch_size].
UPDATE_FIELDS = ("S", "A", "Rn", "In", "S_next", "W")


class _BufferOptions(TypedDict):
    """The keyword arguments of the replay buffers that are the same for every off-policy agent."""

    batch_size: int
    bootstrap_n: int
    gamma: float
    random_seed: int
    frame_stack_axis: int | None


def check_update_batch(batch: dict[str, Any]) -> dict[str, np.ndarray]:
    """The fields of :data:`UPDATE_FIELDS` as arrays, checked for presence and for the leading
    axes [K, batch_size] of ``Rn``."""
    missing = [name for name in UPDATE_FIELDS if name not in batch]
    if missing:
        raise ValueError(f"batch: expected the fields {list(UPDATE_FIELDS)}, missing {missing}")
    batch = {name: np.asarray(batch[name]) for name in UPDATE_FIELDS}
    K_B = batch["Rn"].shape
    for name, x in batch.items():
        if len(K_B) != 2 or x.shape[:2] != K_B:
            raise ValueError(f"batch['{name}']: expected leading axes [K, batch_size] (those of "
                             f"batch['Rn'], shape {K_B}), got shape {x.shape}")
    return batch


class OffPolicyAgent(BaseAgent):
    """Base of DQN and SAC.

    Parameters
    ----------
    env : str, gymnasium.Env, gymnasium.vector.VectorEnv or plugrl.envs.Environment
        A Gymnasium id, an environment (copied for ``num_envs > 1``), a vector environment, or
        a DeepChem-style environment.
    seed : int, optional
        Seeds networks, environments, the replay buffer and every random draw.
    function_approximator : FunctionApproximator, optional
        A user-made body instead of the default MLPs.
    **config
        Hyperparameters (fields of the agent's ``CONFIG``); aliases from the seeds are accepted.
    """

    AGENT_TYPE: ClassVar[str] = "OffPolicyAgent"
    CONFIG: ClassVar[type] = OffPolicyConfig
    LEARNER: ClassVar[type]
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    config: OffPolicyConfig

    def __init__(self, env: Any, *, seed: int | None = None, function_approximator: Any = None,
                 **config: Any) -> None:
        config = sb3_buffer_options(config)
        super().__init__(env, seed=seed, function_approximator=function_approximator, **config)
        #: Where observations stack frames, which the buffer stores once each (None: whole
        #: observations): as the environments' wrappers say, else the function approximator's env.
        self.frame_stack_axis = infer_frame_stack_axis(self.envs)
        if self.frame_stack_axis is None:
            self.frame_stack_axis = infer_frame_stack_axis(getattr(function_approximator, "env", None))
        self.buffer = self._make_buffer()
        self.num_update_rounds = 0
        """Rounds of updates so far: pyrado's iterations, which its ``lr_scheduler`` counts."""
        self.num_updates_per_step = self._updates_per_round()
        """Gradient steps per round: ``config.num_updates_per_step``, or pyrado's heuristic."""
        self._fill_start, self._refill = 0, False
        self._structured_space: gym.spaces.Space[Any] | None = None  # a Dict env's, found when acting

    def _updates_per_round(self) -> int:
        """``num_updates_per_step``; where it is None, pyrado's heuristic: one gradient step per
        episode's worth of steps collected in a round, ``ceil(train_freq * num_envs /
        max_episode_steps)`` (1 for an env without a time limit)."""
        cfg = self.config
        if cfg.num_updates_per_step is not None:
            return int(cfg.num_updates_per_step)
        spec = self.envs.get_attr("spec")[0]
        max_steps = getattr(spec, "max_episode_steps", None)
        return max(1, math.ceil(cfg.train_freq * cfg.num_envs / max_steps)) if max_steps else 1

    def _reset_memory(self) -> None:
        """pyrado's reset of a value-based agent (see :meth:`reset`): the replay buffer empties
        and fills again, with random actions or, with ``use_trained_policy_for_refill``, the
        agent's own exploring policy; the count of update rounds restarts."""
        self.buffer.clear()
        self._fill_start, self._refill = self.num_steps, True
        self.num_update_rounds = 0

    def _filling(self) -> bool:
        """Whether the buffer is still in its initial fill (no updates yet)."""
        return self.num_steps - self._fill_start < init_memory_steps(self.config)

    def _make_learner(self, function_approximator: Any) -> Any:
        return self.LEARNER(self.observation_space, self.action_space, self.config, self.seed,
                            function_approximator)

    def _steps_per_iteration(self) -> int:
        return self.config.train_freq

    def remote_policy(self) -> OffPolicyRemote:
        """The exploring policy of Ray's actors; see :mod:`plugrl.agents.off_policy.remote`."""
        return OffPolicyRemote(self)

    def _make_buffer(self) -> ExperienceReplayBuffer | ReplayStreams | HerReplayBuffer:
        """A uniform replay buffer, or a prioritized one if the configuration asks for it (only
        :class:`~plugrl.agents.config.DQNConfig` has the fields); with several envs, one such
        buffer of ``memory_size // num_envs`` slots per env, sampled as one. With
        ``replay_buffer_class='her'``, one HER buffer for all envs."""
        if self.config.replay_buffer_class == "her":
            return her_buffer(self.envs, self._env_argument, self.config, self.seed)
        num_envs = self.envs.num_envs
        if num_envs == 1:
            return self._make_stream_buffer(self.config.memory_size, self.seed)
        seeds = np.random.SeedSequence(self.seed).generate_state(num_envs)
        return ReplayStreams([self._make_stream_buffer(self.config.memory_size // num_envs, int(seed))
                              for seed in seeds], random_seed=self.seed)

    def _make_stream_buffer(self, capacity: int, seed: int) -> ExperienceReplayBuffer:
        cfg = self.config
        spaces = SpacesOnly(self.observation_space, self.learner.buffer_action_space())
        options = _BufferOptions(batch_size=cfg.batch_size, bootstrap_n=cfg.bootstrap_n, gamma=cfg.gamma,
                                 random_seed=seed, frame_stack_axis=self.frame_stack_axis)
        if isinstance(cfg, DQNConfig) and cfg.prioritized_replay:
            return PrioritizedReplayBuffer(spaces, capacity, alpha=cfg.prioritized_replay_alpha,
                                           beta=cfg.prioritized_replay_beta, **options)
        return ExperienceReplayBuffer(spaces, capacity, **options)

    # ------------------------------------------------------------------ training
    def _train_iteration(self, total_steps: int) -> dict[str, float]:
        steps_before = self.num_steps
        if steps_before == self._fill_start:
            self._warn_if_the_fill_is_the_training(total_steps - steps_before)
        if isinstance(self.sampler, RayStreamSampler):
            rows, rollout = stream_iteration(self, total_steps)
            self._store(rollout, rows)
        else:
            self._store(self.sampler.collect(lambda S: self._explore(S, total_steps)))
        record = self._progress_record()
        if not self._filling() and self.buffer.num_valid >= self.config.batch_size:
            record.update(self._update(total_steps, steps_before))
        return record

    def _warn_if_the_fill_is_the_training(self, steps: int) -> None:
        """Warn where the initial fill takes all of the ``steps`` this ``fit`` performs, as
        pyrado's "fill the buffer completely" (None) does with a large ``memory_size``."""
        n = init_memory_steps(self.config)
        if n < steps:
            return
        what = (f"memory_size = {n} random steps (num_init_memory_steps=None fills the buffer)"
                if self.config.num_init_memory_steps is None else f"{n} random steps")
        warnings.warn(f"num_init_memory_steps: the initial fill of {what} is not shorter than this "
                      f"training of {steps} steps, so it learns nothing (at most one round of updates "
                      f"at its end); pass a smaller num_init_memory_steps or memory_size", stacklevel=4)

    def _explore(self, S: np.ndarray, total_steps: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Actions for one vector step; ``num_steps`` advances with every step taken."""
        random, exploration = self.acting_settings(total_steps)
        if random:
            A_env, A_buffer = self.learner.random_actions(len(S), self._rng)
        else:
            A_env, A_buffer = self.learner.act(S, self._rng, exploration)
        self.num_steps += len(S)
        return A_env, {"A": A_buffer}

    def acting_settings(self, total_steps: int) -> tuple[bool, float]:
        """How the next steps act: at random (the buffer's initial fill, unless a refill uses
        the trained policy) or not, and the exploration parameter (see :meth:`_exploration`)."""
        random = self._filling() and not (self._refill and self.config.use_trained_policy_for_refill)
        return random, self._exploration(total_steps)

    def draw_seed(self) -> int:
        """A seed from the agent's generator (for a Ray worker's own random draws)."""
        return int(self._rng.integers(2**31))

    def _exploration(self, total_steps: int) -> float:
        """The exploration parameter at ``num_steps`` (epsilon for DQN); SAC explores by sampling."""
        return 0.0

    def _store(self, rollout: Any, rows: slice = slice(None)) -> None:
        """Add the rollout's steps, env ``i``'s to stream ``i`` (time-major within each); a
        rollout of the envs at ``rows`` only (a Ray actor's) to their streams."""
        dtype = self.observation_space.dtype
        buffer = self.buffer
        if isinstance(buffer, HerReplayBuffer):
            if rows != slice(None):
                raise ValueError("vectorization: expected 'sync', 'async' or 'auto' with Hindsight "
                                 "Experience Replay (its buffer takes every env's step at once), got 'ray'")
            for t in range(len(rollout.R)):
                buffer.extend(rollout.S[t], rollout.info["A"][t], rollout.R[t], rollout.terminated[t],
                              rollout.truncated[t], rollout.S_next[t])
            return
        streams = (buffer.buffers if isinstance(buffer, ReplayStreams) else [buffer])[rows]
        for t in range(len(rollout.R)):
            for i, stream in enumerate(streams):
                stream.add(rollout.S[t, i].astype(dtype, copy=False), rollout.info["A"][t, i],
                           float(rollout.R[t, i]), bool(rollout.terminated[t, i]),
                           truncated=bool(rollout.truncated[t, i]),
                           s_next=rollout.S_next[t, i].astype(dtype, copy=False))

    def _update(self, total_steps: int, steps_before: int) -> dict[str, float]:
        """One round of ``num_updates_per_step`` gradient steps, in one jitted call. A prioritized
        buffer's importance exponent anneals linearly from ``prioritized_replay_beta`` to 1 over
        training, and the TD errors become the sampled transitions' priorities."""
        progress = min(1.0, self.num_steps / total_steps)
        cfg, buffer = self.config, self.buffer
        k = self.num_updates_per_step
        if isinstance(cfg, DQNConfig) and cfg.prioritized_replay:
            beta0 = cfg.prioritized_replay_beta
            buffer.beta = beta0 + (1.0 - beta0) * progress  # type: ignore[union-attr]
            *fields, W, idx = buffer.sample(num_batches=k)
            metrics, td_errors = self._learn(fields, W, progress, steps_before)
            buffer.update_priorities(idx.reshape(-1), np.asarray(td_errors).reshape(-1))  # type: ignore[union-attr]
            return metrics
        return self._learn(buffer.sample(num_batches=k), None, progress, steps_before)[0]

    def _learn(self, fields: Sequence[np.ndarray], W: np.ndarray | None, progress: float,
               steps_before: int) -> tuple[dict[str, float], np.ndarray]:
        """The learner's update on sampled batches (``fields`` as ``_BATCH_FIELDS``, stacked along
        a leading axis) with importance weights ``W`` (None: all 1); returns the metrics and the
        TD errors."""
        batch = dict(zip(_BATCH_FIELDS, fields, strict=True))
        batch["W"] = np.ones_like(batch["Rn"]) if W is None else W
        self._key, key = split_key(self._key)
        counts = self._update_counts(steps_before)
        lr = schedule_value(self.config.lr, progress, iteration=self.num_update_rounds)
        self.num_update_rounds += 1
        return self.learner.update(batch, lr, key, counts)

    def _update_counts(self, steps_before: int) -> tuple[int, int]:
        """The counters before and after this round that the learner places its target updates
        by: env steps here (Stable-Baselines3's clock)."""
        return steps_before, self.num_steps

    # ------------------------------------------------------------------ acting
    def _check_observation(self, s: Any) -> np.ndarray:
        if isinstance(s, Mapping):  # a Dict observation, as the env gives it: flattened as the samplers do
            if self._structured_space is None:
                self._structured_space = structured_observation_space(self.envs, self._env_argument)
            s = gym.spaces.flatten(self._structured_space, s)
        return check_observation(s, self.sampler.obs_shape, np.float32)  # the sampler checked the env's

    def select_action(self, s: Any, deterministic: bool = False) -> Any:
        """One action for one observation: the exploring policy's, or the greedy one if
        ``deterministic``."""
        S = self._check_observation(s)[None]
        if deterministic:
            A = self.learner.greedy(S)
        else:
            A, _ = self.learner.act(S, self._rng, self._exploration_after_training())
        return int(A[0]) if self.learner.discrete else np.asarray(A[0])

    def _exploration_after_training(self) -> float:
        """The exploration parameter when acting outside ``fit`` (the schedule's final value)."""
        return 0.0

    def predict(self, s: Any) -> Any:
        """The learner's view of one observation: Q-values (DQN) or the policy's distribution
        parameters (SAC)."""
        return self.learner.predict(self._check_observation(s)[None])

    # ------------------------------------------------------------------ persistence
    def _checkpoint_extra(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays, meta = self.buffer.state(copy=False)  # saved before the buffer changes again
        return ({f"buffer/{k}": v for k, v in arrays.items()},
                {"buffer": meta, "num_update_rounds": self.num_update_rounds,
                 "fill": [self._fill_start, self._refill]})

    def episodes_restarted(self) -> None:
        """The replay buffer ends its open episodes: the next steps start new ones, rather than
        stacking frames or n-step returns across the restart."""
        self.buffer.end_episode()

    def _restore_extra(self, arrays: Any, state: dict[str, Any]) -> None:
        prefix = "buffer/"
        self.buffer.load_state({k[len(prefix):]: arrays[k] for k in arrays if k.startswith(prefix)},
                               state["buffer"])
        self.num_update_rounds = int(state.get("num_update_rounds", 0))
        self._fill_start, self._refill = state.get("fill", [0, False])
