"""Recurrent on-policy learning: the state carried through rollouts, and updates on sequences.

:class:`RecurrentLearner` is the :class:`~plugrl.agents.on_policy.learner.OnPolicyLearner` of
networks with a recurrent state (:mod:`plugrl.function_approximators.recurrent`). Its state, the
*rollout state* ``(actor_state, critic_state)`` (each a tuple of arrays [batch, ...], ``()`` for a
feed-forward network or a critic that shares the actor's body), is an explicit input and output of
every pure function, and both training paths use them alike:

- acting, one vector step: :meth:`RecurrentLearner.sample_step` resets the state of the
  environments whose episode starts at this step (:func:`reset_where`, *before* the forward pass)
  and returns the next state;
- training: the rollout is kept as ``num_envs`` sequences with their episode-start flags and the
  state before their first step; :meth:`RecurrentLearner.sequence_forward` scans over time
  (truncated backpropagation through the rollout), resetting the state inside the scan where an
  episode starts. Minibatches are whole sequences: a subset of the environments' columns of the
  rollout (sb3-contrib's ``RecurrentPPO`` cuts and pads episodes instead; with the reset inside the
  scan whole columns give the same gradients without padding).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl._backend import TrainState, jit_for, keras, scan_recomputing
from plugrl.agents.on_policy.learner import Coefficients, OnPolicyLearner, pack_columns
from plugrl.function_approximators.predefined.mlp import SpacesOnly, default_network
from plugrl.function_approximators.recurrent import (
    RecurrentMLP,
    initial_state_batch,
    is_recurrent,
    recurrent_parts,
)

ops = keras.ops

__all__ = ["RecurrentLearner", "RolloutState", "reset_where", "rollout_sequences", "sequence_batch",
           "uses_recurrence"]

#: ``(actor_state, critic_state)``: tuples of arrays [batch, ...] (``()`` where there is none).
RolloutState = tuple[tuple[Any, ...], tuple[Any, ...]]

#: The per-step fields of a training batch, besides the observations.
_STEP_FIELDS = ("A", "logP", "V", "Adv", "R")


def uses_recurrence(config: Any, *function_approximators: Any) -> bool:
    """Whether an agent with this configuration and these user networks is recurrent."""
    return config.recurrent is not None or any(is_recurrent(f) for f in function_approximators)


def reset_where(starts: Any, initial: Any, state: Any) -> Any:
    """``state`` with the rows where ``starts`` [batch] holds replaced by ``initial`` (pytrees of
    arrays [batch, ...]; NumPy or traced): the reset at an episode's first step."""
    def row(s0: Any, s: Any) -> Any:
        mask = ops.reshape(ops.cast(starts, "bool"), (-1,) + (1,) * (len(s.shape) - 1))
        return ops.where(mask, s0, s)

    return keras.tree.map_structure(row, initial, state)


class RecurrentLearner(OnPolicyLearner):
    """An on-policy learner whose actor and/or critic carry a recurrent state.

    Parameters are those of :class:`~plugrl.agents.on_policy.learner.OnPolicyLearner`; the
    default networks are :class:`~plugrl.function_approximators.recurrent.RecurrentMLP` of
    ``config.recurrent``, ``lstm_hidden_size`` and ``n_lstm_layers`` (the critic an MLP when not
    ``config.enable_critic_lstm``).

    :meth:`update_step` takes the batch of :func:`sequence_batch`: env-major sequences [num_envs,
    n_steps, ...] with ``starts`` [num_envs, n_steps] and ``state0`` (the rollout state before the
    first step); its ``indices`` [num_epoch, num_minibatches, envs_per_minibatch] pick environments.
    """

    recurrent = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shared = self.v_func.function_approximator is self.policy.function_approximator
        self._parts_pi, self._parts_v = (recurrent_parts(f.head) if is_recurrent(f.function_approximator)
                                         else None for f in (self.policy, self.v_func))
        compile_ = jit_for(self.convolutional)
        self._act_step = compile_(self._packed_sample_step)
        self._step = compile_(self.forward_step)
        self._next_values = compile_(self.sequence_next_values)

    def default_network(self, spaces: SpacesOnly, seed: int, critic: bool = False) -> Any:
        cfg = self.config
        if cfg.recurrent is None or (critic and not cfg.enable_critic_lstm):
            return default_network(spaces, cfg.hidden_sizes, cfg.activation, seed)
        return RecurrentMLP(spaces, cfg.recurrent, cfg.lstm_hidden_size, cfg.n_lstm_layers,
                            cfg.hidden_sizes, cfg.activation, random_seed=seed)

    # ------------------------------------------------------------------ states
    def initial_state(self, batch_size: int) -> RolloutState:
        """The rollout state of ``batch_size`` episodes' starts (NumPy)."""
        actor = initial_state_batch(self.policy.function_approximator, batch_size)
        critic = () if self.shared else initial_state_batch(self.v_func.function_approximator, batch_size)
        return actor, critic

    # ------------------------------------------------------------------ pure functions
    def forward_step(self, params: tuple, non_trainable: tuple, S: Any,
                     rnn_state: RolloutState) -> tuple[Any, Any, RolloutState]:
        """One time step: distribution parameters ``Z``, values ``V`` [batch] and the next
        rollout state, from observations [batch, ...] and the rollout state (no reset here)."""
        features, rnn_state = self._cores(params, non_trainable, S, rnn_state)
        return (*self._tops(params, non_trainable, S, features), rnn_state)

    def _cores(self, params: tuple, non_trainable: tuple, S: Any,
               rnn_state: RolloutState) -> tuple[tuple[Any, Any], RolloutState]:
        """The recurrent cores' features of the actor and the critic (None for a feed-forward
        network) and the next rollout state."""
        actor_state, critic_state = rnn_state
        X_pi = X_v = None
        if self._parts_pi is not None:
            X_pi, actor_state = self._parts_pi.apply_core(*self._groups.select(params, non_trainable, 0), S,
                                                          actor_state)
        if self.shared:
            X_v = X_pi
        elif self._parts_v is not None:
            X_v, critic_state = self._parts_v.apply_core(*self._groups.select(params, non_trainable, 1), S,
                                                         critic_state)
        return (X_pi, X_v), (actor_state, critic_state)

    def _tops(self, params: tuple, non_trainable: tuple, S: Any,
              features: tuple[Any, Any]) -> tuple[Any, Any]:
        """``Z`` and ``V`` from the cores' features (a feed-forward network from ``S``): the
        feed-forward part, which a sequence runs once on all its steps."""
        weights_pi = self._groups.select(params, non_trainable, 0)
        weights_v = self._groups.select(params, non_trainable, 1)
        X_pi, X_v = features
        if self._parts_pi is not None:
            Z = self._parts_pi.apply_top(*weights_pi, X_pi)
            Z = Z if self.discrete else tuple(Z)
        else:
            Z = self.policy.apply(*weights_pi, S)[0]
        V = (self._parts_v.apply_top(*weights_v, X_v)[:, 0] if self._parts_v is not None
             else self.v_func.apply(*weights_v, S)[0])
        return self.with_logvar_offset(Z), V

    def forward(self, params: tuple, non_trainable: tuple, S: Any) -> tuple[Any, Any]:
        """``Z`` and ``V`` of observations at the first step of their episodes (initial state)."""
        return self.forward_step(params, non_trainable, S, self.initial_state(S.shape[0]))[:2]

    def sample_step(self, params: tuple, non_trainable: tuple, S: Any, noise: Any, rnn_state: RolloutState,
                    starts: Any) -> tuple[Any, Any, Any, RolloutState]:
        """One vector step of a rollout: the state reset where an episode ``starts`` [batch],
        then actions ``A``, their ``logP``, the values ``V`` and the next rollout state."""
        return self._sample_with_params(params, non_trainable, S, noise, rnn_state, starts)[1:]

    def _sample_with_params(self, params: tuple, non_trainable: tuple, S: Any, noise: Any,
                            rnn_state: RolloutState, starts: Any) -> tuple[Any, ...]:
        rnn_state = reset_where(starts, self.initial_state(S.shape[0]), rnn_state)
        Z, V, rnn_state = self.forward_step(params, non_trainable, S, rnn_state)
        return (Z, *self.draw_actions(Z, noise), V, rnn_state)

    def sequence_forward(self, params: tuple, non_trainable: tuple, S: Any, starts: Any,
                         state0: RolloutState) -> tuple[Any, Any]:
        """``Z`` and ``V`` along time-major sequences ``S`` [T, batch, ...] from the rollout
        state ``state0``, reset where ``starts`` [T, batch]: a scan over time of the recurrent
        cores only, then the feed-forward layers and heads on all steps at once. Returned
        flattened time-major, [T * batch, ...] (step ``t`` of sequence ``b`` at ``t * batch + b``)."""
        initial = self.initial_state(S.shape[1])

        def step(rnn_state: RolloutState, xs: tuple) -> tuple[RolloutState, tuple]:
            S_t, starts_t = xs
            return self._cores(params, non_trainable, S_t, reset_where(starts_t, initial, rnn_state))[::-1]

        features = scan_recomputing(step, state0, (S, starts))[1]
        return self._tops(params, non_trainable, _flat(S), keras.tree.map_structure(_flat, features))

    def sequence_next_values(self, params: tuple, non_trainable: tuple, S: Any, starts: Any,
                             state0: RolloutState, S_next: Any) -> Any:
        r""":math:`V(s'_t)` [T, batch] for time-major sequences: the value of each step's next
        observation ``S_next`` (the final one after an episode end) with the state the step
        left, before any reset: what GAE bootstraps from after a time limit and at the end."""
        initial = self.initial_state(S.shape[1])

        def step(rnn_state: RolloutState, xs: tuple) -> tuple[RolloutState, Any]:
            S_t, starts_t, S_next_t = xs
            rnn_state = self._cores(params, non_trainable, S_t, reset_where(starts_t, initial, rnn_state))[1]
            return rnn_state, self._cores(params, non_trainable, S_next_t, rnn_state)[0]

        features = ops.scan(step, state0, (S, starts, S_next))[1]
        V = self._tops(params, non_trainable, _flat(S_next), keras.tree.map_structure(_flat, features))[1]
        return ops.reshape(V, S.shape[:2])

    def loss(self, params: tuple, state: TrainState, batch: dict[str, Any], key: Any,
             coefficients: Coefficients) -> tuple[Any, tuple[tuple, dict[str, Any]]]:
        """:meth:`OnPolicyLearner.loss` on a minibatch of env-major sequences (see
        :func:`sequence_batch`), the outputs from :meth:`sequence_forward`."""
        def time_major(x: Any) -> Any:
            return ops.swapaxes(x, 0, 1)

        Z, V_pred = self.sequence_forward(params, state.non_trainable, time_major(batch["S"]),
                                          time_major(batch["starts"]), batch["state0"])
        steps = {k: _flat(time_major(batch[k])) for k in _STEP_FIELDS}
        return self.loss_of_outputs(Z, V_pred, state, steps, coefficients)

    def _pack(self, batch: dict[str, Any]) -> Any:
        return batch  # minibatches gather whole sequences along the env axis

    def _unpack(self, X: Any) -> dict[str, Any]:
        return X

    def _packed_sample_step(self, params: tuple, non_trainable: tuple, S: Any, noise: Any,
                            rnn_state: RolloutState, starts: Any) -> tuple[Any, RolloutState]:
        Z, A, logP, V, rnn_state = self._sample_with_params(params, non_trainable, S, noise, rnn_state,
                                                            starts)
        return pack_columns(A, logP, V, Z), rnn_state

    # ------------------------------------------------------------------ host side
    @property
    def sequence_length(self) -> int:
        """Steps per training sequence: ``config.sequence_length``, else the whole rollout."""
        return self.config.sequence_length or self.config.n_steps

    @property
    def chunked(self) -> bool:
        """Whether training sequences are chunks of the rollout, which start from the states
        recorded at collection (so rollouts record the state at every step)."""
        return self.sequence_length < self.config.n_steps

    def envs_per_minibatch(self) -> int:
        """Whole sequences per minibatch: ``batch_size // sequence_length``, at least one."""
        return max(1, self.config.batch_size // self.sequence_length)

    def shuffles(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Each epoch's order of the rollout's ``size // sequence_length`` sequences, [num_epoch,
        num_minibatches, envs_per_minibatch] int32 (sequences beyond whole minibatches sit that
        epoch out)."""
        cfg, B = self.config, self.envs_per_minibatch()
        N = size // self.sequence_length
        M = max(1, N // B)
        B = min(B, N)
        orders = [rng.permutation(N)[:M * B] for _ in range(cfg.num_epoch)]
        return np.stack(orders).reshape(cfg.num_epoch, M, B).astype(np.int32)

    def act_step(self, S: np.ndarray, noise: np.ndarray, rnn_state: RolloutState,
                 starts: np.ndarray) -> tuple[dict[str, np.ndarray], RolloutState]:
        """:meth:`act` for one vector step of a rollout: the policy info, and the next state."""
        packed, rnn_state = self._act_step(self.state.params, self.state.non_trainable, S, noise,
                                           rnn_state, starts)
        return self.unpack_act(packed), rnn_state

    def step_outputs(self, S: np.ndarray, rnn_state: RolloutState) -> tuple[Any, np.ndarray, RolloutState]:
        """Distribution parameters (NumPy), values and the next state of one step (no reset)."""
        Z, V, rnn_state = self._step(self.state.params, self.state.non_trainable, S, rnn_state)
        Z = np.asarray(Z) if self.discrete else tuple(np.asarray(z) for z in Z)
        return Z, np.asarray(V), rnn_state

    def next_values(self, S: np.ndarray, starts: np.ndarray, state0: RolloutState,
                    S_next: np.ndarray) -> np.ndarray:
        """:meth:`sequence_next_values` with the learner's weights (time-major NumPy arrays)."""
        return np.asarray(self._next_values(self.state.params, self.state.non_trainable, S, starts,
                                            state0, S_next))


def _flat(x: Any) -> Any:
    """[T, batch, ...] -> [T * batch, ...] (None stays None)."""
    return None if x is None else ops.reshape(x, (-1, *x.shape[2:]))


def sequence_batch(S: Any, starts: Any, state0: RolloutState, steps: dict[str, Any], xp: Any = np,
                   states: Any = None, length: int | None = None) -> dict[str, Any]:
    """A rollout as the env-major training batch of :class:`RecurrentLearner`: ``S`` [T, N, ...]
    (normalised), ``starts`` [T, N], ``state0`` (the rollout state before step 0) and the
    per-step fields ``A``, ``logP``, ``V``, ``Adv``, ``R`` [T, N, ...]; ``xp`` is NumPy or
    ``jax.numpy``.

    With ``length`` < T (``config.sequence_length``), each env's column is cut into T / length
    sequences, which start from ``states``, the rollout states recorded before every step
    (a pytree of [T, N, ...]): sequence ``k * N + n`` is steps ``k * length`` to ``(k + 1) *
    length - 1`` of env ``n``.
    """
    T, N = starts.shape
    if length is None or length >= T:
        def env_major(x: Any) -> Any:
            return xp.swapaxes(x, 0, 1)

        state0_of_sequences = state0
    else:
        def env_major(x: Any) -> Any:
            chunks = xp.reshape(x, (T // length, length, N, *x.shape[2:]))
            return xp.reshape(xp.swapaxes(chunks, 1, 2), (T // length * N, length, *x.shape[2:]))

        state0_of_sequences = keras.tree.map_structure(
            lambda x: xp.reshape(x[::length], (T // length * N, *x.shape[2:])), states)
    return {"S": env_major(S), "starts": env_major(starts), "state0": state0_of_sequences,
            **{k: env_major(steps[k]) for k in _STEP_FIELDS}}


def rollout_sequences(learner: RecurrentLearner, rollout: Any, state0: RolloutState, S: np.ndarray,
                      S_next: np.ndarray) -> dict[str, Any]:
    """The training batch of a rollout of the ordinary path (:class:`plugrl.samplers.Rollout`,
    its ``info`` with ``"episode_start"``), from the normalised ``S`` and ``S_next`` [T, N, ...]
    and the state before its first step: GAE on :meth:`RecurrentLearner.next_values`."""
    starts, V_old = rollout.info["episode_start"], rollout.info["V"]
    V_next = learner.next_values(S, starts, state0, S_next)
    Adv, Rlambda = learner.advantages(rollout.R, V_old, V_next, rollout.terminated, rollout.truncated)
    states = None
    if learner.chunked:
        leaves = keras.tree.flatten(state0)
        states = keras.tree.pack_sequence_as(state0, [rollout.info[f"rnn_state/{i}"]
                                                      for i in range(len(leaves))])
    return sequence_batch(S, starts, state0, {"A": rollout.info["A"], "logP": rollout.info["logP"],
                                              "V": V_old, "Adv": Adv, "R": Rlambda},
                          states=states, length=learner.sequence_length)
