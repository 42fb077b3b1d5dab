"""SoftmaxPolicy and GaussianPolicy: acting, updating, errors."""

from __future__ import annotations

import numpy as np
import pytest

import plugrl
from plugrl.predefined import LinearFunctionApproximator


def test_softmax_policy_samples_from_its_distribution(cartpole):
    pi = plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole, random_seed=0), random_seed=0)
    pi.set_weights([np.zeros((4, 2), np.float32), np.array([0.0, np.log(3.0)], np.float32)])
    s = np.zeros(4)
    np.testing.assert_allclose(pi.dist_params(s), [0.0, np.log(3.0)], rtol=1e-6)
    actions = np.array([pi(s) for _ in range(4000)])
    assert abs(actions.mean() - 0.75) < 0.025
    assert pi.greedy(s) == 1
    assert pi.batch_eval(np.zeros((5, 4))).shape == (5,)


def test_same_seed_same_actions(cartpole):
    make = lambda: plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole, random_seed=0),  # noqa: E731
                                        random_seed=7)
    a, b = make(), make()
    assert [a(np.zeros(4)) for _ in range(30)] == [b(np.zeros(4)) for _ in range(30)]


def test_vanilla_update_moves_towards_advantaged_action(cartpole):
    pi = plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole, lr=0.5, random_seed=0))
    s = np.ones(4, np.float32)
    for _ in range(10):
        pi.update(s, 1, 1.0)
    logits = pi.dist_params(s)
    assert logits[1] > logits[0]


def test_gaussian_policy_needs_box_actions_to_reals(pendulum, cartpole):
    with pytest.raises(ValueError, match="wrap the env with plugrl.wrappers.BoxActionsToReals"):
        plugrl.GaussianPolicy(LinearFunctionApproximator(pendulum))
    with pytest.raises(TypeError, match="GaussianPolicy expected a Box action space, got Discrete"):
        plugrl.GaussianPolicy(LinearFunctionApproximator(cartpole))
    with pytest.raises(TypeError, match="SoftmaxPolicy expected a Discrete action space, got Box"):
        plugrl.SoftmaxPolicy(LinearFunctionApproximator(pendulum))


def test_gaussian_policy_on_wrapped_pendulum(pendulum):
    env = plugrl.wrappers.BoxActionsToReals(pendulum)
    pi = plugrl.GaussianPolicy(LinearFunctionApproximator(env, random_seed=0), random_seed=0)
    s, _ = env.reset(seed=0)
    mu, logvar = pi.dist_params(s)
    assert mu.shape == logvar.shape == (1,)
    a = pi(s)
    assert a.shape == (1,) and np.isfinite(a).all()
    env.step(a)
    samples = pi.batch_eval(np.repeat(s[None], 4000, axis=0))
    assert abs(samples.mean()) < 0.06 and abs(samples.std() - 1.0) < 0.05  # N(0, 1) at start
    metrics = pi.batch_update(np.repeat(s[None], 8, 0), samples[:8], np.ones(8))
    assert np.isfinite(list(metrics.values())).all()


def test_box_actions_to_reals_squashes_into_the_box(pendulum):
    env = plugrl.wrappers.BoxActionsToReals(pendulum)
    assert np.isinf(env.action_space.low).all()
    np.testing.assert_allclose(env.action(np.array([0.0])), [0.0], atol=1e-6)
    np.testing.assert_allclose(env.action(np.array([50.0])), [2.0], atol=1e-5)
    np.testing.assert_allclose(env.action(np.array([-50.0])), [-2.0], atol=1e-5)
    with pytest.raises(ValueError, match="action: expected finite reals of shape"):
        env.action(np.array([np.nan]))


@pytest.mark.parametrize("kwargs, message", [
    ({"ppo_clip_eps": 0.0}, "ppo_clip_eps: expected a float > 0, got 0.0"),
    ({"ppo_clip_eps": -0.2}, "ppo_clip_eps: expected a float > 0, got -0.2"),
    ({"entropy_beta": -1.0}, "entropy_beta: expected a float >= 0, got -1.0"),
    ({"update_strategy": "a2c"}, "update_strategy: expected one of"),
])
def test_bad_policy_arguments(cartpole, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole), **kwargs)


def test_advantages_must_match_the_batch(cartpole):
    pi = plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole))
    with pytest.raises(ValueError, match=r"Adv: expected shape \[3\] \(the batch size of S\), got \(2,\)"):
        pi.batch_update(np.zeros((3, 4)), [0, 1, 0], [1.0, 2.0])
    with pytest.raises(ValueError, match="Adv: expected finite values"):
        pi.batch_update(np.zeros((2, 4)), [0, 1], [1.0, np.nan])


def test_nan_distribution_parameters_raise(cartpole):
    pi = plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole))
    pi.set_weights([np.full((4, 2), np.nan, np.float32), np.zeros(2, np.float32)])
    with pytest.raises(ValueError,
                       match="SoftmaxPolicy distribution parameters.*expected finite values, got nan"):
        pi(np.ones(4))


def test_custom_policy_loss_override(cartpole):
    """policy_loss_with_metrics is the override point; self.dist is the current policy."""
    class AlwaysAction0(plugrl.SoftmaxPolicy):
        def policy_loss_with_metrics(self, Adv, A=None):
            loss = -self.dist.log_proba(np.zeros(len(Adv), np.int32)).mean()
            return loss, {"custom/loss": loss}

    pi = AlwaysAction0(LinearFunctionApproximator(cartpole, lr=0.5))
    metrics = pi.batch_update(np.ones((4, 4)), [1, 1, 1, 1], np.ones(4))
    assert "custom/loss" in metrics
    for _ in range(10):
        pi.batch_update(np.ones((4, 4)), [1, 1, 1, 1], np.ones(4))
    assert pi.greedy(np.ones(4)) == 0


def test_cross_entropy_policy_accepts_propensities(cartpole):
    pi = plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole, lr=1.0), update_strategy="cross_entropy",
                              entropy_beta=0.0)
    P = np.tile([0.2, 0.8], (8, 1))
    for _ in range(50):
        pi.batch_update(np.zeros((8, 4)), P, np.zeros(8))
    logits = pi.dist_params(np.zeros(4))
    probs = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(probs, [0.2, 0.8], atol=0.02)


def test_policy_loss_is_the_loss_of_an_update_step(cartpole, mlp_class):
    """policy_loss(Z, Z_old, A, Adv) is what the policy's own step minimises (the actor-critics
    call it inside theirs)."""
    pi = plugrl.SoftmaxPolicy(mlp_class(cartpole, random_seed=0), update_strategy="ppo",
                              random_seed=0)
    S = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    A, Adv = np.array([0, 1, 1, 0, 1, 0]), np.linspace(-1.0, 1.0, 6).astype(np.float32)
    state = pi.train_state
    Z, _ = pi.apply(state.params, state.non_trainable, S)
    Z_old, _ = pi.apply(pi.unravel_params(state.target_params), state.target_non_trainable, S)
    loss, metrics = pi.policy_loss(Z, Z_old, A, Adv, key=pi.next_key())
    assert "PPOClip/entropy" in metrics
    step_metrics = pi.batch_update(S, A, Adv)
    assert step_metrics["SoftmaxPolicy/loss"] == pytest.approx(float(loss), rel=1e-5)
    assert pi.dist is None and pi.target_dist is None  # set only while a loss is traced


def test_next_key_follows_the_random_seed(cartpole):
    def keys(seed):
        pi = plugrl.SoftmaxPolicy(LinearFunctionApproximator(cartpole), random_seed=seed)
        return [np.asarray(pi.next_key()).tolist() for _ in range(3)]

    assert keys(3) == keys(3)
    assert len({tuple(k) for k in keys(3)}) == 3 and keys(3) != keys(4)
