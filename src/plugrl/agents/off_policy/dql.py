r"""pyrado's deep Q-learning (``DQL``, seed 004): :class:`~plugrl.agents.DQN` with pyrado's
defaults and meanings (:class:`~plugrl.agents.config.DQLConfig`).

Two clocks differ from DQN's. The target network is copied after every gradient step whose
index (counted over the whole training, from 0) is a multiple of ``target_update_intvl``, so it
may change within a round of updates: each step of the round bootstraps from the target as it
is then, as pyrado's loop does. Epsilon decays per iteration (round of updates), not per env
step: :math:`\epsilon_k = \epsilon_\text{final} + (\epsilon_\text{init} -
\epsilon_\text{final})\,\gamma_\epsilon^k` after ``k`` iterations (pyrado's
``EpsGreedyExplStrat.schedule_eps``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from plugrl._backend import Metrics, TrainState, keras, scan_steps, sync_target, with_learning_rate
from plugrl.agents.config import DQLConfig
from plugrl.agents.off_policy.dqn import DQN, DQNLearner
from plugrl.function_approximators import FunctionApproximator
from plugrl.value_functions import QTypeII

ops = keras.ops

__all__ = ["DQL", "DQLLearner"]


class DQLLearner(DQNLearner):
    """:class:`~plugrl.agents.off_policy.dqn.DQNLearner` whose target copies are counted in
    gradient steps; ``steps`` of :meth:`update` are the gradient steps done before and after
    the round. ``function_approximator`` may also be a :class:`~plugrl.QTypeII` (pyrado's
    ``DiscreteActQValPolicy`` role), whose function approximator becomes the Q-network."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, config: DQLConfig,
                 seed: int, function_approximator: Any = None) -> None:
        if isinstance(function_approximator, QTypeII):
            function_approximator = function_approximator.function_approximator
        super().__init__(observation_space, action_space, config, seed, function_approximator)

    def _update_fn(self, state: TrainState, batch: dict, lr: Any, first_step: Any,
                   key: Any) -> tuple[TrainState, Metrics, Any]:
        """``K`` gradient steps; after the step with global index ``first_step + i`` the target
        is copied if that index is a multiple of ``target_update_intvl``."""
        state = state._replace(opt_state=with_learning_rate(state.opt_state, lr))
        K = batch["Rn"].shape[0]
        indices = ops.cast(first_step, "int32") + ops.arange(K, dtype="int32")

        def step(state: TrainState, xs: tuple) -> tuple[TrainState, Any]:
            batch, index = xs
            Q_target_next = self.apply_q_s(state.targets(), state.target_non_trainable, batch["S_next"])[0]
            state, out = self._step(state, {**batch, "Q_target_next": Q_target_next}, key)
            due = ops.cast(index % self.config.target_update_intvl == 0, "float32")
            return sync_target(state, due), out

        return scan_steps(step, state, (batch, indices))

    def _target_clock(self, steps: tuple[int, int]) -> tuple[np.generic, int]:
        """The gradient steps done before this round (``_update_fn`` counts from there) and the
        number of target copies in the round, one at each multiple of ``target_update_intvl``
        in ``[steps[0], steps[1])``."""
        interval = self.config.target_update_intvl
        return np.int32(steps[0]), -(-steps[1] // interval) + (-steps[0] // interval)


class DQL(DQN):
    """Deep Q-learning as pyrado's ``DQL`` (seed 004): pyrado's defaults, target copies every
    ``target_update_intvl`` gradient steps, epsilon decayed per iteration, a Huber loss.

    Parameters
    ----------
    env : str, gymnasium.Env or gymnasium.vector.VectorEnv
        As :class:`~plugrl.agents.DQN`.
    policy : QTypeII or FunctionApproximator, optional
        The Q-network that is trained (pyrado's ``policy``, a ``DiscreteActQValPolicy``): a
        :class:`~plugrl.QTypeII` or its function approximator (``head_q2``). By default an MLP.
    seed : int, optional
        Seeds networks, environments, the replay buffer and every random draw.
    **config
        Fields of :class:`~plugrl.agents.config.DQLConfig`; pyrado's names are the fields'.
    """

    AGENT_TYPE: ClassVar[str] = "DQL"
    CONFIG: ClassVar[type] = DQLConfig
    LEARNER: ClassVar[type] = DQLLearner
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    config: DQLConfig

    def __init__(self, env: Any, policy: Any = None, *, seed: int | None = None,
                 function_approximator: Any = None, **config: Any) -> None:
        if policy is not None and function_approximator is not None:
            raise TypeError("policy: expected either policy (pyrado's name) or function_approximator, "
                            "got both")
        if policy is not None and not isinstance(policy, (QTypeII, FunctionApproximator)):
            raise TypeError(f"policy: expected a plugrl.QTypeII or FunctionApproximator (the "
                            f"Q-network), got {type(policy).__name__}")
        super().__init__(env, seed=seed, function_approximator=policy if policy is not None
                         else function_approximator, **config)

    def _update_counts(self, steps_before: int) -> tuple[int, int]:
        """Gradient steps before and after this round (pyrado counts target copies in them)."""
        k = self.num_updates_per_step
        return self.num_update_rounds * k, (self.num_update_rounds + 1) * k

    def _exploration_after_training(self) -> float:
        """Epsilon outside ``fit``: where the per-iteration decay has reached."""
        return self._exploration(0)

    def _exploration(self, total_steps: int) -> float:
        """Epsilon after ``num_update_rounds`` iterations (pyrado's per-iteration decay)."""
        cfg = self.config
        gamma = 1.0 if cfg.eps_schedule_gamma is None else float(cfg.eps_schedule_gamma)
        eps_final = min(float(cfg.eps_final), float(cfg.eps_init))
        return eps_final + (float(cfg.eps_init) - eps_final) * gamma ** self.num_update_rounds
