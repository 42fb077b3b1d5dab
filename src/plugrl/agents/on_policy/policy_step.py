"""TF-Agents' policy interface (seed 003, ``PPOPolicy``) on the on-policy agents: ``action``,
``distribution`` and ``apply_value_network`` (:class:`PPOPolicyInterface`), the policy steps
they return, and the policy info emitted at collection time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from plugrl.function_approximators.keras_models import RECURRENT_POLICIES_ISSUE
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
        The policy state: always ``()`` (no recurrent policies yet).
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
        raise ValueError(f"{name}: expected () (no recurrent state), got {type(state).__name__}; "
                         f"recurrent policies are the feature of the issue {RECURRENT_POLICIES_ISSUE!r}")


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

    def action(self, time_step: Any, policy_state: Any = (), seed: int | None = None) -> PolicyStep:
        """TF-Agents' ``action``: sampled actions for a batch of observations (or a time step
        with ``.observation``, or one observation), with the policy info if ``collect``.

        ``seed`` draws the sample from its own generator; ``policy_state`` must be ``()``.
        """
        check_no_state("policy_state", policy_state)
        S, single = observation_batch(time_step, self.learner.observation_space.shape)
        rng = self._rng if seed is None else np.random.default_rng(seed)
        info = self.learner.act(self._normalize(S), self.learner.policy.noise_block(len(S), rng))
        A = self.learner.env_actions(info["A"])
        step = PolicyStep(A, (), policy_info(info["logP"], info["V"], info["Z"], self.learner.discrete)
                          if self.config.collect else ())
        return first_of_batch(step) if single else step

    def distribution(self, time_step: Any, policy_state: Any = ()) -> PolicyStep:
        """TF-Agents' ``distribution``: a :class:`PolicyStep` whose ``action`` is the policy's
        distribution (a :class:`~plugrl.proba_dists.ProbaDist` over the batch)."""
        check_no_state("policy_state", policy_state)
        S, _ = observation_batch(time_step, self.learner.observation_space.shape)
        dist: ProbaDist = self.learner.policy.make_dist(self.learner.policy_params(self._normalize(S)))
        return PolicyStep(dist, (), ())

    def apply_value_network(self, observations: Any, step_types: Any = None, value_state: Any = None,
                            training: bool = False) -> tuple[np.ndarray, tuple]:
        """TF-Agents' ``apply_value_network``: ``(values [batch], ())`` of a batch of raw
        observations, normalised first as in training. ``step_types`` and ``training`` do not
        change the result (no recurrent state, no dropout in training mode)."""
        check_no_state("value_state", value_state)
        S, single = observation_batch(observations, self.learner.observation_space.shape)
        V = self.learner.values(self._normalize(S))
        return (V[0] if single else V), ()
