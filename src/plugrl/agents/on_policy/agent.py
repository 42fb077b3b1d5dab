"""The on-policy agents' base: rollouts, GAE advantages and one jitted update per rollout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from plugrl._backend import split_key
from plugrl.agents.base import BaseAgent
from plugrl.agents.config import OnPolicyConfig
from plugrl.agents.on_policy.fast_many import ManyRuns, train_many
from plugrl.agents.on_policy.fast_training import FastPath, TrainingState, is_jax_env
from plugrl.agents.on_policy.hindsight import make_hindsight, with_relabelled
from plugrl.agents.on_policy.learner import OnPolicyLearner, update_coefficients
from plugrl.agents.on_policy.policy_step import PPOPolicyInterface, policy_info
from plugrl.agents.on_policy.recurrent import RecurrentLearner, rollout_sequences, uses_recurrence
from plugrl.agents.on_policy.recurrent_states import RecurrentStates
from plugrl.agents.on_policy.remote import OnPolicyRemote
from plugrl.agents.on_policy.user_objects import UserObjects, critic_discounts, make_normalizer
from plugrl.caching.gae import GAE
from plugrl.function_approximators.predefined.mlp import policy_spaces
from plugrl.utils.running_moments import RunningNormalizer

__all__ = ["OnPolicyAgent"]


class OnPolicyAgent(PPOPolicyInterface, BaseAgent):
    """Base of REINFORCE, A2C, PPO and PPO2.

    Parameters
    ----------
    env : str, gymnasium.Env, gymnasium.vector.VectorEnv or JaxEnv
        A Gymnasium id, an environment, or a vector environment; or a JAX environment
        (:mod:`plugrl.envs.jax`), which selects the fast path: ``fit`` then runs rollouts and
        updates in one compiled function (:mod:`plugrl.agents.on_policy.fast_training`), while acting,
        evaluating and saving use the Gymnasium environment of the same id.
    policy : plugrl.policies.Policy, SoftmaxPolicy or GaussianPolicy, optional
        DeepChem's policy (the second positional argument, as in DeepChem's ``A2C(env, policy)``):
        the agent trains the model of its ``create_model()`` (created once, seeded by ``seed``).
        The agent keeps plugrl's defaults; DeepChem's (``value_weight=1.0``,
        ``entropy_weight=0.01``, ``advantage_lambda=0.98``) are passed by name. Or pyrado's
        ``policy``: a plugrl policy object, used as the actor.
    seed : int, optional
        Seeds networks, environments and every random draw; the same seed gives the same run.
    function_approximator : FunctionApproximator, optional
        A body shared by actor and critic, instead of the default MLPs.
    critic : GAE, optional
        pyrado's ``critic``: a :class:`~plugrl.caching.GAE` critic, ``GAE(vfcn, gamma, lamda,
        ...)``. Its value function is the agent's and its ``gamma`` and ``lamda`` are the
        configuration's (giving others is an error). PPO (as pyrado's) lets the critic train
        its value function itself, with its own epochs, minibatches and learning rate, before
        each policy update, and the policy loss has no value term; A2C, PPO2 and REINFORCE train
        it in their combined loss (``vfcn_coeff``), as pyrado's A2C and PPO2 do. Not on the
        fast path.
    actor_network, value_network : keras.Model or FunctionApproximator, optional
        TF-Agents' separate networks (seed 003): a Keras actor maps observations to logits
        (``Discrete``) or to the mean (``Box``, with a learned state-independent log std that
        starts at ``log(std_init)``); a Keras value network maps observations to values [batch]
        or [batch, 1]. A network left out is the default MLP. Training updates the agent's
        copy of the weights; :meth:`keras_models` writes them into these models (and a Policy's).
    observation_normalizer : object, optional
        TF-Agents' observation normaliser: callable on a batch of observations and with
        ``update(batch)`` (see :class:`~plugrl.agents.on_policy.user_objects.ObservationNormalizer`);
        by default a :class:`~plugrl.utils.running_moments.RunningNormalizer` when
        ``normalize_observations``, else none. The ordinary path only: the fast path runs
        plugrl's own normaliser.
    optimizer : optax.GradientTransformation or keras.optimizers.Optimizer, optional
        DeepChem's ``optimizer``: used instead of the scheduled Adam, after clipping gradients to
        ``max_grad_norm``. ``lr`` is then an error: the optimizer carries its learning rate.
    use_hindsight : bool, optional
        DeepChem's Hindsight Experience Replay: each rollout is also learned from relabelled with
        the goals it reached, through the env's ``apply_hindsight(states, actions, goal)`` (see
        :mod:`plugrl.agents.on_policy.hindsight`); the update's batch is then twice the rollout.
    **config
        Hyperparameters (see :class:`~plugrl.agents.config.OnPolicyConfig`); aliases from the
        seeds are accepted, unknown names are an error. When ``batch_size`` is not given, the
        agent's default is fitted to the rollout (:meth:`OnPolicyConfig.resolve_defaults`).

    Notes
    -----
    Recurrent policies: ``recurrent='lstm'`` (or ``'gru'``; with ``lstm_hidden_size``,
    ``n_lstm_layers``, ``enable_critic_lstm``, ``sequence_length``), a
    :class:`~plugrl.function_approximators.RecurrentFunctionApproximator` or a DeepChem ``Policy``
    with ``rnn_initial_states`` make the agent recurrent (:mod:`plugrl.agents.on_policy.recurrent`):
    rollouts carry the state per environment, reset it where an episode starts, and updates train
    on whole sequences; ``predict`` and ``select_action`` keep DeepChem's saved states, ``action``
    takes and returns TF-Agents' policy state, and checkpoints hold the states, so resuming stays
    exact.
    """

    AGENT_TYPE: ClassVar[str] = "OnPolicyAgent"
    CONFIG: ClassVar[type] = OnPolicyConfig
    DEFAULTS: ClassVar[dict[str, Any]] = {}
    #: Whether a ``critic`` trains its value function itself (pyrado's PPO) or the combined loss does.
    CRITIC_UPDATES_ITSELF: ClassVar[bool] = False

    config: OnPolicyConfig
    learner: OnPolicyLearner

    def __init__(self, env: Any, policy: Any = None, *, seed: int | None = None,
                 function_approximator: Any = None, critic: GAE | None = None,
                 actor_network: Any = None, value_network: Any = None,
                 observation_normalizer: Any = None, optimizer: Any = None, use_hindsight: bool = False,
                 **config: Any) -> None:
        if optimizer is not None and {"lr", "learning_rate"} & config.keys():
            raise ValueError("lr: expected no learning rate with an optimizer (it carries its own), "
                             f"got lr={config.get('lr', config.get('learning_rate'))!r}")
        self.user_objects = UserObjects(policy, actor_network, value_network, function_approximator,
                                        optimizer)
        self.jax_env = env if is_jax_env(env) else None
        if self.jax_env is not None:
            env = _gymnasium_twin(self.jax_env)
            if critic is not None or config.get("min_rollouts") is not None:
                raise ValueError("critic, min_rollouts: expected neither on the fast path (an agent "
                                 "made on a JAX env); make the agent on the Gymnasium env")
        self._critic = critic_discounts(critic, config)  # for _make_learner
        super().__init__(env, seed=seed, function_approximator=function_approximator, **config)
        self.normalizer = make_normalizer(observation_normalizer, self.config,
                                          self.learner.observation_space.shape)
        if self.jax_env is not None and not isinstance(self.normalizer, (RunningNormalizer, type(None))):
            raise ValueError(f"observation_normalizer: the fast path (a JAX env) runs plugrl's "
                             f"RunningNormalizer only, got {type(self.normalizer).__name__}")
        #: Training on the JAX environment, when the agent was made on one (else None).
        self.fast_path = (FastPath(self.learner, self.jax_env, self.normalizer, self.seed)
                          if self.jax_env is not None else None)
        #: The recurrent states kept between calls (None for feed-forward networks).
        self.rnn_states = (RecurrentStates(self.learner, self.sampler.num_envs)
                           if isinstance(self.learner, RecurrentLearner) else None)
        #: The last rollout of ``fit`` on the ordinary path, its ``info`` with the policy info
        #: of :func:`~plugrl.agents.on_policy.policy_step.policy_info` (``config.collect``).
        self.last_rollout: Any = None
        #: DeepChem's Hindsight Experience Replay (``use_hindsight``), else None.
        self.hindsight = make_hindsight(use_hindsight, self._env_argument, self.envs, self.learner,
                                        fast_path=self.jax_env is not None)

    def _make_learner(self, function_approximator: Any) -> OnPolicyLearner:
        self.user_objects.check_config(self.config)
        actor, critic = self.user_objects.approximators(
            policy_spaces(self.observation_space, self.action_space), self.seed)
        learner_class = RecurrentLearner if uses_recurrence(self.config, actor, critic) else OnPolicyLearner
        if learner_class is RecurrentLearner and self._critic is not None:
            raise ValueError("critic: a GAE critic trains on shuffled samples, not on the sequences of "
                             "a recurrent policy; expected None with a recurrent network")
        return learner_class(self.observation_space, self.action_space, self.config, self.seed,
                               actor, self.user_objects.policy_object, self._critic,
                               self.CRITIC_UPDATES_ITSELF, value_approximator=critic,
                               optimizer=self.user_objects.optimizer)

    def _steps_per_iteration(self) -> int:
        return self.config.n_steps

    def remote_policy(self) -> OnPolicyRemote:
        """The policy of Ray's rollout workers: :meth:`_act`'s, noise drawn here."""
        if isinstance(self.learner, RecurrentLearner):
            raise ValueError("vectorization: expected 'sync', 'async' or 'auto' for a recurrent "
                             "policy (Ray's actors do not carry its states yet), got 'ray'")
        return OnPolicyRemote(self.learner, lambda: self.normalizer, self._noise)

    # ------------------------------------------------------------------ training
    def fit(self, total_steps: int | None = None, max_checkpoints_to_keep: int = 5,
            checkpoint_interval: int | None = None, restore: bool = False, *,
            callback: Callable[[Any, dict], Any] | None = None, checkpoint_seconds: float | None = None,
            overwrite: bool = False, eval_interval: int | None = None) -> OnPolicyAgent:
        """Train for ``total_steps`` more env steps; see :meth:`BaseAgent.fit`.

        On the fast path (an agent made on a JAX environment) one iteration is one compiled
        chunk: it runs to the next multiple of ``eval_interval`` (then evaluates with
        ``config.eval_episodes`` deterministic episodes, recorded as ``"eval_return"``), else to
        the next rollout when there is a ``callback`` or a time-based checkpoint, else to the
        next checkpoint, else to the end. ``callback`` and checkpoints run on the host between
        chunks.

        Parameters
        ----------
        eval_interval : int, optional
            Fast path only: evaluate inside the compiled program every so many env steps.
        """
        if self.fast_path is None:
            if eval_interval:
                raise ValueError("eval_interval: only the fast path (an agent made on a JAX env) "
                                 "evaluates inside fit; evaluate in a callback instead")
        else:
            # pyrado's max_iter (no total_steps) counts iterations: one rollout each
            host_each_rollout = (callback is not None or checkpoint_seconds is not None or self.eval_intvl
                                 or total_steps is None)
            self.fast_path.chunk_steps = (eval_interval or (1 if host_each_rollout else None)
                                          or checkpoint_interval)
            self.fast_path.evaluate = bool(eval_interval)
        super().fit(total_steps, max_checkpoints_to_keep, checkpoint_interval, restore,
                    callback=callback, checkpoint_seconds=checkpoint_seconds, overwrite=overwrite)
        return self

    def train_many(self, seeds: list[int], total_steps: int, eval_interval: int | None = None,
                   **grid: list[Any]) -> ManyRuns:
        """Train many seeds (and a grid of traced hyperparameters) at once on the fast path;
        see :func:`plugrl.agents.on_policy.fast_many.train_many`. The agent itself is not changed."""
        if self.fast_path is None:
            raise ValueError("train_many: expected an agent made on a JAX environment, e.g. "
                             "PPO(plugrl.envs.jax.make('CartPole-v1')), got one on "
                             f"{self.env_id or 'a Gymnasium env'}")
        return train_many(self.fast_path, seeds, total_steps, eval_interval, **grid)

    def _train_iteration(self, total_steps: int) -> dict[str, float]:
        if self.fast_path is not None:
            return self._fast_iteration(self.fast_path, total_steps)
        if self.rnn_states is not None:
            self.rnn_states.start_rollout()
        rollout = self.sampler.collect(self._act)
        T, N = rollout.R.shape
        iteration = self.num_steps // (T * N)  # updates so far: every rollout has T * N steps
        self.num_steps += T * N
        batch = self._batch(rollout)
        if self.hindsight is not None:
            relabelled, live = self.hindsight.relabel(rollout, self._normalize)
            batch = with_relabelled(batch, self._batch(relabelled), live, self._rng)
        coefficients = update_coefficients(self.config, min(1.0, self.num_steps / total_steps),
                                           iteration=iteration)
        self._key, key = split_key(self._key)
        # hindsight's batches hold the relabelled steps too (feed-forward only)
        shuffles = self.learner.shuffles(T * N if self.hindsight is None else len(batch["S"]), self._rng)
        metrics = self.learner.update(batch, coefficients, key, shuffles)
        if self.normalizer is not None:
            self.normalizer.update(rollout.S.reshape(T * N, *self.learner.observation_space.shape))
        if self.config.collect:
            info = rollout.info
            self.last_rollout = rollout._replace(info={**info, **policy_info(
                info["logP"], info["V"], info["Z"], self.learner.discrete)})
        return {**self._progress_record(), **metrics}

    def _fast_iteration(self, fast_path: FastPath, total_steps: int) -> dict[str, float]:
        """One compiled chunk of the fast path, from the agent's state; the agent takes the
        state it returns."""
        moments = self.normalizer.moments if self.normalizer is not None else None
        state, record = fast_path.iteration(
            TrainingState(self.learner.state, moments, self._key, self.num_steps), total_steps)
        self.learner.load_state(state.learner)
        if self.normalizer is not None and state.moments is not None:  # both or neither
            self.normalizer.load_moments(state.moments)
        self._key, self.num_steps = state.key, state.steps
        return record

    def _batch(self, rollout: Any) -> dict[str, np.ndarray]:
        T, N = rollout.R.shape
        obs_shape = self.learner.observation_space.shape
        S = self._normalize(rollout.S.reshape(T * N, *obs_shape))
        S_next = self._normalize(rollout.S_next.reshape(T * N, *obs_shape))
        V_old = rollout.info["V"]
        if self.rnn_states is not None:
            assert isinstance(self.learner, RecurrentLearner)
            return rollout_sequences(self.learner, rollout, self.rnn_states.rollout_start,
                                     S.reshape(rollout.S.shape), S_next.reshape(rollout.S.shape))
        if self.learner.critic is not None:
            Adv, Rlambda = self.learner.update_critic(
                rollout._replace(S=S.reshape(rollout.S.shape), S_next=S_next.reshape(rollout.S.shape)),
                self._rng)
        else:
            V_next = self.learner.values(S_next).reshape(T, N)
            Adv, Rlambda = self.learner.advantages(rollout.R, V_old, V_next, rollout.terminated,
                                                   rollout.truncated)
        A = rollout.info["A"]
        return {"S": S, "A": A.reshape(T * N, *A.shape[2:]), "logP": rollout.info["logP"].reshape(-1),
                "V": V_old.reshape(-1), "Adv": Adv.reshape(-1), "R": Rlambda.reshape(-1)}

    # ------------------------------------------------------------------ acting
    def _act(self, S: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if self.rnn_states is not None:
            info = self.rnn_states.act(self._normalize(S), self._noise(len(S)), self.sampler.episode_starts)
        else:
            info = self.learner.act(self._normalize(S), self._noise(len(S)))
        return self.learner.env_actions(info["A"]), info

    def _noise(self, batch_size: int) -> np.ndarray:
        return self.learner.policy.noise_block(batch_size, self._rng)

    def _normalize(self, S: np.ndarray) -> np.ndarray:
        if self.normalizer is None:  # image bytes stay bytes: the network scales them
            return np.asarray(S, self.sampler.obs_dtype)
        return self.normalizer(np.asarray(S, np.float32))

    def select_action(self, s: Any, deterministic: bool = False, use_saved_states: bool = True,
                      save_states: bool = True) -> Any:
        """One action for one observation: sampled, or the most likely if ``deterministic``.
        ``use_saved_states`` and ``save_states``: DeepChem's, as in :meth:`predict`."""
        S = self._normalize(self.learner.policy.check_state(s)[None])
        noise = None if deterministic else self._noise(1)
        if self.rnn_states is not None:
            state = self.rnn_states.begin(use_saved_states)
            A, state = self.rnn_states.step(S, noise, state)
            self.rnn_states.end(state, save_states)
        elif noise is None:
            A = self.learner.greedy_actions(self.learner.policy_params(S))
        else:
            A = self.learner.act(S, noise)["A"]
        a = self.learner.env_actions(A)[0]
        return int(a) if self.learner.discrete else a

    def predict(self, s: Any, use_saved_states: bool = True, save_states: bool = True) -> list[Any]:
        """DeepChem's outputs for one observation ``s``: ``[action_probs, value]`` for discrete
        actions, ``[mean, std, value]`` for ``Box`` actions (arrays of the action's shape, and a
        float).

        With a recurrent policy (DeepChem's semantics): ``use_saved_states=True`` starts from
        the states saved by the last ``predict`` or ``select_action`` (the initial states before
        any), ``False`` from the initial states; ``save_states=True`` keeps the states the call
        ends with, ``False`` keeps the saved ones. Without recurrent states they change nothing.
        """
        S = self._normalize(self.learner.policy.check_state(s)[None])
        if self.rnn_states is not None:
            Z, V = self.rnn_states.outputs(S, use_saved_states, save_states)
        else:
            Z, V = self.learner.policy_params(S), self.learner.values(S)
        if self.learner.discrete:
            probs = np.exp(Z[0] - Z[0].max())
            return [probs / probs.sum(), float(V[0])]
        return [Z[0][0], np.exp(0.5 * Z[1][0]), float(V[0])]

    def episode_policy(self, deterministic: bool) -> Callable[[Any], Any]:
        """The policy of one evaluation episode; a recurrent one carries its own state from the
        initial states (the saved states of :meth:`predict` stay as they were)."""
        rnn_states = self.rnn_states
        if rnn_states is None:
            return super().episode_policy(deterministic)
        state = [rnn_states.begin(use_saved_states=False)]

        def act(s: Any) -> Any:
            S = self._normalize(self.learner.policy.check_state(s)[None])
            A, state[0] = rnn_states.step(S, None if deterministic else self._noise(1), state[0])
            a = self.learner.env_actions(A)[0]
            return int(a) if self.learner.discrete else a

        return act

    def evaluation_env(self) -> gym.Env:
        """A fresh Gymnasium environment for :meth:`evaluate`: on a JAX environment whose id
        Gymnasium does not know, the JAX environment behind the Gymnasium API."""
        if self.env_id is None and self.jax_env is not None:
            from plugrl.envs.jax import to_gymnasium

            return to_gymnasium(self.jax_env)
        return super().evaluation_env()

    # ------------------------------------------------------------------ persistence
    def keras_models(self) -> dict[str, Any]:
        """The actor and the critic as Keras models with the current weights."""
        models = {}
        for name, function in (("actor", self.learner.policy), ("critic", self.learner.v_func)):
            function.function_approximator.sync_keras_variables()
            models[name] = function.head.model
        return models

    def _sampler_options(self) -> dict[str, Any]:
        """Rollouts with at least ``config.min_rollouts`` episodes (pyrado's)."""
        return {"min_rollouts": self.config.min_rollouts}

    def _reset_memory(self) -> None:
        """pyrado's ``reset`` of an actor-critic: the critic's too (its learning-rate schedule and
        standardizer start again)."""
        if self.learner.critic is not None:
            self.learner.critic.reset()
        if self.fast_path is not None:  # its environments restart with the step count
            self.fast_path.episodes = 0
        self.episodes_restarted()

    def episodes_restarted(self) -> None:
        """New episodes in every environment: the rollout's recurrent state starts again."""
        rnn_states: RecurrentStates | None = getattr(self, "rnn_states", None)  # None while constructing
        if rnn_states is not None:
            rnn_states.episodes_restarted()

    def _checkpoint_extra(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {} if self.learner.critic is None else {
            f"critic/{k}": v for k, v in self.learner.critic.state().items()}
        if callable(getattr(self.normalizer, "state", None)):
            arrays.update({f"normalizer/{k}": np.asarray(v) for k, v in self.normalizer.state().items()})
        if self.rnn_states is not None:
            arrays.update(self.rnn_states.arrays())
        return arrays, {}

    def _restore_extra(self, arrays: Any, state: dict[str, Any]) -> None:
        if self.learner.critic is not None:
            self.learner.critic.load_state({k[len("critic/"):]: v for k, v in arrays.items()
                                            if k.startswith("critic/")})
        names = [name.partition("/")[2] for name in arrays if name.startswith("normalizer/")]
        if names and self.normalizer is not None:
            self.normalizer.load_state({k: arrays[f"normalizer/{k}"] for k in names})
        if self.rnn_states is not None:
            self.rnn_states.load_arrays(arrays)


def _gymnasium_twin(env: Any) -> Any:
    """What the agent acts on, evaluates on and saves with for a JAX env: the Gymnasium env of
    the same id, or the JAX env behind the Gymnasium API when the id is not registered."""
    if getattr(env, "id", None) in gym.registry:
        return env.id
    from plugrl.envs.jax import to_gymnasium

    return lambda: to_gymnasium(env)
