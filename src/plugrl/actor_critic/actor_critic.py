"""The actor-critic: an updateable policy and a state value function, updated together."""

from __future__ import annotations

from typing import Any

from plugrl._backend import Array, TrainState, keras
from plugrl.actor_critic.base import BaseActorCritic, Batch
from plugrl.function_approximators import FunctionApproximator, GroupedParams, Member, grouped
from plugrl.policies.base import BaseUpdateablePolicy, DistParams
from plugrl.policies.gaussian import GaussianPolicy
from plugrl.policies.softmax import SoftmaxPolicy
from plugrl.updaters.td_learning import td_target
from plugrl.value_functions import V

ops = keras.ops

__all__ = ["ActorCritic"]


class ActorCritic(BaseActorCritic):
    r"""A generic actor-critic, combining an updateable policy with a state value function.

    One jitted step updates both, minimising

    .. math::

        L\ =\ L_\pi(\mathcal{A}) + w\,\hat{\mathbb{E}}\big\{\ell(G^{(n)}, v(S))\big\},\qquad
        \mathcal{A} = G^{(n)} - v(S),\quad G^{(n)} = R^{(n)} + I^{(n)}\,v(S_{t+n})

    When policy and value function share one function approximator, the body is evaluated
    once per batch for both heads.

    Parameters
    ----------
    policy : SoftmaxPolicy or GaussianPolicy
        An updateable policy (the actor); its target model is the "old" policy of PPO.
    v_func : V
        A state value function (the critic); its ``gamma``, ``bootstrap_n`` and
        ``bootstrap_with_target_model`` settings define :math:`G^{(n)}`.
    value_loss_weight : float, optional
        The weight :math:`w` of the value loss.
    """

    def __init__(self, policy: BaseUpdateablePolicy, v_func: V, value_loss_weight: float = 1.0) -> None:
        _check_components(policy, v_func)
        self.policy, self.v_func = policy, v_func
        self.value_loss_weight = float(value_loss_weight)
        self._components = (policy, v_func)
        func = policy.function_approximator
        # On one function approximator, one joint head evaluates the shared body once.
        self._joint_head = (func.joint_head_model((policy.head.name, v_func.head.name))
                            if func is v_func.function_approximator else None)
        members = [policy, v_func] if self._joint_head is None else [Member(func, self._joint_head)]
        super().__init__(members, "ActorCritic")
        # Bootstrapping from the primary model can share the forward pass of S, unless
        # non-trainable state (batch statistics) would then see S_next too.
        self._fold_bootstrap = (not v_func.bootstrap_with_target_model
                                and not self._groups.has_non_trainable)

    @classmethod
    def from_func(cls, function_approximator: FunctionApproximator, gamma: float = 0.9,
                  bootstrap_n: int = 1, bootstrap_with_target_model: bool = False,
                  entropy_beta: float = 0.01, update_strategy: Any = "vanilla",
                  random_seed: int | None = None, *, ppo_clip_eps: float = 0.2,
                  value_loss_weight: float = 1.0) -> ActorCritic:
        """Create policy and value function on one function approximator (shared body)."""
        policy_class = SoftmaxPolicy if function_approximator.action_is_discrete else GaussianPolicy
        policy = policy_class(function_approximator, update_strategy=update_strategy,
                              ppo_clip_eps=ppo_clip_eps, entropy_beta=entropy_beta,
                              random_seed=random_seed)
        v_func = V(function_approximator, gamma=gamma, bootstrap_n=bootstrap_n,
                   bootstrap_with_target_model=bootstrap_with_target_model)
        return cls(policy, v_func, value_loss_weight)

    # ------------------------------------------------------------------ internals
    def _loss_fn(self, params: GroupedParams, state: TrainState, batch: Batch,
                 key: Array) -> tuple[Array, tuple[GroupedParams, dict[str, Array]]]:
        S, A, Rn, In, S_next, pi_targets, pi_target_nt, v_targets, v_target_nt = batch
        v_func, policy = self.v_func, self.policy
        state_non_trainable = grouped(state.non_trainable)
        pi_target_params = policy.unravel_params(pi_targets)
        if self._fold_bootstrap:
            # v(S_next) from the primary model rides along in the same forward pass as S
            batch_size = S.shape[0]
            (Z, V_all), non_trainable = self._forward(params, state_non_trainable,
                                                      ops.concatenate([S, S_next], axis=0))
            Z = keras.tree.map_structure(lambda z: z[:batch_size], Z)
            V_pred, V_next = V_all[:batch_size], V_all[batch_size:]
        else:
            (Z, V_pred), non_trainable = self._forward(params, state_non_trainable, S)
            V_next = v_func.apply(v_func.unravel_params(v_targets), v_target_nt, S_next)[0]
        G = ops.stop_gradient(td_target(Rn, In, V_next))
        Adv = G - ops.stop_gradient(V_pred)
        Z_old = policy.apply(pi_target_params, pi_target_nt, S)[0]
        policy_loss, metrics = policy.policy_loss(Z, Z_old, A, Adv, key)
        value_loss = ops.mean(v_func.updater.loss(G, V_pred))
        metrics = {**metrics, "ActorCritic/policy_loss": policy_loss,
                   "ActorCritic/value_loss": value_loss, "ActorCritic/Adv": ops.mean(Adv)}
        return policy_loss + self.value_loss_weight * value_loss, (non_trainable, metrics)

    def _forward(self, params: GroupedParams, non_trainable: GroupedParams,
                 S: Array) -> tuple[tuple[DistParams, Array], GroupedParams]:
        """``(Z, V)`` of a batch of states, in training mode, and the updated non-trainables
        (one group per member: the joint head's, or the policy's and the value function's)."""
        if self._joint_head is not None:
            weights, nt = self._groups.select(params, non_trainable, 0)
            (Z, V_out), nt = self._joint_head.model.stateless_call(list(weights), list(nt), S,
                                                                   training=True)
            return (Z, V_out[:, 0]), (tuple(nt),)
        weights_pi, weights_v = (self._groups.select(params, non_trainable, i) for i in (0, 1))
        Z, nt_pi = self.policy.apply(*weights_pi, S, training=True)
        V_pred, nt_v = self.v_func.apply(*weights_v, S, training=True)
        return (Z, V_pred), (nt_pi, nt_v)


def _check_components(policy: Any, v_func: Any) -> None:
    if not isinstance(policy, BaseUpdateablePolicy):
        raise TypeError(f"policy: expected a SoftmaxPolicy or GaussianPolicy, got {type(policy).__name__}")
    if not isinstance(v_func, V):
        raise TypeError(f"v_func: expected a plugrl.V, got {type(v_func).__name__}")
    check_same_env(policy, v_func, "v_func")


def check_same_env(policy: Any, other: Any, name: str) -> None:
    """Raise if ``other`` was built for an env with other spaces than the policy's."""
    pi_func, other_func = policy.function_approximator, other.function_approximator
    for space in ("observation_space", "action_space"):
        if getattr(pi_func, space) != getattr(other_func, space):
            raise ValueError(
                f"{name}: expected a function approximator on the same env as the policy, got "
                f"{space} {getattr(other_func, space)} instead of {getattr(pi_func, space)}")
