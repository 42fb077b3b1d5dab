"""The seed's FrozenLake actor-critic notebook with a Keras optimizer on a shared linear body.

keras-gym chooses the optimizer with ``FunctionApproximator(env, optimizer=keras.optimizers.Adam(...))``
and builds the policy and the state value function on one function approximator."""

from __future__ import annotations

import pytest
from _frozen_lake import greedy_return, make_env

import plugrl
from plugrl._backend import keras


@pytest.mark.parametrize("seed", [0, 3])
def test_frozen_lake_actor_critic_with_keras_adam_on_a_shared_body_reaches_the_goal(seed):
    """Within 600 episodes (checked every 20) the greedy policy reaches the goal.

    Adam's learning rate 0.01: at 0.1 only one of seeds 0-3 learned within 400 episodes, with
    Keras' Adam and optax's alike; at 0.01 all four did, as with the example's SGD at 0.5."""
    env = make_env()
    func = plugrl.predefined.LinearFunctionApproximator(
        env, optimizer=keras.optimizers.Adam(learning_rate=0.01), random_seed=seed)
    pi = plugrl.SoftmaxPolicy(func, update_strategy="ppo", entropy_beta=0.0, random_seed=seed)
    v = plugrl.V(func, gamma=0.9, bootstrap_n=1)
    actor_critic = plugrl.ActorCritic(pi, v)
    solved_at = None
    for ep in range(600):
        s, _ = env.reset(seed=ep)
        done = False
        while not done:
            a = pi(s)
            s_next, r, terminated, truncated, _ = env.step(a)
            actor_critic.update(s, a, r, terminated, truncated=truncated, s_next=s_next)
            done = terminated or truncated
            s = s_next
        actor_critic.sync_target_model(tau=1.0)
        if ep % 20 == 19 and greedy_return(env, pi) == 1.0:
            solved_at = ep
            break
    assert solved_at is not None, "the greedy policy did not reach the goal within 600 episodes"
