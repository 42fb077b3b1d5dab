"""EpsilonGreedy, RandomPolicy and UserInputPolicy."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest

import plugrl
from plugrl.predefined import LinearFunctionApproximator


def q_with_values(env, W, b):
    q = plugrl.QTypeII(LinearFunctionApproximator(env, random_seed=0))
    q.set_weights([np.asarray(W, np.float32), np.asarray(b, np.float32)])
    return q


def test_epsilon_greedy_frequencies_match_propensities(cartpole):
    q = q_with_values(cartpole, np.zeros((4, 2)), [0.0, 1.0])  # action 1 is greedy everywhere
    pi = plugrl.EpsilonGreedy(q, epsilon=0.3, random_seed=0)
    s = np.zeros(4)
    np.testing.assert_allclose(pi.dist_params(s), [0.15, 0.85])
    actions = np.array([pi(s) for _ in range(2000)])
    assert abs(actions.mean() - 0.85) < 0.03
    assert pi.greedy(s) == 1


def test_epsilon_greedy_breaks_ties_at_random(cartpole):
    q = q_with_values(cartpole, np.zeros((4, 2)), [0.0, 0.0])
    pi = plugrl.EpsilonGreedy(q, epsilon=0.0, random_seed=1)
    greedy = np.array([pi.greedy(np.zeros(4)) for _ in range(1000)])
    assert 0.45 < greedy.mean() < 0.55
    np.testing.assert_allclose(pi.dist_params(np.zeros(4)), [0.5, 0.5])


def test_epsilon_greedy_is_reproducible_and_set_epsilon(cartpole):
    q = q_with_values(cartpole, np.zeros((4, 2)), [0.0, 0.0])
    first = [plugrl.EpsilonGreedy(q, 0.5, random_seed=3)(np.zeros(4)) for _ in range(1)]
    a = plugrl.EpsilonGreedy(q, 0.5, random_seed=3)
    b = plugrl.EpsilonGreedy(q, 0.5, random_seed=3)
    assert [a(np.zeros(4)) for _ in range(50)] == [b(np.zeros(4)) for _ in range(50)]
    assert first[0] in (0, 1)
    assert a.set_epsilon(0.25) is a and a.epsilon == 0.25
    with pytest.raises(ValueError, match=r"epsilon: expected a float in \[0, 1\], got 1.5"):
        a.set_epsilon(1.5)


def test_epsilon_greedy_needs_a_q_function(cartpole):
    v = plugrl.V(LinearFunctionApproximator(cartpole))
    with pytest.raises(TypeError, match="q_function: expected a QTypeI or QTypeII, got V"):
        plugrl.EpsilonGreedy(v)


def test_random_policy_is_seeded_and_leaves_env_space_alone(cartpole, pendulum):
    a = plugrl.RandomPolicy(cartpole, random_seed=0)
    b = plugrl.RandomPolicy(cartpole, random_seed=0)
    assert [a(None) for _ in range(20)] == [b(None) for _ in range(20)]
    assert a.action_space is not cartpole.action_space
    np.testing.assert_allclose(a.dist_params(None), [0.5, 0.5])
    low, high = plugrl.RandomPolicy(pendulum, 0).dist_params(None)
    np.testing.assert_allclose([low[0], high[0]], [-2.0, 2.0])
    assert pendulum.action_space.contains(plugrl.RandomPolicy(pendulum, 0)(None))


def test_user_input_policy_reads_and_reprompts(cartpole):
    out = io.StringIO()
    pi = plugrl.UserInputPolicy(cartpole, input_stream=io.StringIO("7\nleft\n1\n"), output_stream=out)
    assert pi(np.zeros(4)) == 1
    text = out.getvalue()
    assert text.count("Choose an action in {0, ..., 1}") == 3
    assert "invalid action '7'" in text and "invalid action 'left'" in text


def test_user_input_policy_box_and_end_of_input(pendulum):
    pi = plugrl.UserInputPolicy(pendulum, input_stream=io.StringIO("0.5\n"), output_stream=io.StringIO())
    np.testing.assert_allclose(pi(np.zeros(3)), [0.5])
    with pytest.raises(EOFError):
        pi(np.zeros(3))


def test_user_input_policy_from_stdin(cartpole, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("0\n"))
    assert plugrl.UserInputPolicy(cartpole)(np.zeros(4)) == 0
    assert "Choose an action" in capsys.readouterr().out


def test_user_input_policy_asks_again_for_an_unavailable_action():
    """An env with ``available_actions`` (wrapped, as gymnasium.make wraps it) narrows the valid
    actions: a full column is refused with the list, then asked again; the ANSI board is shown."""
    env = gym.make("ConnectFour-v0", render_mode="ansi")
    env.reset()
    for _ in range(6):  # column 3 full
        env.step(3)
    out = io.StringIO()
    pi = plugrl.UserInputPolicy(env, render_before_prompt=True, prompt="Your move: a column",
                                input_stream=io.StringIO("x\n9\n3\n4\n"), output_stream=out)
    assert pi(None) == 4
    text = out.getvalue()
    assert text.startswith(env.render())  # the board, then the questions
    assert text.count("Your move: a column in [0, 1, 2, 4, 5, 6]: ") == 4
    assert "invalid action 'x'" in text and "invalid action '9'" in text
    assert "action 3 is not available now; choose one of [0, 1, 2, 4, 5, 6]" in text


def test_user_input_policy_refuses_to_ask_when_no_action_is_available():
    env = gym.make("ConnectFour-v0")
    env.reset()
    for a in (0, 1, 0, 1, 0, 1, 0):  # the first player's vertical four: the game is over
        env.step(a)
    with pytest.raises(ValueError, match="available_actions: expected at least one action"):
        plugrl.UserInputPolicy(env, input_stream=io.StringIO("2\n"), output_stream=io.StringIO())(None)


def test_is_policy_and_function_checks(cartpole):
    from plugrl.utils import is_policy, is_qfunction, is_vfunction

    func = LinearFunctionApproximator(cartpole)
    q1, q2, v = plugrl.QTypeI(func), plugrl.QTypeII(func), plugrl.V(func)
    pi = plugrl.EpsilonGreedy(q2)
    assert is_qfunction(q1) and is_qfunction(q1, 1) and not is_qfunction(q1, 2)
    assert is_qfunction(q2, 2) and not is_qfunction(v)
    assert is_vfunction(v) and not is_vfunction(q2)
    assert is_policy(pi) and is_policy(plugrl.RandomPolicy(cartpole)) and not is_policy(q2)
    assert not is_policy(pi, check_updateable=True)
    with pytest.raises(ValueError, match="qtype: expected None, 1 or 2, got 3"):
        is_qfunction(q1, 3)
