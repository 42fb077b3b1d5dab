"""The recurrent states an on-policy agent keeps on the host between calls.

:class:`RecurrentStates` holds the rollout state of the training environments (carried from one
vector step and one rollout to the next, saved in checkpoints so that resuming is exact) and
DeepChem's *saved states* of ``predict``/``select_action`` (seed 002): ``use_saved_states=True``
starts from the states the last call saved (the initial states before any), ``False`` from the
policy's initial states; ``save_states=True`` keeps the states the call ends with, ``False``
keeps the previously saved ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl._backend import keras
from plugrl.agents.on_policy.recurrent import RecurrentLearner, RolloutState

__all__ = ["RecurrentStates"]


class RecurrentStates:
    """The host-side recurrent states of an agent with a :class:`RecurrentLearner`.

    Parameters
    ----------
    learner : RecurrentLearner
        Gives the initial states and runs the steps.
    num_envs : int
        The training environments.

    Attributes
    ----------
    rollout : RolloutState
        The state the next vector step of training continues from, [num_envs, ...].
    rollout_start : RolloutState
        The state before the first step of the last rollout (what its sequences start from).
    saved : RolloutState
        DeepChem's saved states of ``predict``/``select_action``, [1, ...].
    """

    def __init__(self, learner: RecurrentLearner, num_envs: int) -> None:
        self.learner, self.num_envs = learner, num_envs
        self.rollout: RolloutState = learner.initial_state(num_envs)
        self.rollout_start: RolloutState = self.rollout
        self.saved: RolloutState = learner.initial_state(1)

    def start_rollout(self) -> None:
        """Mark the current state as the start of the rollout about to be collected."""
        self.rollout_start = self.rollout

    def act(self, S: np.ndarray, noise: np.ndarray, starts: np.ndarray) -> dict[str, np.ndarray]:
        """One vector step of training: reset where an episode ``starts``, act, keep the state;
        returns the policy info with ``"episode_start"`` (the flags, recorded in the rollout) and,
        when training sequences are chunks, ``"rnn_state/<i>"`` (the state's leaves before the step)."""
        before = self.rollout
        info, self.rollout = self.learner.act_step(S, noise, before, starts)
        info["episode_start"] = np.asarray(starts, bool)
        if self.learner.chunked:  # training sequences start from these states
            info.update({f"rnn_state/{i}": np.asarray(x) for i, x in enumerate(keras.tree.flatten(before))})
        return info

    def begin(self, use_saved_states: bool, batch_size: int = 1) -> RolloutState:
        """The state a ``predict``/``select_action`` call starts from (DeepChem's semantics)."""
        if use_saved_states and batch_size == 1:
            return self.saved
        return self.learner.initial_state(batch_size)

    def end(self, new_state: RolloutState, save_states: bool) -> None:
        """Keep the state a call ended with if ``save_states`` (DeepChem's semantics)."""
        if save_states:
            self.saved = _to_host(new_state)

    def step(self, S: np.ndarray, noise: np.ndarray | None,
             state: RolloutState) -> tuple[np.ndarray, RolloutState]:
        """Actions ``A`` [batch, ...] for observations from ``state`` (no reset): drawn with
        ``noise``, or the most likely with None; and the next state."""
        if noise is None:
            Z, _, state = self.learner.step_outputs(S, state)
            return self.learner.greedy_actions(Z), state
        info, state = self.learner.act_step(S, noise, state, np.zeros(len(S), bool))
        return info["A"], state

    def outputs(self, S: np.ndarray, use_saved_states: bool, save_states: bool) -> tuple[Any, np.ndarray]:
        """The distribution parameters and values of ``predict`` (DeepChem's semantics)."""
        Z, V, state = self.learner.step_outputs(S, self.begin(use_saved_states))
        self.end(state, save_states)
        return Z, V

    def episodes_restarted(self) -> None:
        """New episodes in every environment: the rollout state starts again."""
        self.rollout = self.learner.initial_state(self.num_envs)

    # ------------------------------------------------------------------ checkpoints
    def arrays(self) -> dict[str, np.ndarray]:
        """The rollout state and the saved states, as named arrays for a checkpoint."""
        return {f"rnn/{name}/{i}": np.asarray(x)
                for name, state in (("rollout", self.rollout), ("saved", self.saved))
                for i, x in enumerate(keras.tree.flatten(state))}

    def load_arrays(self, arrays: Any) -> None:
        """Restore what :meth:`arrays` saved (a checkpoint without them: initial states)."""
        for name in ("rollout", "saved"):
            template = getattr(self, name)
            leaves = keras.tree.flatten(template)
            if all(f"rnn/{name}/{i}" in arrays for i in range(len(leaves))):
                restored = [np.asarray(arrays[f"rnn/{name}/{i}"]) for i in range(len(leaves))]
                setattr(self, name, keras.tree.pack_sequence_as(template, restored))


def _to_host(state: RolloutState) -> RolloutState:
    return keras.tree.map_structure(np.asarray, state)
