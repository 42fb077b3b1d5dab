r"""DeepChem's Hindsight Experience Replay for the on-policy agents (``use_hindsight=True``).

DeepChem's A2C and PPO (seed 002) process each rollout twice: "once using the actual goal the
agent was pursuing while generating it, and again using the final state of that rollout as the
goal", through the environment's ``apply_hindsight(states, actions, goal) -> (new_states,
rewards)``. Here, with vector environments and rollouts that cross episode ends, every episode
*segment* of every environment (the steps of one episode within the rollout) is relabelled with
the state it reached last, ``S_next`` of its last step. The relabelled segment ends there,
*terminated* (it reached its goal; DeepChem bootstraps it with 0 likewise), or sooner where
``apply_hindsight`` returns fewer steps ("if the modified rollout would have terminated
sooner"). Its log-probabilities and values are recomputed under the new goals with the
learner's jitted forward pass: the states changed, so what the collecting policy recorded no
longer applies (DeepChem recomputes the values; PPO's ratio needs the log-probabilities too).

Where DeepChem differs: it passes ``states[-1]``, the state *before* the last action, as the
goal; plugrl passes the state after it, so that every relabelled segment reaches its goal.
DeepChem applies one more gradient step to the relabelled rollout; plugrl adds it to the
update's batch, which then holds the rollout's :math:`TN` samples and :math:`TN` relabelled
ones: the :math:`M \le TN` relabelled steps once each, then :math:`TN - M` drawn uniformly
among them, so that the update keeps one shape (one compilation) however much
``apply_hindsight`` shortens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium.vector import SyncVectorEnv, VectorEnv

from plugrl._backend import jit_for
from plugrl.samplers import Rollout, make_env_like

__all__ = ["Hindsight", "find_apply_hindsight", "make_hindsight", "with_relabelled"]

ApplyHindsight = Callable[[Any, Any, Any], tuple[Any, Any]]


def find_apply_hindsight(env_argument: Any, envs: VectorEnv) -> ApplyHindsight:
    """The environment's ``apply_hindsight``: the agent's env argument's own (a DeepChem
    :class:`~plugrl.envs.Environment` or a Gymnasium env), else its unwrapped env's.

    Raises
    ------
    ValueError
        If the environment has no ``apply_hindsight``.
    """
    candidates = [env_argument, getattr(env_argument, "unwrapped", None)]
    if isinstance(envs, SyncVectorEnv):
        candidates.append(envs.envs[0].unwrapped)
    elif isinstance(env_argument, str):
        candidates.append(make_env_like(env_argument).unwrapped)
    for candidate in candidates:
        method = getattr(candidate, "apply_hindsight", None)
        if callable(method):
            return method
    name = env_argument if isinstance(env_argument, str) else type(env_argument).__name__
    raise ValueError(f"use_hindsight: expected an env with DeepChem's apply_hindsight(states, actions, goal) "
                     f"-> (new_states, rewards) (e.g. plugrl.envs.BitFlippingEnv(flat=True)), got {name} "
                     "without one")


def make_hindsight(use_hindsight: bool, env_argument: Any, envs: VectorEnv, learner: Any,
                   fast_path: bool) -> Hindsight | None:
    """An agent's :class:`Hindsight` for the env it was given and its vector env, or None
    without ``use_hindsight``.

    Raises
    ------
    ValueError
        Where DeepChem's relabelling does not apply: a JAX env (the fast path), a ``critic``
        that trains itself (pyrado's PPO), an env without ``apply_hindsight``.
    """
    if not use_hindsight:
        return None
    if fast_path or learner.critic is not None:
        raise ValueError("use_hindsight: expected an agent on a Gymnasium env whose value function "
                         "trains in the combined loss, got one on a JAX env (the fast path) or with a "
                         "critic that trains itself")
    return Hindsight(find_apply_hindsight(env_argument, envs), learner)


class Hindsight:
    """Relabels rollouts for ``use_hindsight=True`` (see the module).

    Parameters
    ----------
    apply_hindsight : callable
        The environment's ``apply_hindsight(states, actions, goal)``.
    learner : OnPolicyLearner
        Its jitted forward pass gives the relabelled steps' log-probabilities and values.
    """

    def __init__(self, apply_hindsight: ApplyHindsight, learner: Any) -> None:
        self.apply_hindsight = apply_hindsight
        self.learner = learner

        def policy_info(params: Any, non_trainable: Any, S: Any, A: Any) -> tuple[Any, Any]:
            Z, V = learner.forward(params, non_trainable, S)
            return learner.policy.make_dist(Z).log_proba(A), V

        self._policy_info = jit_for(learner.convolutional)(policy_info)

    def relabel(self, rollout: Rollout,
                normalize: Callable[[np.ndarray], np.ndarray]) -> tuple[Rollout, np.ndarray]:
        """The rollout relabelled segment by segment, and which of its steps are real.

        Returns
        -------
        relabelled : Rollout
            Of the same shape [T, N]: relabelled states, the actions, the relabelled rewards,
            ``terminated`` at each relabelled segment's last step, no truncation, and ``info``
            with ``A``, ``logP`` and ``V`` under the new goals (states ``normalize``-d first).
        live : ndarray, bool, shape [T, N]
            False for the steps past a segment that ``apply_hindsight`` shortened.
        """
        T, N = rollout.R.shape
        S, S_next = rollout.S.astype(np.float32), rollout.S_next.astype(np.float32)
        R, terminated = np.zeros((T, N), np.float32), np.ones((T, N), bool)
        live = np.zeros((T, N), bool)
        ends = rollout.terminated | rollout.truncated
        for i in range(N):
            starts = np.concatenate([[0], np.flatnonzero(ends[:-1, i]) + 1])
            for t0, t1 in zip(starts, [*starts[1:], T], strict=True):
                length = self._relabel_segment(rollout, i, t0, t1, S, R)
                S_next[t0:t0 + length - 1, i] = S[t0 + 1:t0 + length, i]
                terminated[t0:t0 + length - 1, i] = False
                live[t0:t0 + length, i] = True
        A = rollout.info["A"]
        params, non_trainable = self.learner.state.params, self.learner.state.non_trainable
        logP, V = self._policy_info(params, non_trainable, normalize(S.reshape(T * N, *S.shape[2:])),
                                    A.reshape(T * N, *A.shape[2:]))
        info = {"A": A, "logP": np.asarray(logP).reshape(T, N), "V": np.asarray(V).reshape(T, N)}
        return rollout._replace(S=S, R=R, terminated=terminated, truncated=np.zeros((T, N), bool),
                                S_next=S_next, info=info), live

    def _relabel_segment(self, rollout: Rollout, i: int, t0: int, t1: int, S: np.ndarray,
                         R: np.ndarray) -> int:
        """Relabel steps ``t0 .. t1 - 1`` of env ``i`` in place in ``S``, ``R``; return how many
        ``apply_hindsight`` kept."""
        states, rewards = self.apply_hindsight(rollout.S[t0:t1, i], rollout.A[t0:t1, i],
                                               rollout.S_next[t1 - 1, i])
        states, rewards = np.asarray(states, np.float32), np.asarray(rewards, np.float32).reshape(-1)
        length = len(rewards)
        if not 1 <= length <= t1 - t0 or states.shape != (length, *S.shape[2:]):
            raise ValueError(f"use_hindsight: expected env.apply_hindsight to return 1 to {t1 - t0} states "
                             f"of shape {S.shape[2:]} and as many rewards, got states of shape "
                             f"{states.shape} and {length} rewards")
        S[t0:t0 + length, i], R[t0:t0 + length, i] = states, rewards
        return length


def with_relabelled(batch: dict[str, np.ndarray], relabelled: dict[str, np.ndarray], live: np.ndarray,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``batch`` followed by as many relabelled samples: the ``live`` ones once each, then the
    rest drawn uniformly among them with ``rng`` (see the module)."""
    kept = np.flatnonzero(live.reshape(-1))
    size = len(batch["S"])
    order = np.concatenate([kept, kept[rng.integers(len(kept), size=size - len(kept))]])
    return {k: np.concatenate([batch[k], relabelled[k][order]]) for k in batch}
