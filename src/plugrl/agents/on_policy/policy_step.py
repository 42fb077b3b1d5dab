"""TF-Agents' policy interface (seed 003, ``PPOPolicy``) on the on-policy agents: ``action``,
``distribution`` and ``apply_value_network`` (:class:`PPOPolicyInterface`), the policy steps
they return, and the policy info emitted at collection time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from plugrl._backend import keras
from plugrl.agents.on_policy.recurrent import RecurrentLearner, reset_where
from plugrl.proba_dists import ProbaDist

__all__ = ["PPOPolicyInterface", "PolicyStep", "check_no_state", "first_of_batch", "observation_batch",
           "policy_info"]


class PolicyStep(NamedTuple):
    """TF-Agents' ``PolicyStep``.

    Attributes
    ----------
    action : ndarray or ProbaDist
        Actions [batch, ...] from :meth:`~plugrl.agents.OnPolicyAgent.action` (clipped to the
        bounds if ``clip_actions``), or the distribution from
        :meth:`~plugrl.agents.OnPolicyAgent.distribution`.
    state : tuple
        The policy state to pass to the next call: ``()`` for feed-forward networks, else the
        recurrent state ``(actor_state, critic_state)`` (see :meth:`get_initial_state`).
    info : dict or tuple
        The policy info (see :func:`policy_info`), or ``()`` when the agent's ``collect`` is off.
    """

    action: Any
    state: Any
    info: Any


def policy_info(logP: np.ndarray, V: np.ndarray, Z: np.ndarray, discrete: bool) -> dict[str, Any]:
    """The policy info in TF-Agents' names, from the learner's ``act`` (any leading shape).

    Returns
    -------
    info : dict
        ``'log_probability'`` (of the unclipped action), ``'value_prediction'`` and
        ``'dist_params'``: ``{'logits': ...}`` for discrete actions, ``{'loc': mean, 'scale':
        std}`` for ``Box`` actions (flattened action dimensions).
    """
    if discrete:
        params = {"logits": Z}
    else:
        mu, logvar = np.split(Z, 2, axis=-1)
        params = {"loc": mu, "scale": np.exp(0.5 * logvar)}
    return {"log_probability": logP, "value_prediction": V, "dist_params": params}


def observation_batch(time_step: Any, observation_shape: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    """Observations [batch, *obs_shape] from a time step (anything with ``.observation``), a
    batch of observations or one observation; and whether it was one (without a batch axis)."""
    S = np.asarray(getattr(time_step, "observation", time_step), np.float32)
    if S.shape == tuple(observation_shape):
        return S[None], True
    if S.shape[1:] != tuple(observation_shape):
        raise ValueError(f"time_step: expected observations of shape [batch, *{tuple(observation_shape)}] "
                         f"or {tuple(observation_shape)}, got {S.shape}")
    return S, False


def check_no_state(name: str, state: Any) -> None:
    """A policy state other than ``()`` or None belongs to recurrent policies."""
    if state is not None and not (isinstance(state, tuple) and not state):
        raise ValueError(f"{name}: expected () (a feed-forward policy has no state), got "
                         f"{type(state).__name__}; recurrent states need a recurrent network "
                         f"(e.g. recurrent='lstm')")


def _episode_starts(time_step: Any, batch_size: int) -> np.ndarray:
    """Where a TF-Agents time step begins an episode (``step_type == FIRST``, 0), [batch]."""
    step_type = getattr(time_step, "step_type", None)
    if step_type is None:
        return np.zeros(batch_size, bool)
    return np.broadcast_to(np.asarray(step_type) == 0, (batch_size,))


def first_of_batch(step: PolicyStep) -> PolicyStep:
    """The policy step of the one observation in a batch of one."""
    info = step.info if not step.info else {
        k: ({p: x[0] for p, x in v.items()} if isinstance(v, dict) else v[0]) for k, v in step.info.items()}
    return PolicyStep(step.action[0], step.state, info)


class PPOPolicyInterface:
    """TF-Agents' ``PPOPolicy`` methods, mixed into :class:`~plugrl.agents.OnPolicyAgent`."""

    learner: Any
    config: Any
    normalizer: Any
    _rng: np.random.Generator
    _normalize: Callable[[np.ndarray], np.ndarray]

    @property
    def observation_normalizer(self) -> Any:
        """TF-Agents' name for the agent's observation normaliser (``None`` when there is none)."""
        return self.normalizer

    def get_initial_state(self, batch_size: int | None = None) -> Any:
        """TF-Agents' ``get_initial_state``: the policy state at an episode's start, ``()`` for
        feed-forward networks; for recurrent ones ``(actor_state, critic_state)``, tuples of
        arrays [batch_size, ...] (no batch axis when ``batch_size`` is None). Unlike TF-Agents,
        whose policy state is the actor network's, it holds the critic's as well, so that
        :meth:`action` can emit the value prediction of its policy info."""
        if not isinstance(self.learner, RecurrentLearner):
            return ()
        state = self.learner.initial_state(1 if batch_size is None else int(batch_size))
        return _tree_map(lambda x: x[0], state) if batch_size is None else state

    def get_initial_value_state(self, batch_size: int | None = None) -> Any:
        """TF-Agents' ``get_initial_value_state``: the value network's initial state (the
        shared body's when actor and critic share one; ``()`` when it is feed-forward)."""
        state = self.get_initial_state(batch_size)
        if not state:
            return ()
        return state[0] if self.learner.shared else state[1]

    def action(self, time_step: Any, policy_state: Any = (), seed: int | None = None) -> PolicyStep:
        """TF-Agents' ``action``: sampled actions for a batch of observations (or a time step
        with ``.observation``, or one observation), with the policy info if ``collect``.

        ``seed`` draws the sample from its own generator. ``policy_state`` is ``()`` for a
        feed-forward network; for a recurrent one the state returned by the previous call (or
        :meth:`get_initial_state`; ``()`` means it), reset where ``time_step.step_type`` is
        FIRST; the returned step holds the next state.
        """
        S, single = observation_batch(time_step, self.learner.observation_space.shape)
        rng = self._rng if seed is None else np.random.default_rng(seed)
        noise = self.learner.policy.noise_block(len(S), rng)
        if isinstance(self.learner, RecurrentLearner):
            state = self._policy_state(policy_state, len(S), single)
            starts = _episode_starts(time_step, len(S))
            info, state = self.learner.act_step(self._normalize(S), noise, state, starts)
            state = _tree_map(np.asarray, state)
        else:
            check_no_state("policy_state", policy_state)
            info, state = self.learner.act(self._normalize(S), noise), ()
        A = self.learner.env_actions(info["A"])
        step = PolicyStep(A, _tree_map(lambda x: x[0], state) if single else state,
                          policy_info(info["logP"], info["V"], info["Z"], self.learner.discrete)
                          if self.config.collect else ())
        return first_of_batch(step) if single else step

    def distribution(self, time_step: Any, policy_state: Any = ()) -> PolicyStep:
        """TF-Agents' ``distribution``: a :class:`PolicyStep` whose ``action`` is the policy's
        distribution (a :class:`~plugrl.proba_dists.ProbaDist` over the batch), and the next
        policy state (as :meth:`action`)."""
        S, single = observation_batch(time_step, self.learner.observation_space.shape)
        if isinstance(self.learner, RecurrentLearner):
            state = self._policy_state(policy_state, len(S), single)
            state = reset_where(_episode_starts(time_step, len(S)), self.learner.initial_state(len(S)), state)
            Z, _, state = self.learner.step_outputs(self._normalize(S), state)
            state = _tree_map(np.asarray, state)
            state = _tree_map(lambda x: x[0], state) if single else state
        else:
            check_no_state("policy_state", policy_state)
            Z, state = self.learner.policy_params(self._normalize(S)), ()
        dist: ProbaDist = self.learner.policy.make_dist(Z)
        return PolicyStep(dist, state, ())

    def apply_value_network(self, observations: Any, step_types: Any = None, value_state: Any = None,
                            training: bool = False) -> tuple[np.ndarray, Any]:
        """TF-Agents' ``apply_value_network``: ``(values, value_state)`` of raw observations,
        normalised first as in training; ``training`` does not change the result (no dropout).

        Feed-forward: observations [batch, *obs_shape] (or one), ``value_state`` ``()``/None,
        values [batch]. Recurrent: a batch, or a time series [batch, T, *obs_shape] run step by
        step (values [batch, T]) from ``value_state`` (None or ``()``: the initial state), reset
        where ``step_types`` [batch(, T)] is FIRST (0); returns the final value state.
        """
        if not isinstance(self.learner, RecurrentLearner):
            check_no_state("value_state", value_state)
            S, single = observation_batch(observations, self.learner.observation_space.shape)
            V = self.learner.values(self._normalize(S))
            return (V[0] if single else V), ()
        return self._recurrent_values(observations, step_types, value_state)

    def _recurrent_values(self, observations: Any, step_types: Any,
                          value_state: Any) -> tuple[np.ndarray, Any]:
        learner: RecurrentLearner = self.learner
        obs_shape = tuple(learner.observation_space.shape)
        S = np.asarray(observations, np.float32)
        series = S.ndim == len(obs_shape) + 2
        S = S.reshape(-1, 1, *obs_shape) if not series else S
        B, T = S.shape[:2]
        firsts = (np.zeros((B, T), bool) if step_types is None
                  else np.broadcast_to(np.asarray(step_types).reshape(B, -1) == 0, (B, T)))
        initial = learner.initial_state(B)
        given = value_state is not None and not (isinstance(value_state, tuple) and not value_state)
        if learner.shared:
            state = (value_state if given else initial[0], ())
        else:
            state = (initial[0], value_state if given else initial[1])
        values = []
        for t in range(T):
            state = reset_where(firsts[:, t], initial, state)
            _, V, state = learner.step_outputs(self._normalize(S[:, t]), state)
            values.append(V)
        final = _tree_map(np.asarray, state[0] if learner.shared else state[1])
        V = np.stack(values, axis=1)
        return (V if series else V[:, 0]), final

    def _policy_state(self, policy_state: Any, batch_size: int, single: bool) -> Any:
        """The recurrent state to act from: the given one (with a batch axis), or the initial."""
        if policy_state is None or (isinstance(policy_state, tuple) and not policy_state):
            return self.learner.initial_state(batch_size)
        return _tree_map(lambda x: np.asarray(x)[None], policy_state) if single else policy_state


def _tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    return keras.tree.map_structure(fn, tree)
