r"""Deep Q-networks: the learner (networks, optimizer, jitted steps) and the :class:`DQN` agent.

One jitted call acts (the greedy part of epsilon-greedy); one jitted call runs a whole round of
updates: the target updates that fell due, then ``num_updates_per_step`` gradient steps (the
backend's ``train_step`` in its ``scan_steps``) on the TD loss

.. math::

    L\ =\ \hat{\mathbb{E}}\Big\{ W\,\ell\big(R^{(n)}_t + I^{(n)}_t\,Q_\text{boot}(S_{t+n}),\
    Q(S_t, A_t)\big) \Big\}

with :math:`\ell` Huber or squared error and :math:`Q_\text{boot}` Q-learning's or double
Q-learning's bootstrap term (:mod:`plugrl.updaters.td_learning`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from plugrl._backend import (
    Metrics,
    TrainState,
    init_train_state,
    jit_for,
    keras,
    scan_steps,
    scheduled_adam,
    sync_target,
    train_step,
    with_learning_rate,
)
from plugrl.agents.config import DQNConfig
from plugrl.agents.off_policy.agent import OffPolicyAgent, check_update_batch
from plugrl.function_approximators import FunctionApproximator, HeadModel
from plugrl.function_approximators.predefined.mlp import default_network, policy_spaces
from plugrl.function_approximators.predefined.q_network import QNetwork, dueling_q
from plugrl.updaters.losses import get_value_loss
from plugrl.updaters.td_learning.base import td_target
from plugrl.updaters.td_learning.double_q_learning import double_q_bootstrap
from plugrl.updaters.td_learning.q_learning import greedy_bootstrap
from plugrl.utils.pickling import Rebuildable
from plugrl.utils.schedules import schedule_value

ops = keras.ops

__all__ = ["DQN", "DQNLearner", "dueling_q", "epsilon_schedule", "target_update_weight",
           "target_updates_due"]


class DQNLearner(Rebuildable):  # picklable: Ray's rollout workers get a copy
    """Q-network, target network, optimizer and the jitted functions of a DQN agent.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box
        The observation space of one environment.
    action_space : gymnasium.spaces.Discrete
        The action space of one environment.
    config : DQNConfig
        The hyperparameters.
    seed : int
        Seeds the weight initialisation.
    function_approximator : FunctionApproximator, optional
        A user-made body; its ``head_q2`` (and ``head_v`` with ``config.dueling``) give the Q
        values. By default a :class:`~plugrl.function_approximators.predefined.q_network.QNetwork` (an MLP of
        ``config.hidden_sizes``, initialised as Stable-Baselines3's), or the Nature-DQN network
        for image observations.
    """

    discrete = True

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, config: DQNConfig,
                 seed: int, function_approximator: Any = None) -> None:
        if not isinstance(action_space, gym.spaces.Discrete):
            raise TypeError(f"env.action_space: DQN expected a Discrete action space, got {action_space}")
        self.config = config
        self.action_space = action_space
        self.num_actions = int(action_space.n)
        self._start = int(action_space.start)
        self.func = function_approximator
        if function_approximator is None:
            self.func = default_network(policy_spaces(observation_space, action_space),
                                        config.hidden_sizes, config.activation, seed, mlp=QNetwork)
        self.head = self._build_head()
        self._loss = get_value_loss(config.loss)
        self.optimizer = scheduled_adam(schedule_value(config.lr, 0.0), config.max_grad_norm)
        self._step = train_step(self._loss_fn, self.optimizer, "DQN", with_outputs=True)
        self.state = init_train_state(self.func.gather(self.head.trainable),
                                      self.func.gather(self.head.non_trainable), self.optimizer)
        compile_ = jit_for(self.func.convolutional)
        self._greedy = compile_(lambda params, non_trainable, S:
                                ops.argmax(self.apply_q_s(params, non_trainable, S)[0], axis=-1))
        self._q_values = compile_(lambda params, non_trainable, S:
                                  self.apply_q_s(params, non_trainable, S)[0])
        self._update = compile_(self._update_fn)

    def _build_head(self) -> HeadModel:
        """The head model ``S -> Q_s``, or ``S -> [V, Adv]`` for dueling heads."""
        func = self.func
        if not isinstance(func, FunctionApproximator):
            raise TypeError("function_approximator: expected a plugrl.FunctionApproximator, "
                            f"got {type(func).__name__}")
        if func.action_space != self.action_space:
            raise ValueError(f"function_approximator: expected the env's action space "
                             f"{self.action_space}, got {func.action_space}")
        q_head = func.head_model("q2")
        if not self.config.dueling:
            return q_head
        v_head = func.head_model("v")  # the joint model shares its weights with this head
        return func.joint_head_model((v_head.name, q_head.name))

    # ------------------------------------------------------------------ pure functions
    def apply_q_s(self, params: Any, non_trainable: Any, S: Any,
             training: bool = False) -> tuple[Any, tuple]:
        """Pure forward pass: ``Q_s`` [batch_size, num_actions] and the new non-trainables."""
        out, non_trainable = self.head.model.stateless_call(list(params), list(non_trainable),
                                                             S, training=training)
        if self.config.dueling:
            out = dueling_q(*out)
        return out, tuple(non_trainable)

    def _target_q_next(self, state: TrainState, S_next: Any) -> Any:
        """The target network's ``Q_s`` of every round's ``S_next`` [K, B, ...], in one pass: the
        target stays fixed during a round, and one large product beats K small ones."""
        K, B = S_next.shape[:2]
        flat = ops.reshape(S_next, (K * B, *S_next.shape[2:]))
        Q_next = self.apply_q_s(state.targets(), state.target_non_trainable, flat)[0]
        return ops.reshape(Q_next, (K, B, self.num_actions))

    def _bootstrap(self, params: Any, state: TrainState, batch: dict) -> Any:
        if not self.config.double_q:
            return greedy_bootstrap(batch["Q_target_next"])
        Q_primary = self.apply_q_s(params, state.non_trainable, batch["S_next"])[0]
        return double_q_bootstrap(Q_primary, batch["Q_target_next"])

    def _loss_fn(self, params: Any, state: TrainState, batch: dict, key: Any) -> tuple[Any, tuple]:
        """The TD loss of one batch (``key`` unused); per-sample outputs: the TD errors."""
        G = ops.stop_gradient(td_target(batch["Rn"], batch["In"],
                                        self._bootstrap(params, state, batch)))
        Q_s, non_trainable = self.apply_q_s(params, state.non_trainable, batch["S"], training=True)
        A = ops.cast(batch["A"], "int32")
        Q_sa = ops.take_along_axis(Q_s, A[:, None], axis=1)[:, 0]
        td_errors = G - Q_sa
        loss = ops.mean(batch["W"] * self._loss(G, Q_sa))
        metrics = {"DQN/q_mean": ops.mean(Q_sa), "DQN/td_error": ops.mean(ops.abs(td_errors))}
        return loss, (non_trainable, metrics, td_errors)

    def _update_fn(self, state: TrainState, batch: dict, lr: Any, num_target_updates: Any,
                   key: Any) -> tuple[TrainState, Metrics, Any]:
        state = sync_target(state, target_update_weight(self.config.tau, num_target_updates))
        state = state._replace(opt_state=with_learning_rate(state.opt_state, lr))
        batch = {**batch, "Q_target_next": self._target_q_next(state, batch["S_next"])}
        return scan_steps(lambda state, batch: self._step(state, batch, key), state, batch,
                          unroll=self.func.convolutional)

    # ------------------------------------------------------------------ host side
    def buffer_action_space(self) -> gym.spaces.Discrete:
        """The space of the actions stored in the replay buffer: indices ``0 .. n - 1``."""
        return gym.spaces.Discrete(self.num_actions)

    def random_actions(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` uniformly random actions, as ``(A_env, A_buffer)``."""
        A = rng.integers(self.num_actions, size=n)
        return A + self._start, A

    def act(self, S: np.ndarray, rng: np.random.Generator,
            exploration: float) -> tuple[np.ndarray, np.ndarray]:
        """Epsilon-greedy actions (epsilon ``exploration``) for a batch of observations.

        Returns ``(A_env, A_buffer)``, both int arrays of shape [N].
        """
        # One draw for both decisions: with a separate rng.integers call, acting took about
        # 80 us a step instead of 55 us (measured on CartPole).
        u = rng.random((2, len(S)))
        explore = u[0] < exploration
        A = (u[1] * self.num_actions).astype(np.int64)
        if not explore.all():
            A = np.where(explore, A, self._greedy_indices(S))
        return A + self._start, A

    def greedy(self, S: np.ndarray) -> np.ndarray:
        """The greedy actions of a batch of observations (ties: the lowest action)."""
        return self._greedy_indices(S) + self._start

    def q_values(self, S: np.ndarray) -> np.ndarray:
        """``Q_s`` of a batch of observations, shape [N, num_actions]."""
        return np.asarray(self._q_values(self.state.params, self.state.non_trainable, self._states(S)))

    def predict(self, S: np.ndarray) -> np.ndarray:
        """What ``agent.predict`` shows: the Q-values, as :meth:`q_values`."""
        return self.q_values(S)

    def update(self, batch: dict[str, np.ndarray], lr: float, key: Any,
               steps: tuple[int, int]) -> tuple[dict[str, float], np.ndarray]:
        """Target updates due, then ``K`` gradient steps, in one jitted call.

        Parameters
        ----------
        batch : dict of arrays
            ``S, A, Rn, In, S_next, W``, each with leading axes [K, batch_size].
        lr : float
            The learning rate of these steps.
        key : jax.Array
            Passed to the TD loss, which draws no randomness (the learners' common signature).
        steps : (int, int)
            The agent's env-step counters before and after the collection that preceded this
            update; a target update falls due at every multiple of ``target_update_intvl``.

        Returns
        -------
        metrics : dict of str to float
            Averages over the ``K`` steps.
        td_errors : 2d array, shape [K, batch_size]
            :math:`G - Q(S, A)` of each step, before that step's update.
        """
        batch = check_update_batch(batch)
        target_clock, num_target_updates = self._target_clock(steps)
        self.state, metrics, td_errors = self._update(self.state, batch, np.float32(lr), target_clock, key)
        metrics = {**metrics.to_dict(), "DQN/target_updates": float(num_target_updates)}
        return metrics, np.asarray(td_errors)

    def _target_clock(self, steps: tuple[int, int]) -> tuple[np.generic, int]:
        """What ``_update_fn`` takes to place the round's target updates (here: their number,
        those due between the env-step counts ``steps``), and that number."""
        num = target_updates_due(*steps, self.config.target_update_intvl)
        return np.float32(num), num

    def load_state(self, state: TrainState) -> None:
        """Replace the learner's state (e.g. from a checkpoint)."""
        self.state = state

    def keras_models(self) -> dict[str, keras.Model]:
        """The Q-network as a Keras model ``S -> Q_s``, with the current weights."""
        self.func.scatter(self.head.trainable, self.state.params)
        self.func.scatter(self.head.non_trainable, self.state.non_trainable)
        self.func.sync_keras_variables()
        model = self.head.model
        if self.config.dueling:
            S = keras.Input(model.inputs[0].shape[1:], dtype=model.inputs[0].dtype, name="S")
            model = keras.Model(S, dueling_q(*model(S)), name="q_network")
        return {"q": model}

    def _greedy_indices(self, S: np.ndarray) -> np.ndarray:
        return np.asarray(self._greedy(self.state.params, self.state.non_trainable, self._states(S)))

    def _states(self, S: np.ndarray) -> np.ndarray:
        return np.asarray(S, dtype=self.func.observation_dtype)


def target_updates_due(before: int, after: int, interval: int) -> int:
    """Target updates that fall due between the env-step counts ``before`` and ``after``: one at
    every multiple of ``interval`` (Stable-Baselines3 counts them in env steps)."""
    return int(after) // interval - int(before) // interval


def target_update_weight(tau: Any, num_updates: Any) -> Any:
    r"""The Polyak weight of ``num_updates`` target updates with weight :math:`\tau` in a row,
    :math:`1 - (1 - \tau)^k`, valid while the online weights stay fixed (0 for ``k = 0``)."""
    return 1.0 - (1.0 - tau) ** num_updates


class DQN(OffPolicyAgent):
    """Deep Q-network (Mnih et al., 2015) with the usual extensions: double Q-learning, dueling
    heads, n-step returns and prioritized replay (see :class:`~plugrl.agents.config.DQNConfig`).

    Defaults are Stable-Baselines3's except ``lr``, ``target_update_intvl`` and
    ``exploration_fraction`` (see :class:`~plugrl.agents.config.DQNConfig`, chosen so that a small
    problem learns); ``DQN.from_preset("CartPole-v1")`` uses RL-Zoo's tuned
    hyperparameters. Exploration is epsilon-greedy, with epsilon from :func:`epsilon_schedule`.
    Parameters as in :class:`~plugrl.agents.OffPolicyAgent`.

    Examples
    --------
    >>> agent = DQN.from_preset("CartPole-v1", seed=0).fit(50_000)  # doctest: +SKIP
    >>> agent.evaluate(20)  # doctest: +SKIP
    """

    AGENT_TYPE: ClassVar[str] = "DQN"
    CONFIG: ClassVar[type] = DQNConfig
    LEARNER: ClassVar[type] = DQNLearner
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    config: DQNConfig

    def _exploration(self, total_steps: int) -> float:
        """Epsilon at the current ``num_steps`` of a run of ``total_steps`` env steps."""
        return epsilon_schedule(self.config, self.num_steps, total_steps)

    def _exploration_after_training(self) -> float:
        """Epsilon outside ``fit``: the schedule's final value."""
        return float(self.config.eps_final)


def epsilon_schedule(config: DQNConfig, num_steps: int, total_steps: int) -> float:
    r"""Epsilon after ``num_steps`` of ``total_steps`` env steps.

    Linear from ``eps_init`` to ``eps_final`` over the first ``exploration_fraction *
    total_steps`` steps, then constant (Stable-Baselines3); or, with ``eps_schedule_gamma``
    (pyrado), :math:`\max(\epsilon_\text{final}, \epsilon_\text{init}\,\gamma_\epsilon^{t})`.
    """
    eps_init, eps_final = float(config.eps_init), float(config.eps_final)
    if config.eps_schedule_gamma is not None:
        return max(eps_final, eps_init * float(config.eps_schedule_gamma) ** num_steps)
    decay_steps = config.exploration_fraction * total_steps
    if num_steps >= decay_steps:
        return eps_final
    return eps_init + (eps_final - eps_init) * num_steps / decay_steps
