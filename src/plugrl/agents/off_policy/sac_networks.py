r"""The networks of soft actor-critic: the actor, the twin critics and their shared weights.

:class:`SACNetworks` builds the networks and gives pure forward functions over explicit weights.
The weights are split by what trains them: the *actor's* (its own layers) and the *critics'*
(both critics, and any body they share with the actor), so that each loss is differentiated with
respect to its own network only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from plugrl._backend import TrainState, init_train_state, keras, normal_noise
from plugrl.agents.config import SACConfig
from plugrl.function_approximators import FunctionApproximator
from plugrl.function_approximators.parameter_groups import Member, ParameterGroups
from plugrl.function_approximators.predefined.mlp import MLP, CriticMLP, policy_spaces
from plugrl.proba_dists.squashed_normal import squashed_log_std, squashed_sample
from plugrl.value_functions import QTypeI, QTypeII

ops = keras.ops

__all__ = ["SACModules", "SACNetworks", "SACState"]

#: One of the twin critics: a type-I Q-function for Box actions, type-II for discrete ones.
_Critic = QTypeI | QTypeII


class SACState(NamedTuple):
    """Everything SAC trains, as one pytree (what checkpoints save).

    Attributes
    ----------
    actor : TrainState
        The policy's own weights and optimizer state (its target fields are unused and empty).
    critic : TrainState
        The twin critics' weights (and any body they share with the actor), their targets, the
        non-trainable variables of all networks and the critics' optimizer state.
    ent_coeff : TrainState
        ``params = (log_alpha,)`` and its optimizer state.
    num_updates : int32 scalar
        Gradient steps so far; the targets move when it reaches a multiple of
        ``target_update_intvl``.
    """

    actor: TrainState
    critic: TrainState
    ent_coeff: TrainState
    num_updates: Any


class SACModules(NamedTuple):
    """pyrado's networks of SAC (seed 004): ``policy`` (the actor) and the twin critics
    ``qfcn_1``, ``qfcn_2``, each a plugrl object (a policy, a :class:`~plugrl.QTypeI` or
    :class:`~plugrl.QTypeII`) or its :class:`~plugrl.FunctionApproximator`; None: the default MLP.
    The actor uses ``head_pi``, the critics ``head_q1`` (``Box`` actions) or ``head_q2``."""

    policy: Any = None
    qfcn_1: Any = None
    qfcn_2: Any = None


class SACNetworks:
    """The actor and the twin critics of SAC, and pure functions over their weights.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box
        The observation space of one environment.
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        The action space of one environment; a ``Box`` must have finite bounds.
    config : SACConfig
        Gives ``hidden_sizes``, ``activation``, ``gamma`` and ``bootstrap_n``.
    seed : int
        Seeds the weight initialisation.
    function_approximator : FunctionApproximator, optional
        A user-made body shared by the actor (``head_pi``) and both critics (``head_q1`` on
        ``body_q1`` for ``Box`` actions, ``head_q2`` for discrete ones, each critic with a head of
        its own). The shared weights are trained by the critics' loss only; the actor's gradient
        stops at its head (as SAC-AE and DrQ do for shared encoders). By default separate MLPs
        of ``config.hidden_sizes``: the actor on :math:`s`, each critic on :math:`(s, a)`.
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, config: SACConfig,
                 seed: int, function_approximator: Any = None) -> None:
        self.config = config
        self.action_space = _check_action_space(action_space)
        self.discrete = isinstance(self.action_space, gym.spaces.Discrete)
        self.policy, self.q_funcs = self._build_functions(observation_space, self.action_space, seed,
                                                          function_approximator)
        self._groups = ParameterGroups([self.policy, *self.q_funcs])
        self._owners = self._ownership()

    # ------------------------------------------------------------------ construction
    def _build_functions(self, observation_space: gym.Space, action_space: gym.Space, seed: int,
                         function_approximator: Any) -> tuple[Member, tuple[_Critic, _Critic]]:
        cfg = self.config
        spaces = policy_spaces(observation_space, action_space)
        if function_approximator is None or isinstance(function_approximator, SACModules):
            user = function_approximator or SACModules()
            actor = _user_function(user.policy, "policy", action_space)
            if actor is None:
                actor = MLP(spaces, cfg.hidden_sizes, cfg.activation, random_seed=seed)
            users = [_user_function(q, f"qfcn_{i}", action_space) for i, q in enumerate(user[1:], 1)]
            critics = [CriticMLP(spaces, cfg.hidden_sizes, cfg.activation, random_seed=seed + i)
                       if f is None else f for i, f in enumerate(users, 1)]
            given = user[1:]
        else:
            _check_function_approximator(function_approximator, action_space)
            actor = function_approximator
            critics, given = [function_approximator] * 2, (None, None)
        q_class = QTypeII if self.discrete else QTypeI
        # A user's Q-function object is the critic itself (its own head); a function approximator
        # gets a head of its own per critic.
        q1, q2 = (q if isinstance(q, q_class) else q_class(f, cfg.gamma, cfg.bootstrap_n, head_id=f"sac_q{i}")
                  for i, (f, q) in enumerate(zip(critics, given, strict=True), 1))
        return Member(actor, actor.head_model("pi")), (q1, q2)

    def _ownership(self) -> list[list[tuple[str, int]]]:
        """For each group's trainable variable: ``('actor' | 'critic', index)`` in that network's
        parameters. A variable any critic uses belongs to the critics."""
        critics = [self._groups.member(i) for i in range(1, len(self._groups))]
        critic_used = {(member.group, j) for member in critics for j in member.trainable}
        owners: list[list[tuple[str, int]]] = []
        counts = {"actor": 0, "critic": 0}
        for g, (positions, _) in enumerate(self._groups.positions):
            owners.append([])
            for j in range(len(positions)):
                owner = "critic" if (g, j) in critic_used else "actor"
                owners[g].append((owner, counts[owner]))
                counts[owner] += 1
        return owners

    def split(self, params: tuple) -> tuple[tuple, tuple]:
        """Group-ordered parameters as ``(actor, critic)`` tuples."""
        parts: dict[str, list] = {"actor": [], "critic": []}
        for group, owners in zip(params, self._owners):
            for value, (owner, _) in zip(group, owners):
                parts[owner].append(value)
        return tuple(parts["actor"]), tuple(parts["critic"])

    def join(self, actor: tuple, critic: tuple) -> tuple:
        """The inverse of :meth:`split`."""
        parts = {"actor": actor, "critic": critic}
        return tuple(tuple(parts[owner][i] for owner, i in owners) for owners in self._owners)

    def nest(self, non_trainable: tuple) -> tuple:
        """The flat non-trainable variables of the state, grouped as :class:`ParameterGroups` has them."""
        out, start = [], 0
        for _, positions in self._groups.positions:
            out.append(tuple(non_trainable[start:start + len(positions)]))
            start += len(positions)
        return tuple(out)

    def init_state(self, optimizer: Any, ent_coeff_init: float) -> SACState:
        """The initial state: current weights, targets equal to them, fresh optimizer states."""
        params, non_trainable = self._groups.gather()
        actor_params, critic_params = self.split(params)
        actor = _without_target(init_train_state(actor_params, (), optimizer))
        # Flat: the Polyak update of the target's non-trainable variables takes a flat tuple.
        critic = init_train_state(critic_params, sum(non_trainable, ()), optimizer)
        log_alpha = (np.log(np.float32(ent_coeff_init)),)
        ent_coeff = init_train_state(log_alpha, (), optimizer)
        return SACState(actor, critic, _without_target(ent_coeff), np.zeros((), np.int32))

    # ------------------------------------------------------------------ pure forward functions
    def policy_forward(self, params: tuple, non_trainable: tuple, S: Any) -> Any:
        """Logits, or ``(mu, log_std)`` with the log standard deviations clipped."""
        Z, _ = self.policy.head.model.stateless_call(list(params), list(non_trainable), S)
        if self.discrete:
            return Z
        mu, logvar = Z
        return mu, squashed_log_std(logvar)

    def policy_params(self, actor: tuple, critic: tuple, non_trainable: tuple, S: Any) -> Any:
        """:meth:`policy_forward` with the weights taken from the actor's and critics' parameters."""
        weights = self._groups.select(self.join(actor, critic), self.nest(non_trainable), 0)
        return self.policy_forward(*weights, S)

    def critics(self, actor: tuple, critic: tuple, non_trainable: tuple, S: Any,
                A: Any = None) -> tuple[Any, Any]:
        """Both critics: ``Q_sa`` at ``A``, or ``Q_s`` over all discrete actions if ``A`` is None."""
        params = self.join(actor, critic)
        out = []
        for i, q in enumerate(self.q_funcs, 1):
            weights = self._groups.select(params, self.nest(non_trainable), i)
            out.append(q.apply_q_s(*weights, S)[0] if A is None else q.apply(*weights, S, A)[0])
        return out[0], out[1]

    def sample(self, Z: Any, key: Any) -> tuple[Any, Any, Any]:
        """``(A, logP, probs)``: a squashed sample and its log-density (``Box``), or, for discrete
        actions, ``A = None``, the log-probabilities and the probabilities of every action."""
        if self.discrete:
            log_probs = ops.log_softmax(Z, axis=-1)
            return None, log_probs, ops.exp(log_probs)
        mu, log_std = Z
        A, logP = squashed_sample(mu, log_std, normal_noise(key, mu.shape, mu.dtype))
        return A, logP, None

    def actor_weights(self, state: SACState) -> tuple[tuple, tuple]:
        """``(params, non_trainable)`` of the policy head, for :meth:`policy_forward`."""
        params = self.join(state.actor.params, state.critic.params)
        return self._groups.select(params, self.nest(state.critic.non_trainable), 0)

    def keras_models(self, state: SACState) -> dict[str, keras.Model]:
        """The actor and both critics as Keras models, with the weights of ``state``."""
        self._groups.scatter(self.join(state.actor.params, state.critic.params),
                             self.nest(state.critic.non_trainable))
        for func in self._groups.funcs:
            func.sync_keras_variables()
        return {"actor": self.policy.head.model, "q1": self.q_funcs[0].head.model,
                "q2": self.q_funcs[1].head.model}


def _check_action_space(space: gym.Space) -> gym.spaces.Discrete | gym.spaces.Box:
    """The env's action space, checked: ``Discrete``, or a ``Box`` with finite bounds."""
    if not isinstance(space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise TypeError(f"env.action_space: SAC expected a Discrete or Box space, got {space}")
    if isinstance(space, gym.spaces.Box) and not np.all(np.isfinite(space.low) & np.isfinite(space.high)):
        raise ValueError(f"env.action_space: SAC expected a Box with finite bounds (its policy "
                         f"is squashed into them), got {space}")
    return space


def _without_target(state: TrainState) -> TrainState:
    """``state`` with an empty target vector instead of a copy of its weights: the actor's and
    the entropy coefficient's targets are never read."""
    return state._replace(target_params=ops.zeros((0,), "float32"))


def _user_function(obj: Any, name: str, action_space: gym.Space) -> FunctionApproximator | None:
    """The function approximator of a user's network (``obj`` or its ``function_approximator``)."""
    if obj is None:
        return None
    func = getattr(obj, "function_approximator", obj)
    if not isinstance(func, FunctionApproximator):
        raise TypeError(f"{name}: expected a plugrl policy, Q-function or FunctionApproximator, "
                        f"got {type(obj).__name__}")
    if func.action_space != action_space:
        raise ValueError(f"{name}: expected the env's action space {action_space}, got {func.action_space}")
    return func


def _check_function_approximator(func: Any, action_space: gym.Space) -> None:
    if getattr(func, "action_space", None) != action_space:
        raise ValueError(f"function_approximator: expected the env's action space {action_space}, "
                         f"got {getattr(func, 'action_space', None)}")
