"""TF-Agents' policy steps (seed 003, ``PPOPolicy``): what ``agent.action`` and
``agent.distribution`` return, and the policy info emitted at collection time."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from plugrl.function_approximators.keras_models import RECURRENT_POLICIES_ISSUE

__all__ = ["PolicyStep", "check_no_state", "first_of_batch", "observation_batch", "policy_info"]


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
