"""Soft actor-critic: entropy-regularised policy, state value and twin Q-functions."""

from __future__ import annotations

from typing import Any

from plugrl._backend import Array, Params, TrainState, keras, split_key
from plugrl.actor_critic.actor_critic import check_same_env
from plugrl.actor_critic.base import BaseActorCritic, Batch
from plugrl.function_approximators import FunctionApproximator, GroupedParams, grouped
from plugrl.policies.base import BaseUpdateablePolicy, DistParams
from plugrl.policies.gaussian import GaussianPolicy
from plugrl.policies.softmax import SoftmaxPolicy
from plugrl.proba_dists import CategoricalDist
from plugrl.updaters.policy_objectives import SoftPG, expected_soft_value
from plugrl.updaters.td_learning import clipped_double_q, td_target
from plugrl.value_functions import QTypeI, QTypeII, V

ops = keras.ops

__all__ = ["SoftActorCritic"]


class SoftActorCritic(BaseActorCritic):
    r"""Soft actor-critic (SAC), with entropy regularisation in the values and the policy.

    One jitted step minimises the sum of

    .. math::

        L_q\ &=\ \sum_{i=1,2}\hat{\mathbb{E}}\,\ell\big(R^{(n)} + I^{(n)} v(S_{t+n}),\
            q_i(S, A)\big) \\
        L_v\ &=\ \hat{\mathbb{E}}\,\ell\big(\mathbb{E}_{a\sim\pi}\{\min_i q_i(S, a)
            - \beta\log\pi(a|S)\},\ v(S)\big) \\
        L_\pi\ &=\ \hat{\mathbb{E}}\,\mathbb{E}_{a\sim\pi}\{\beta\log\pi(a|S) - \min_i q_i(S, a)\}

    (:class:`~plugrl.policy_objectives.SoftPG`), weighting :math:`L_v + L_q` by
    ``value_loss_weight``. For discrete actions the expectations over :math:`a` are exact;
    for continuous actions they use one reparametrised sample.

    Parameters
    ----------
    policy : SoftmaxPolicy or GaussianPolicy
        The actor, with ``update_strategy='sac'``; its ``entropy_beta`` is :math:`\beta`.
    v_func : V
        The state value function; its ``gamma``, ``bootstrap_n`` and
        ``bootstrap_with_target_model`` settings define the Q targets.
    q_func1, q_func2 : QTypeI or QTypeII
        The twin Q-functions (type II for discrete actions, type I for continuous ones).
    value_loss_weight : float, optional
        The weight of the value losses.
    """

    def __init__(self, policy: BaseUpdateablePolicy, v_func: V, q_func1: Any, q_func2: Any,
                 value_loss_weight: float = 1.0) -> None:
        _check_components(policy, v_func, q_func1, q_func2)
        self.policy, self.v_func, self.q_func1, self.q_func2 = policy, v_func, q_func1, q_func2
        self.value_loss_weight = float(value_loss_weight)
        self._components = (policy, v_func, q_func1, q_func2)
        super().__init__(self._components, "SoftActorCritic")

    @classmethod
    def from_func(cls, function_approximator: FunctionApproximator, gamma: float = 0.9,
                  bootstrap_n: int = 1, q_type: int | None = None, entropy_beta: float = 0.01,
                  random_seed: int | None = None, *, bootstrap_with_target_model: bool = True,
                  value_loss_weight: float = 1.0) -> SoftActorCritic:
        """Create policy, V and twin Q-functions on one function approximator (shared body).

        ``q_type`` is 2 (type-II Q) for discrete actions and 1 for continuous ones by default.
        """
        discrete = function_approximator.action_is_discrete
        q_type = q_type if q_type is not None else (2 if discrete else 1)
        if q_type not in (1, 2):
            raise ValueError(f"q_type: expected None, 1 or 2, got {q_type!r}")
        policy_class = SoftmaxPolicy if discrete else GaussianPolicy
        policy = policy_class(function_approximator, update_strategy="sac",
                              entropy_beta=entropy_beta, random_seed=random_seed)
        v_func = V(function_approximator, gamma, bootstrap_n, bootstrap_with_target_model)
        q_class = QTypeII if q_type == 2 else QTypeI
        q1, q2 = (q_class(function_approximator, gamma, bootstrap_n, head_id=f"sac_q{i}")
                  for i in (1, 2))
        return cls(policy, v_func, q1, q2, value_loss_weight)

    # ------------------------------------------------------------------ internals
    def _loss_fn(self, params: GroupedParams, state: TrainState, batch: Batch,
                 key: Array) -> tuple[Array, tuple[GroupedParams, dict[str, Array]]]:
        S, A, Rn, In, S_next, pi_targets, pi_target_nt, v_targets, v_target_nt = batch
        non_trainable = grouped(state.non_trainable)
        weights = [self._groups.select(params, non_trainable, i) for i in range(4)]
        key_pi, key_v = split_key(key)
        Z, _ = self.policy.apply(*weights[0], S, training=True)
        V_pred, _ = self.v_func.apply(*weights[1], S, training=True)
        v_boot = ((self.v_func.unravel_params(v_targets), v_target_nt)
                  if self.v_func.bootstrap_with_target_model else weights[1])
        G = ops.stop_gradient(td_target(Rn, In, self.v_func.apply(*v_boot, S_next)[0]))
        loss = self.q_func1.updater.loss
        q_loss = sum(ops.mean(loss(G, q.apply(*w, S, A, training=True)[0]))
                     for q, w in ((self.q_func1, weights[2]), (self.q_func2, weights[3])))
        Adv, V_target = self._soft_values(Z, S, weights[2:], key_v)
        Z_old = self.policy.apply(self.policy.unravel_params(pi_targets), pi_target_nt, S)[0]
        policy_loss, metrics = self.policy.policy_loss(Z, Z_old, A, Adv, key_pi)
        v_loss = ops.mean(loss(V_target, V_pred))
        metrics = {**metrics, "SoftActorCritic/q_loss": q_loss, "SoftActorCritic/v_loss": v_loss,
                   "SoftActorCritic/policy_loss": policy_loss}
        total = policy_loss + self.value_loss_weight * (q_loss + v_loss)
        return total, (non_trainable, metrics)

    def _soft_values(self, Z: DistParams, S: Array, q_weights: list[tuple[Params, Params]],
                     key: Array) -> tuple[Any, Array]:
        """What the policy maximises (``Adv`` for SoftPG: ``Q_s`` [batch_size, num_actions] for
        discrete actions, else a function of sampled actions) and the soft state value target
        [batch_size]."""
        beta = self.policy.objective.entropy_beta
        frozen = [keras.tree.map_structure(ops.stop_gradient, w) for w in q_weights]
        q1, q2 = self.q_func1, self.q_func2
        dist = self.policy.make_dist(keras.tree.map_structure(ops.stop_gradient, Z))
        if self.policy.function_approximator.action_is_discrete:
            assert isinstance(dist, CategoricalDist)  # discrete actions: a SoftmaxPolicy's
            Q_min = clipped_double_q(q1.apply_q_s(*frozen[0], S)[0], q2.apply_q_s(*frozen[1], S)[0])
            V_target = expected_soft_value(dist.probs, dist.log_probs, Q_min, beta)
            return Q_min, ops.stop_gradient(V_target)

        def q_min(A_sampled: Any) -> Any:
            return clipped_double_q(q1.apply(*frozen[0], S, A_sampled)[0],
                                    q2.apply(*frozen[1], S, A_sampled)[0])

        A_sampled = dist.sample(key)
        V_target = q_min(A_sampled) - beta * dist.log_proba(A_sampled)
        return q_min, ops.stop_gradient(V_target)


def _check_components(policy: Any, v_func: Any, q_func1: Any, q_func2: Any) -> None:
    if not isinstance(policy, BaseUpdateablePolicy) or not isinstance(policy.objective, SoftPG):
        raise TypeError("policy: expected a SoftmaxPolicy or GaussianPolicy with "
                        f"update_strategy='sac', got {type(policy).__name__} with "
                        f"{type(getattr(policy, 'objective', None)).__name__}")
    if not isinstance(v_func, V):
        raise TypeError(f"v_func: expected a plugrl.V, got {type(v_func).__name__}")
    for name, q in (("q_func1", q_func1), ("q_func2", q_func2)):
        if not getattr(q, "is_q_function", False):
            raise TypeError(f"{name}: expected a QTypeI or QTypeII, got {type(q).__name__}")
        check_same_env(policy, q, name)
    check_same_env(policy, v_func, "v_func")
    if q_func1.head is q_func2.head and q_func1.function_approximator is q_func2.function_approximator:
        raise ValueError("q_func2: expected a Q-function with weights of its own, got one that "
                         "shares q_func1's head; pass head_id='...' to one of them")
